"""The determination article in Markdown for clinicians (the default) and reviewers.

Clinician order: title, verdict with its reasons, criteria per service and the setting with the
record's words, component questions, where the sources disagree, pitfalls, what would change the
determination, how to strengthen the request, final determination as numbered reasons, references,
related questions, disclaimer, policy set and date. The reviewer version opens with one table of
every criterion and an audit block instead of the criteria trees, because reviewers work down a list.

Rendering reads the Assessment alone (the policies it applied travel with it as snapshots), so an
article stored years ago renders as it was decided, whatever the knowledge says today.
"""

from __future__ import annotations

import hashlib
from datetime import date

from indicated.models import (
    Assessment,
    CriterionResult,
    Determination,
    PolicyRef,
    PolicySnapshot,
    ServiceResult,
)
from indicated.reasons import checklist, excluded, record_words
from indicated.render.parts import Citations, footer, reference_line
from indicated.render.patient import to_patient_markdown
from indicated.wording import WORDING

__all__ = ["DISCLAIMER", "SECTIONS", "checklist_items", "title", "to_markdown"]

D = Determination
# plain symbols that every common font holds (emoji show as empty boxes where no emoji font is installed)
STATUS_MARK = {"met": "✓ met", "not_met": "✗ not met", "unknown": "? not documented"}
TAKEN_AS_ABSENT = "not mentioned (taken as absent)"
# a failed exclusion: the fact found, instead of "not met" over a negated statement
EXCLUDED = "✗ excluded"
QUOTES = 3  # record quotes on one checklist line
# an article stored before policies travelled with it names them, but not what they say
NOT_STORED = "Not stored with this article."
DISCLAIMER = (
    "This article applies published criteria to the words of the record. It is decision support, "
    "not a coverage decision or medical advice: a criterion not met is referred to a physician reviewer, "
    "never denied automatically, and the treating clinician's judgement governs care."
)
# The level-2 headings every clinician article carries, in order (tests and the HTML page rely on them).
SECTIONS = (
    "Criteria",
    "Component questions",
    "Where the sources agree and disagree",
    "Common pitfalls",
    "What would change the determination",
    "Final determination",
    "References",
    "Related questions",
    "Disclaimer",
)


def to_markdown(
    assessment: Assessment,
    *,
    today: date | None = None,
    audience: str = "clinician",
    **_: object,
) -> str:
    """The article for ``audience``; other options (a ``kb`` from older callers) are ignored."""
    if audience == "patient":
        return to_patient_markdown(assessment, today=today)
    a = assessment
    policies = _policies(a)
    cite = Citations(a.references)
    follows = [p.follows for p in policies if p.follows] or [NOT_STORED if policies else "No policy applied."]
    out = [f"# {title(a)}", "", f"**{WORDING[a.determination].title}.** {a.summary}", ""]
    if audience == "reviewer":
        out += _review_table(a, cite) + _audit(a, policies)
    else:
        out += _criteria_section(a, cite)
    out += _operative(a)
    out += _components(a, cite)
    out += _section("Where the sources agree and disagree", follows)
    out += _section("Common pitfalls", [p for pol in policies for p in pol.pitfalls] or ["None recorded."])
    out += _section("What would change the determination", _would_change(a))
    if strengthen := [p for pol in policies for p in pol.strengthen] + _confirm(a):
        out += _section("To strengthen the request", strengthen)
    out += ["## Final determination", "", *_final(a), ""]
    out += ["## References", "", *([reference_line(r) for r in cite.references()] or ["None cited."]), ""]
    out += _section("Related questions", a.related_questions or ["None found."])
    out += ["## Disclaimer", "", DISCLAIMER, ""]
    out += [footer(a, today), ""]
    return "\n".join(out)


def title(a: Assessment) -> str:
    """The procedure with its level and side, so the article is recognisable from its title alone."""
    primary = next((s for s in a.services if not s.serves), None)
    if primary is None:
        return "Medical necessity: no requested service identified"
    where = f" at {', '.join(primary.levels)}" if primary.levels else ""
    side = f", {primary.side}" if primary.side else ""
    done = " — review of a procedure already performed" if a.review == "performed" else ""
    return f"{primary.description or primary.code} ({primary.code}){where}{side}{done}"


def _policies(a: Assessment) -> list[PolicySnapshot]:
    """The policies applied, services first then the setting, as the Assessment stored them; one
    stored without its snapshot (an article from before snapshots) is named from its reference."""
    refs = [s.policy for s in a.services if s.policy] + ([a.setting.policy] if a.setting and a.setting.policy else [])
    stored = {p.id: p for p in a.policies}
    first: dict[str, PolicyRef] = {}
    for r in refs:
        first.setdefault(r.id, r)
    return [stored.get(pid) or PolicySnapshot(**r.model_dump()) for pid, r in first.items()]


def _criteria_section(a: Assessment, cite: Citations) -> list[str]:
    """The deciding criteria of each service and of the requested setting, as a checklist."""
    out = ["## Criteria", ""]
    for s in a.services:
        out += _service(s, cite)
    if a.setting is not None:
        st = a.setting
        out += [f"### Setting: {st.requested or 'not requested'} (recommended: {st.recommended})", ""]
        if st.requested is None or st.determination is None:
            out += [f"No setting was requested; the criteria point to the {st.recommended} setting.", ""]
        else:
            out += [" ".join([f"Determination: **{_words(st.determination)}**.", *st.reasons]), ""]
            if st.length_of_stay_days:
                out += [f"Requested length of stay: {st.length_of_stay_days:g} days.", ""]
            if not st.follows_procedure:
                out += [*_checklist(st.criteria, cite), ""]
    if not a.services:
        out += ["No requested service was identified in the record.", ""]
    return out


def _service(s: ServiceResult, cite: Citations) -> list[str]:
    lines = [f"### {s.code} — {s.description or 'unrecognised service'}: {_words(s.determination)}", ""]
    if s.policy is not None and not s.serves:
        lines += [f"Policy: {s.policy.title} ({s.policy.id}, version {s.policy.version}).", ""]
    if s.reasons:
        lines += [*s.reasons, ""]
    return lines + _checklist(s.criteria, cite) + ([""] if s.criteria else [])


def mark(c: CriterionResult) -> str:
    """The status as the article shows it: silence taken as absence is said, never a bare tick."""
    return f"{STATUS_MARK[c.status]}, {TAKEN_AS_ABSENT}" if c.assumed else STATUS_MARK[c.status]


def _checklist(criteria: list[CriterionResult], cite: Citations) -> list[str]:
    """The deciding criteria, one line each with the record's words that decided it: failed and
    undocumented first, met ones collapsed to the alternative that met them. A failed exclusion is
    stated as the fact it found ("active smoking is documented"), never as a negation marked not met."""
    lines = []
    for c in checklist(criteria):
        shown = _shown(c, criteria)
        status = EXCLUDED if shown is not c else mark(c)
        words = "; ".join(f"“{w}”" for w in dict.fromkeys(record_words(shown)[:QUOTES]))
        line = f"- **{status}** — {shown.statement.rstrip('.')}. {cite.cite(c.citations)}".rstrip()
        lines.append(line + (f" — {words}" if words else ""))
    return lines


def _shown(c: CriterionResult, criteria: list[CriterionResult]) -> CriterionResult:
    """The criterion a checklist line states: for a failed exclusion, the fact it found."""
    found = excluded(c, criteria)
    return found if found is not None else c


def checklist_items(a: Assessment) -> list[CriterionResult]:
    """The criteria the clinician checklist states, one per line in the order of its lines (what
    ``## Criteria`` lists for each service, then the requested setting), so that a page can tie each
    line to the record's words that decided it. The criterion given is the one the line states (for a
    failed exclusion, the fact it found), and its first quotes are the line's."""
    trees = [s.criteria for s in a.services]
    st = a.setting
    if st is not None and st.requested is not None and st.determination is not None and not st.follows_procedure:
        trees.append(st.criteria)
    return [_shown(c, criteria) for criteria in trees for c in checklist(criteria)]


def _quote(c: CriterionResult) -> str:
    return "; ".join(f"“{w}”" for w in record_words(c)[:4])


def _review_table(a: Assessment, cite: Citations) -> list[str]:
    """Every criterion of every judged service and the setting in one table, tree order kept: the
    reviewer audience keeps the whole tree that the clinician's checklist reduces to what decided it."""
    rows = ["## Criteria", "", "| service | criterion | status | from the record | refs |", "|---|---|---|---|---|"]
    judged = [(s.code, s.criteria) for s in a.services if s.criteria]
    if a.setting is not None:
        judged.append(("setting", a.setting.criteria))
    for code, criteria in judged:
        for c in criteria:
            name = f"{'· ' * c.depth}`{c.id}` {c.statement}"
            rows.append(f"| {code} | {_cell(name)} | {mark(c)} | {_cell(_quote(c))} | {cite.cite(c.citations)} |")
    for s in a.services:
        if not s.criteria:
            rows.append(f"| {s.code} | {_cell(' '.join(s.reasons))} | {_words(s.determination)} |  |  |")
    return [*rows, ""]


def _audit(a: Assessment, policies: list[PolicySnapshot]) -> list[str]:
    counts = {k: 0 for k in STATUS_MARK}
    for s in a.services:
        for c in s.criteria:
            counts[c.status] += 1
    digest = hashlib.sha256(a.case.text.encode("utf-8")).hexdigest()[:16] if a.case.text else "structured case"
    items = [
        f"Policy set: `{a.policy_set}`; engine {a.engine_version}.",
        "Policies applied: "
        + (", ".join(f"`{p.id}` version {p.version} ({p.policy_set})" for p in policies) or "none"),
        "Criteria evaluated: " + ", ".join(f"{n} {STATUS_MARK[k].split(' ', 1)[1]}" for k, n in counts.items()) + ".",
        f"Record fingerprint (SHA-256, first 16 hex): `{digest}`.",
        f"Facts read from the record: {len(a.case.findings)}; requested services: {len(a.services)}.",
    ]
    return _section("Audit", items)


def _operative(a: Assessment) -> list[str]:
    """What the operation under review found, reported as such: it is not a criterion, since a review
    judges what was known before the operation."""
    found = [f for f in a.case.findings if f.operative and f.status == "present"]
    if not found:
        return []
    items = [f"{f.concept.replace('_', ' ')}: “{' '.join(f.evidence[0].text.split())}”" for f in found if f.evidence]
    return _section("Operative findings (reported, not used as criteria)", items)


def _confirm(a: Assessment) -> list[str]:
    """Contraindications the record does not mention are taken as absent; stating their absence
    strengthens the request."""
    leaves = [c for s in a.services for c in s.criteria if c.assumed and c.status == "met" and c.logic == "not"]
    return [f"State in the record that this does not apply (now {TAKEN_AS_ABSENT}): {c.statement}" for c in leaves]


def _components(a: Assessment, cite: Citations) -> list[str]:
    """Each component question answered in a line (the reasons are the verdict's and the checklist's),
    with the library statements that bear on it."""
    out = ["## Component questions", ""]
    for comp in a.components:
        answer = comp.answer
        if comp.codes and comp.determination is not None:
            answer = f"{WORDING[comp.determination].answer}: {', '.join(comp.codes)}."
        out += [f"### {comp.question}", "", answer, ""]
        out += [f"> {e.text} {cite.cite(e.citations)}" for e in comp.evidence] + ([""] if comp.evidence else [])
    if not a.components:
        out += ["No component of the request could be judged: no covered service was identified.", ""]
    return out


def _would_change(a: Assessment) -> list[str]:
    if a.would_change:
        return a.would_change
    if a.determination == D.NO_APPLICABLE_POLICY:
        return ["Nothing in this library: the requested services are outside its criteria."]
    return ["No single finding or document on this record would change it."]


def _final(a: Assessment) -> list[str]:
    """The determination as a numbered list: one line per requested service, then the setting (the
    reasons are the verdict's, not repeated here)."""
    lines = []
    for s in a.services:
        why = f" — judged with {s.serves}" if s.serves else ""
        lines.append(
            f"{len(lines) + 1}. {s.code} ({s.description or 'no description'}): **{_words(s.determination)}**{why}."
        )
    if a.setting is not None and a.setting.determination is not None:
        lines.append(
            f"{len(lines) + 1}. {a.setting.requested} setting: **{_words(a.setting.determination)}** "
            f"(recommended: {a.setting.recommended})."
        )
    return lines or ["1. No service was identified in the request."]


def _words(d: Determination) -> str:
    return WORDING[d].words


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(heading: str, items: list[str]) -> list[str]:
    if not items:
        return []
    return [f"## {heading}", "", *(f"- {i}" for i in dict.fromkeys(items)), ""]
