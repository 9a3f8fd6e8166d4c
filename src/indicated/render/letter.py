"""A letter of medical necessity for the surgeon's office to review, sign and send to the payer.

Written from the Assessment alone, like every article. For each primary service the record supports,
the letter states each deciding criterion with the record's own words quoted and its source cited;
a criterion the record does not document is never asserted: it goes under "Still to be documented
before this request is sent" with what to document. The letter refuses to argue for what the record
fails: a service whose criteria are not met is named as one it cannot support, with the unmet
criteria, and when the whole request fails (or nothing in it has criteria in the library) the letter
is a short notice that no letter can be written, and why. References are numbered by first use in
the letter and list only what it cites. Markdown, and HTML rendered from it with raw HTML off.
"""

from __future__ import annotations

import re
from datetime import date
from html import escape

from indicated.models import Assessment, CriterionResult, Determination, PolicyRef, Reference, ServiceResult
from indicated.reasons import leaves, met_through, record_words
from indicated.render.html import CSS
from indicated.render.parts import reference_line

__all__ = [
    "DISCLAIMER",
    "NOTICE_TITLE",
    "STILL_TO_DOCUMENT",
    "TITLE",
    "to_letter",
    "to_letter_html",
    "to_letter_markdown",
]

D = Determination
TITLE = "Letter of medical necessity"
NOTICE_TITLE = "No letter of medical necessity can be written for this request"
STILL_TO_DOCUMENT = "Still to be documented before this request is sent"
TO_CONFIRM = "To confirm in the record before signing"
ADDRESSEE = "To the utilization review team"
DISCLAIMER = (
    "This letter is a draft written by decision-support software from the words of the record and the "
    "published criteria named above. The treating clinician must check every statement against the chart, "
    "correct it where it is wrong, and sign it before it is sent. It is not a coverage decision."
)
NOTICE_DISCLAIMER = (
    "This notice is decision support for the office preparing the request, not a coverage decision: a request "
    "whose criteria are not met is referred to a physician reviewer, never denied by this tool, and the treating "
    "clinician's judgement governs care."
)
SIGNATURE = [
    "Sincerely,",
    "",
    "Signed: ______________________________",
    "",
    "Treating clinician (name, credentials, NPI): ______________________________",
]
# characters that would turn the record's words into Markdown (or, through it, into links or markup)
_MARKDOWN = re.compile(r"([\\`*_\[\]<>])")


def to_letter(assessment: Assessment, fmt: str = "markdown", *, today: date | None = None) -> str:
    """The letter (or the notice that none can be written) as ``markdown`` or ``html``."""
    if fmt == "html":
        return to_letter_html(assessment, today=today)
    if fmt == "markdown":
        return to_letter_markdown(assessment, today=today)
    raise ValueError(f"unknown letter format {fmt!r}; choose markdown or html")


def to_letter_markdown(assessment: Assessment, *, today: date | None = None) -> str:
    return _Letter(assessment, today or date.today()).markdown()


def to_letter_html(assessment: Assessment, *, today: date | None = None) -> str:
    """One self-contained page: the Markdown letter rendered with raw HTML off (nothing from a case
    can inject markup), citations linked to their references, the article pages' inline styles."""
    from markdown_it import MarkdownIt  # only pages need it

    text = to_letter_markdown(assessment, today=today)
    heading = text.split("\n", 1)[0].removeprefix("# ")
    body = _link_citations(MarkdownIt("commonmark", {"html": False}).render(text))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="indicated {escape(assessment.engine_version)}">\n'
        f"<title>{escape(heading)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n"
        "</body>\n</html>\n"
    )


class _Letter:
    """One letter being written: the references it cites are renumbered in the order it first cites them."""

    def __init__(self, a: Assessment, today: date) -> None:
        self.a = a
        self.today = today
        self.by_n = {r.n: r for r in a.references}
        self.used: dict[int, int] = {}  # the Assessment's number -> the letter's

    # -- the whole letter -------------------------------------------------------------------------------

    def markdown(self) -> str:
        a = self.a
        primaries = [s for s in a.services if not s.serves]
        judged = [s for s in primaries if s.determination != D.NO_APPLICABLE_POLICY]
        if not primaries:
            return self._notice(["No requested service was identified in the record, so there is nothing to support."])
        if not judged:
            return self._notice(
                ["The criteria library holds no criteria for the services requested:", "", *self._outside(primaries)]
            )
        if a.determination == D.NOT_MEDICALLY_NECESSARY:
            why = ["The record does not meet the criteria for any service requested, so this letter makes no argument."]
            for s in judged:
                why += ["", *self._refused(s, heading=False)]
            return self._notice(why)
        return self._letter(primaries)

    def _letter(self, primaries: list[ServiceResult]) -> str:
        supported = [s for s in primaries if s.determination == D.MEDICALLY_NECESSARY]
        pending = [s for s in primaries if s.determination == D.INSUFFICIENT_INFORMATION]
        refused = [s for s in primaries if s.determination == D.NOT_MEDICALLY_NECESSARY]
        outside = [s for s in primaries if s.determination == D.NO_APPLICABLE_POLICY]
        todo = self._todo(supported + pending)
        out = [f"# {TITLE}", ""]
        if todo:
            out += [
                f"> **Not ready to send.** {len(todo)} item(s) under “{STILL_TO_DOCUMENT}” must be in the record "
                "first; this draft does not assert them.",
                "",
            ]
        out += [f"Date: {self.today.isoformat()}", "", f"{ADDRESSEE},", ""]
        out += [f"**Re:** {self._re()}", "", *self._requested(), ""]
        out += [self._opening(supported, pending, refused), ""]
        for s in supported + pending:
            out += self._argued(s)
        out += self._setting()
        for s in refused:
            out += self._refused(s, heading=True)
        if outside:
            out += ["## Outside the criteria library", "", *self._outside(outside), ""]
        if todo:
            out += [f"## {STILL_TO_DOCUMENT}", "", *(f"- {t}" for t in todo), ""]
        if confirm := self._confirm(supported + pending):
            out += [
                f"## {TO_CONFIRM}",
                "",
                "The record does not mention these; the criteria take them as absent, so this letter does not "
                "assert them. Stating them in the record strengthens the request:",
                "",
                *(f"- {c}" for c in confirm),
                "",
            ]
        out += [*SIGNATURE, ""]
        return _tidy(out + self._ending(DISCLAIMER))

    def _notice(self, why: list[str]) -> str:
        out = [f"# {NOTICE_TITLE}", "", f"Date: {self.today.isoformat()}", ""]
        out += [f"**Re:** {self._re()}", "", *self._requested(), "", *why, ""]
        return _tidy(out + self._ending(NOTICE_DISCLAIMER))

    def _ending(self, disclaimer: str) -> list[str]:
        """References cited, in the order first cited, then the policies applied and the disclaimer."""
        refs = sorted(self.used.items(), key=lambda kv: kv[1])
        lines = [reference_line(self._renumbered(self.by_n[old], new)) for old, new in refs]
        out = ["## References", "", *(lines or ["None cited."]), ""]
        policies = "; ".join(
            f"{p.id} version {p.version} (set {p.policy_set or self.a.policy_set})" for p in self._policies()
        )
        out += [
            "## Policy applied",
            "",
            f"Policy set: {self.a.policy_set}. Policies: {policies or 'none'}. "
            f"Engine: indicated {self.a.engine_version or 'unknown'}. Date: {self.today.isoformat()}.",
            "",
            "## Disclaimer",
            "",
            disclaimer,
            "",
        ]
        return out

    # -- the parts ------------------------------------------------------------------------------------------

    def _re(self) -> str:
        what = "Review of services already performed" if self.a.review == "performed" else "Prior authorization request"
        return f"{what} for {self._patient()}"

    def _patient(self) -> str:
        """The patient, never a name: age and sex where the case gives them."""
        c = self.a.case
        if c.age is not None and c.sex:
            noun = (
                {"female": "woman", "male": "man"}[c.sex] if c.age >= 18 else {"female": "girl", "male": "boy"}[c.sex]
            )
            return f"the patient, a {c.age}-year-old {noun}"
        if c.age is not None:
            return f"the patient, aged {c.age}"
        if c.sex:
            return f"the patient ({c.sex})"
        return "the patient"

    def _requested(self) -> list[str]:
        if not self.a.services:
            return []
        lines = ["Services requested:", ""]
        for s in self.a.services:
            lines.append(f"- {_service_name(s)}" + (f" (add-on code with {s.serves})" if s.serves else ""))
        st = self.a.setting
        if st is not None and st.requested:
            stay = f", {st.length_of_stay_days:g} days" if st.length_of_stay_days else ""
            lines.append(f"- Setting: {st.requested}{stay}")
        return lines

    def _opening(
        self, supported: list[ServiceResult], pending: list[ServiceResult], refused: list[ServiceResult]
    ) -> str:
        ask = "coverage of" if self.a.review == "performed" else "authorization of"
        codes = _and([s.code for s in supported + pending])
        text = (
            f"I am writing to request {ask} {codes} for {self._patient()}. Each criterion below is stated with "
            "the words of the medical record that document it and the published source of the criterion."
        )
        if refused:
            text += f" This letter does not support {_and([s.code for s in refused])}: see below."
        return text

    def _argued(self, s: ServiceResult) -> list[str]:
        """A primary the record supports (or will, once the missing items are documented): each met
        deciding criterion, through the alternative that met it, with the record's words."""
        out = [f"## {_service_name(s)}", ""]
        if s.policy is not None:
            out += [f"Criteria: {s.policy.title or s.policy.id} ({s.policy.id}, version {s.policy.version}).", ""]
        met = [met_through(c, s.criteria) for c in s.criteria if c.depth == 1 and c.status == "met"]
        stated = [c for c in met if not c.assumed]
        if s.determination == D.MEDICALLY_NECESSARY:
            out += ["The record meets each criterion for this service:", ""]
        elif stated:
            out += ["The record already documents these criteria:", ""]
        out += [f"{i}. {self._stated(c)}" for i, c in enumerate(stated, 1)]
        out += [""] if stated else []
        if s.determination == D.INSUFFICIENT_INFORMATION:
            out += [f"The remaining criteria are not yet documented; see “{STILL_TO_DOCUMENT}”.", ""]
        out += self._add_ons(s)
        return out

    def _stated(self, c: CriterionResult, label: str = "In the record") -> str:
        """One criterion in prose: its statement, its sources, and the record's words (for a criterion
        not met, with the facts the record states as absent said to be so)."""
        sentence = f"{_sentence(c.statement)}{self._cite(c.citations)}."
        words = self._quotes(c, absent=c.status == "not_met")
        return f"{sentence} {label}: {words}." if words else sentence

    def _quotes(self, c: CriterionResult, *, absent: bool = False) -> str:
        """The record's words, each once, with the duration the record gives where a fact carries one
        (and, where ``absent``, which of them the record states as absent)."""
        facts = {(e.start, e.end): f for f in self.a.case.findings for e in f.evidence}
        quotes: dict[str, None] = {}
        for span, words in zip(c.evidence, record_words(c), strict=True):
            fact = facts.get((span.start, span.end))
            note = f" ({_weeks(fact.weeks)})" if fact is not None and fact.weeks else ""
            note = " (stated as absent)" if absent and fact is not None and fact.status == "absent" else note
            quotes[f"“{_md(words)}”{note}"] = None
        return "; ".join(quotes)

    def _add_ons(self, s: ServiceResult) -> list[str]:
        add_ons = [x for x in self.a.services if x.serves == s.code]
        if not add_ons:
            return []
        verb = {D.NOT_MEDICALLY_NECESSARY: "cannot be supported either"}.get(s.determination, "are requested with it")
        return [
            f"Add-on codes serving {s.code}, which take its determination and {verb}:",
            "",
            *(f"- {_service_name(x)}" for x in add_ons),
            "",
        ]

    def _refused(self, s: ServiceResult, *, heading: bool) -> list[str]:
        """A service the record fails: said plainly, the unmet criteria named, no argument made."""
        out = [f"## {_service_name(s)}: not supported", ""] if heading else []
        out += [
            f"This letter cannot support {s.code} ({s.description or 'no description'}): the record does not meet "
            + (f"the criteria of {s.policy.id} (version {s.policy.version})" if s.policy else "its criteria")
            + ". Criteria not met:",
            "",
        ]
        for c in leaves(s.criteria, "not_met") or [c for c in s.criteria if c.depth == 0]:
            out.append(f"- {self._stated(c, 'The record')}")
        out += [
            "",
            "If sent, the request goes to a physician reviewer. If the record is wrong or incomplete on these "
            "points, correct it and assess the request again.",
            "",
        ]
        return out + self._add_ons(s)

    def _outside(self, services: list[ServiceResult]) -> list[str]:
        return [
            f"- {_service_name(s)}: the library holds no criteria for it, so this letter makes no argument for it."
            + (f" {' '.join(s.reasons)}" if s.reasons else "")
            for s in services
        ]

    def _setting(self) -> list[str]:
        """A requested setting judged on its own criteria: supported, refused or still to be documented
        (a setting that follows its procedure is only listed among the services requested)."""
        st = self.a.setting
        if st is None or st.requested is None or st.determination is None or st.follows_procedure:
            return []
        out = [f"## Setting: {st.requested}", ""]
        root = next((c for c in st.criteria if c.depth == 0), None)
        if st.determination == D.MEDICALLY_NECESSARY:
            shown = met_through(root, st.criteria) if root is not None and root.status == "met" else None
            if shown is not None and not shown.assumed:
                out += [f"The requested {st.requested} setting is warranted. {self._stated(shown)}", ""]
            else:
                reasons = " ".join(st.reasons) or f"The criteria recommend the {st.recommended} setting."
                out += [f"The requested {st.requested} setting is supported. {reasons}", ""]
        elif st.determination == D.NOT_MEDICALLY_NECESSARY:
            out += [
                " ".join(
                    [
                        f"This letter cannot support the requested {st.requested} setting; the criteria recommend "
                        f"the {st.recommended} setting.",
                        *st.reasons,
                    ]
                ),
                "",
            ]
            if root is not None and root.status == "not_met":
                out += [f"- Not met: {self._stated(root, 'The record')}", ""]
        elif st.determination == D.INSUFFICIENT_INFORMATION:
            out += [f"The requested {st.requested} setting cannot be supported until the record documents it.", ""]
        return out

    def _todo(self, services: list[ServiceResult]) -> list[str]:
        """What the record must say before the letter is sent: each undocumented criterion as what to
        document (alternatives as one item: any one of them will do)."""
        items: dict[str, None] = {}
        for s in services:
            for root in (c for c in s.criteria if c.depth == 0):
                items.update(dict.fromkeys(f"{s.code}: {t}" for t in _undocumented(root, s.criteria)))
        st = self.a.setting
        if st is not None and st.determination == D.INSUFFICIENT_INFORMATION and not st.follows_procedure:
            for root in (c for c in st.criteria if c.depth == 0):
                items.update(dict.fromkeys(f"Setting: {t}" for t in _undocumented(root, st.criteria)))
        return list(items)

    def _confirm(self, services: list[ServiceResult]) -> list[str]:
        """Exclusions met only because the record is silent (taken as absent): the letter does not
        assert them; stating them in the record strengthens the request."""
        items: dict[str, None] = {}
        for s in services:
            for c in s.criteria:
                shown = met_through(c, s.criteria) if c.depth == 1 and c.status == "met" else None
                if shown is not None and shown.assumed:
                    items[f"{s.code}: {_sentence(shown.statement)}{self._cite(shown.citations)}."] = None
        return list(items)

    # -- references -----------------------------------------------------------------------------------------

    def _cite(self, numbers: list[int]) -> str:
        """Citation marks in the letter's own numbering; a number with no listed reference is left out."""
        marks = []
        for n in dict.fromkeys(numbers):
            if n in self.by_n:
                marks.append(self.used.setdefault(n, len(self.used) + 1))
        return (" " + "".join(f"[{m}]" for m in marks)) if marks else ""

    @staticmethod
    def _renumbered(r: Reference, n: int) -> Reference:
        return r.model_copy(update={"n": n})

    def _policies(self) -> list[PolicyRef]:
        refs = [s.policy for s in self.a.services if s.policy and not s.serves]
        st = self.a.setting
        if st is not None and st.policy is not None and st.determination is not None and not st.follows_procedure:
            refs.append(st.policy)
        return list({(p.id, p.version): p for p in refs}.values())


def _service_name(s: ServiceResult) -> str:
    where = ", ".join(s.levels)
    side = s.side or ""
    place = ", ".join(p for p in (where, side) if p)
    return f"{s.code} {s.description or '(no description)'}" + (f" — {place}" if place else "")


def _sentence(statement: str) -> str:
    """A criterion statement as a sentence whose citations follow it ("... is documented [1]. ")."""
    return statement.rstrip().rstrip(".")


def _undocumented(c: CriterionResult, criteria: list[CriterionResult]) -> list[str]:
    """What to document for an undecided criterion: its own "to document" text where it has one,
    else that of the undecided criteria under it (for an ``any``, one item naming the alternatives)."""
    if c.status != "unknown":
        return []
    if c.to_document or c.logic in ("check", "not"):
        return [c.to_document or f"Document: {_sentence(c.statement)}."]
    children = [k for k in criteria if k.parent == c.id]
    found = list(dict.fromkeys(t for k in children for t in _undocumented(k, criteria)))
    if c.logic == "any" and len(found) > 1:
        return ["Any one of: " + " Or: ".join(found)]
    return found


def _weeks(weeks: float) -> str:
    return f"{weeks:g} weeks" if weeks == int(weeks) else f"about {round(weeks)} weeks"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _tidy(lines: list[str]) -> str:
    """The lines as one text, with at most one blank line between blocks."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).rstrip("\n") + "\n"


def _md(text: str) -> str:
    """The record's words as literal Markdown text."""
    return _MARKDOWN.sub(r"\\\1", text)


def _link_citations(body: str) -> str:
    """[n] becomes a link to reference n, and each item of the reference list gets the matching anchor."""
    head, sep, tail = body.partition("<h2>References</h2>")
    if tail.lstrip().startswith("<ol>"):
        refs, end, rest = tail.partition("</ol>")
        count = iter(range(1, refs.count("<li>") + 1))
        tail = re.sub(r"<li>", lambda _: f'<li id="ref-{next(count)}">', refs) + end + rest
    return re.sub(r"\[(\d+)\]", r'<a href="#ref-\1">[\1]</a>', head) + sep + tail
