"""The determination article in Markdown: verdict first, then the criteria with the record's words.

Order: title, verdict, criteria per service, setting, pitfalls, what would change the decision,
missing information, to strengthen the request, final determination, references, related
questions, disclaimer, policy set and date.
"""

from __future__ import annotations

from datetime import date

from indicated.kb.loader import Knowledge, bundled
from indicated.models import Assessment, CriterionResult, Determination, ServiceResult

D = Determination
STATUS_MARK = {"met": "✅ met", "not_met": "❌ not met", "unknown": "❔ not documented"}
TITLE = {
    D.MEDICALLY_NECESSARY: "Medically necessary",
    D.PARTIALLY_MEDICALLY_NECESSARY: "Partially medically necessary",
    D.NOT_MEDICALLY_NECESSARY: "Criteria not met — physician review",
    D.INSUFFICIENT_INFORMATION: "Insufficient information",
    D.NO_APPLICABLE_POLICY: "No applicable policy",
}
DISCLAIMER = (
    "This article applies published criteria to the words of the record. It is decision support, "
    "not a coverage decision or medical advice: a criterion not met is referred to a physician reviewer, "
    "never denied automatically, and the treating clinician's judgement governs care."
)


def to_markdown(assessment: Assessment, *, kb: Knowledge | None = None, today: date | None = None, **_: object) -> str:
    kb = kb or bundled()
    a = assessment
    out = [f"# {_title(a)}", "", f"**{TITLE[a.determination]}.** {a.summary}", ""]
    for s in a.services:
        out += _service(s)
    if a.setting is not None:
        out += [f"## Setting: {a.setting.requested or 'not requested'} (recommended: {a.setting.recommended})", ""]
        if a.setting.determination is not None:
            out += [
                f"Determination: **{a.setting.determination.value.replace('_', ' ')}**. " + " ".join(a.setting.reasons),
                "",
            ]
        if a.setting.length_of_stay_days:
            out += [f"Requested length of stay: {a.setting.length_of_stay_days:g} days.", ""]
        out += [*_criteria(a.setting.criteria), ""]
    policies = [kb.policies[p.id] for p in {s.policy.id: s.policy for s in a.services if s.policy}.values()]
    out += _section("Which sources the criteria follow, and where they disagree", [p.follows for p in policies])
    out += _section("Common pitfalls", [p for pol in policies for p in pol.pitfalls])
    out += _section("What would change the determination", a.would_change)
    out += _section("Missing information (to document)", a.missing_information)
    out += _section("To strengthen the request", [p for pol in policies for p in pol.strengthen])
    out += ["## Final determination", ""]
    out += [
        f"{i}. {s.code} ({s.description or 'no description'}): {s.determination.value.replace('_', ' ')}"
        for i, s in enumerate(a.services, 1)
    ] or ["1. No service was identified in the request."]
    if a.setting is not None and a.setting.determination is not None:
        out.append(
            f"{len(a.services) + 1}. {a.setting.requested} setting: {a.setting.determination.value.replace('_', ' ')}"
        )
    out += ["", "## References", ""]
    out += [f"{r.n}. {r.issuer}. {r.title}. {r.year or 'n.d.'}." + _ids(r.identifiers) for r in a.references] or [
        "None cited."
    ]
    out += _section("Related questions", a.related_questions)
    out += ["## Disclaimer", "", DISCLAIMER, ""]
    versions = ", ".join(f"{s.policy.id} {s.policy.version}" for s in a.services if s.policy and not s.serves)
    out += [
        f"*Policy set: {a.policy_set}; policies: {versions or 'none'}; engine {a.engine_version}; "
        f"date {(today or date.today()).isoformat()}.*",
        "",
    ]
    return "\n".join(out)


def _title(a: Assessment) -> str:
    primary = next((s for s in a.services if not s.serves), None)
    if primary is None:
        return "Medical necessity: no requested service identified"
    where = f" at {', '.join(primary.levels)}" if primary.levels else ""
    side = f", {primary.side}" if primary.side else ""
    return f"{primary.description or primary.code} ({primary.code}){where}{side}"


def _service(s: ServiceResult) -> list[str]:
    head = f"## {s.code} — {s.description or 'unrecognised service'}: {s.determination.value.replace('_', ' ')}"
    lines = [head, ""]
    if s.policy is not None and not s.serves:
        lines += [f"Policy: {s.policy.title} ({s.policy.id}, version {s.policy.version}).", ""]
    lines += [r for r in s.reasons] + ([""] if s.reasons else [])
    return lines + _criteria(s.criteria) + [""]


def _criteria(criteria: list[CriterionResult]) -> list[str]:
    lines = []
    for c in criteria:
        cites = "".join(f"[{n}]" for n in c.citations)
        quote = "; ".join(f"“{e.text}”" for e in c.evidence[:4])
        lines.append(f"{'  ' * c.depth}- **{STATUS_MARK[c.status]}** — {c.statement} {cites}".rstrip())
        if quote:
            lines.append(f"{'  ' * c.depth}  - From the record: {quote}")
    return lines


def _section(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    return [f"## {title}", "", *(f"- {i}" for i in dict.fromkeys(items)), ""]


def _ids(ids: dict[str, str]) -> str:
    parts = [
        f"PMID {ids['pmid']}" if "pmid" in ids else "",
        f"doi:{ids['doi']}" if "doi" in ids else "",
        ids.get("url", ""),
    ]
    return (" " + "; ".join(p for p in parts if p) + ".") if any(parts) else ""
