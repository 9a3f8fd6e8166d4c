"""Follow-up articles: facts added to a case, the case assessed again, and the new article opening with
what changed.

The parts every interface shares, on this layer because they read and write Assessments only:

- :func:`split` sorts what a user adds into facts and topic questions (a sentence ending in "?");
- :func:`with_paragraph` appends the facts to a record as one follow-up paragraph;
- :func:`diff` compares the article before with the article after: the determination, and each service
  and criterion whose status moved;
- :func:`to_markdown`, :func:`to_html`, :func:`article_fragment` and :func:`render` render an article and,
  when it carries ``changes``, open it with the "What changed" section (JSON carries ``changes`` as is).

Reading the case and assessing it again belong to the interfaces (``indicated assess --add`` and the
web page's follow-up box), which know where the case came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from indicated.models import (
    Answer,
    Assessment,
    Changes,
    CriterionChange,
    CriterionResult,
    Determination,
    ServiceChange,
    Status,
)
from indicated.render import html as html_render
from indicated.render import render as render_plain
from indicated.render.markdown import STATUS_MARK
from indicated.wording import WORDING

__all__ = [
    "HEADING",
    "answers_markdown",
    "article_fragment",
    "article_sections",
    "diff",
    "question_in_context",
    "render",
    "split",
    "to_html",
    "to_markdown",
    "what_changed",
    "with_paragraph",
]

HEADING = "What changed"
MAX_CHARS = 10_000  # one follow-up is a few sentences, not a second record
_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=\S)")
_WORD = re.compile(r"\w")
_STATUS = {status: words.split(" ", 1)[1] for status, words in STATUS_MARK.items()}  # "met", "not met", ...
# ask answers briefly inside an article: the first sentences of each answer
ANSWER_SENTENCES = 3


def split(items: Iterable[str]) -> tuple[list[str], list[str]]:
    """What a user added as (facts, questions): a sentence ending in "?" is a topic question, the rest
    are facts, each item kept whole when it asks nothing. Empty items are dropped."""
    facts: list[str] = []
    questions: list[str] = []
    for item in items:
        item = " ".join(item.split())
        if not item:
            continue
        if "?" not in item:
            facts.append(item)
            continue
        told = []
        for sentence in _SENTENCE.split(item):
            if _WORD.search(sentence):  # a lone "?" asks nothing
                (questions if sentence.endswith("?") else told).append(sentence)
        if told:
            facts.append(" ".join(told))
    return facts, questions


def paragraph(facts: Iterable[str]) -> str:
    """The facts as one paragraph of sentences."""
    return " ".join(f if f[-1] in ".!;:" else f + "." for f in (f.strip() for f in facts) if f)


def with_paragraph(text: str, facts: Iterable[str]) -> str:
    """``text`` with the facts appended as a follow-up paragraph (the record's own words never change,
    so every span of the article before still points at the same words)."""
    added = paragraph(facts)
    return f"{text.rstrip()}\n\n{added}" if text.strip() else added


def question_in_context(question: str, assessment: Assessment) -> str:
    """A topic question with the procedure it is asked about, for ``ask``: the policies of the primary
    services ("is 6 weeks enough?" about the policy that judged the request)."""
    primaries = [s for s in assessment.services if not s.serves and not s.add_on]
    about = [s.policy.title if s.policy else s.description for s in primaries]
    about = [t for t in dict.fromkeys(about) if t]
    return f"{question} ({'; '.join(about)})" if about else question


def diff(
    before: Assessment,
    after: Assessment,
    *,
    facts_added: bool = True,
    answers: Iterable[Answer] = (),
    follows: str | None = None,
) -> Changes:
    """What moved from ``before`` to ``after``: the determination, and each service (by code, in the
    order requested) and the setting whose determination or criteria moved."""
    services: list[ServiceChange] = []
    old = _keyed(before.services)
    new = _keyed(after.services)
    for key in [*new, *(k for k in old if k not in new)]:
        was, now = old.get(key), new.get(key)
        ref = now or was
        change = ServiceChange(
            code=ref.code,
            description=ref.description,
            before=was.determination if was else None,
            after=now.determination if now else None,
            criteria=_criteria(was.criteria if was else [], now.criteria if now else []),
        )
        if change.before != change.after or change.criteria:
            services.append(change)
    setting = None
    if before.setting is not None or after.setting is not None:
        setting = ServiceChange(
            code="setting",
            description="Setting",
            before=before.setting.determination if before.setting else None,
            after=after.setting.determination if after.setting else None,
            criteria=_criteria(
                before.setting.criteria if before.setting else [], after.setting.criteria if after.setting else []
            ),
        )
        if setting.before == setting.after and not setting.criteria:
            setting = None
    return Changes(
        before=before.determination,
        after=after.determination,
        facts_added=facts_added,
        services=services,
        setting=setting,
        follows=follows,
        answers=list(answers),
    )


def _keyed(services) -> dict[tuple[str, int], object]:
    """Services by (code, occurrence): the same code twice (two levels billed apart) pairs in order."""
    seen: dict[str, int] = {}
    out = {}
    for s in services:
        n = seen.get(s.code, 0)
        seen[s.code] = n + 1
        out[(s.code, n)] = s
    return out


def _criteria(before: list[CriterionResult], after: list[CriterionResult]) -> list[CriterionChange]:
    old = {c.id: c for c in before}
    new = {c.id: c for c in after}
    moved = []
    for cid in [*new, *(i for i in old if i not in new)]:
        was, now = old.get(cid), new.get(cid)
        if was is not None and now is not None and was.status == now.status:
            continue
        ref = now or was
        moved.append(
            CriterionChange(
                id=cid,
                statement=ref.statement,
                plain=ref.plain,
                before=was.status if was else None,
                after=now.status if now else None,
            )
        )
    return moved


def what_changed(changes: Changes, *, audience: str = "clinician") -> list[str]:
    """The "What changed" section as Markdown lines."""
    out = [f"## {HEADING}", ""]
    before, after = _words(changes.before), _words(changes.after)
    moved = [*changes.services, *([changes.setting] if changes.setting else [])]
    if not changes.facts_added:
        out += [f"No facts were added, so nothing changed: the determination stays **{after}**.", ""]
    elif changes.before != changes.after:
        out += [f"With the facts added, the determination moved from **{before}** to **{after}**.", ""]
    elif moved:
        out += [f"With the facts added, the determination stays **{after}**; these criteria moved.", ""]
    else:
        out += [
            f"Nothing changed: the facts added moved no criterion, and the determination stays **{after}**.",
            "",
        ]
    for s in moved:
        name = s.description if s.code == "setting" else f"{s.code} ({s.description or 'unrecognised service'})"
        out.append(f"- **{name}**: {_service_move(s)}")
        for c in s.criteria:
            statement = (c.plain or c.statement) if audience == "patient" else c.statement
            out.append(f"  - `{c.id}` {_status(c.before)} → **{_status(c.after)}**: {statement}")
    if moved:
        out.append("")
    if changes.answers:
        out += answers_markdown(changes.answers)
    return out


def _service_move(s: ServiceChange) -> str:
    if s.before is None and s.after is not None:
        return f"newly requested, {_words(s.after)}"
    if s.after is None and s.before is not None:
        return f"no longer requested (was {_words(s.before)})"
    if s.before == s.after:
        return f"stays {_words(s.after)}"
    return f"{_words(s.before)} → {_words(s.after)}"


def answers_markdown(answers: list[Answer]) -> list[str]:
    """Topic questions asked with a follow-up and their answers, each sentence with its source named
    (the answer's reference numbers are its own, not the article's)."""
    out = ["### Your follow-up questions", ""]
    for a in answers:
        out += [f"**{a.question}**", ""]
        if not a.answered:
            out += [a.note, ""]
            continue
        refs = {r.n: r for r in a.references}
        for s in a.sentences[:ANSWER_SENTENCES]:
            sources = [refs[n] for n in s.citations if n in refs]
            named = "; ".join(f"{r.issuer}{f', {r.year}' if r.year else ''}" for r in sources)
            out.append(f"- {s.text}{f' ({named})' if named else ''}")
        out.append("")
    return out


def _words(d: Determination | None) -> str:
    return WORDING[d].words if d is not None else "none"


def _status(s: Status | None) -> str:
    return _STATUS[s] if s is not None else "not judged"


def _opened(text: str, section: str, *, after: str) -> str:
    """``section`` placed right after the first ``after`` (the title), else at the very top."""
    head, found, tail = text.partition(after)
    return f"{head}{found}{section}{tail}" if found else section + text


def to_markdown(assessment: Assessment, *, today: date | None = None, audience: str = "clinician", **_: object) -> str:
    text = render_plain(assessment, "markdown", today=today, audience=audience)
    if assessment.changes is None:
        return text
    section = "\n".join(what_changed(assessment.changes, audience=audience)) + "\n"
    lines = text.split("\n", 2)
    if lines and lines[0].startswith("# "):
        return "\n".join([lines[0], "", section + (lines[2] if len(lines) > 2 else "")])
    return section + "\n" + text


def _section_html(assessment: Assessment, audience: str) -> str:
    from markdown_it import MarkdownIt

    md = "\n".join(what_changed(assessment.changes, audience=audience))
    return f'<section id="what-changed">\n{MarkdownIt("commonmark", {"html": False}).render(md)}</section>\n'


def article_sections(
    assessment: Assessment, *, today: date | None = None, audience: str = "clinician"
) -> html_render.ArticleSections:
    """:func:`indicated.render.html.article_sections` with "What changed" for a follow-up."""
    sections = html_render.article_sections(assessment, today=today, audience=audience)
    if assessment.changes is None:
        return sections
    return sections.with_changes(_section_html(assessment, audience))


def article_fragment(assessment: Assessment, *, today: date | None = None, audience: str = "clinician") -> str:
    """:func:`indicated.render.html.article_fragment`, opened with "What changed" for a follow-up."""
    return article_sections(assessment, today=today, audience=audience).fragment


def to_html(assessment: Assessment, *, today: date | None = None, audience: str = "clinician", **_: object) -> str:
    """:func:`indicated.render.html.to_html`, opened with "What changed" for a follow-up."""
    page = html_render.to_html(assessment, today=today, audience=audience)
    if assessment.changes is None:
        return page
    return _opened(page, _section_html(assessment, audience), after="</h1>\n")


def render(assessment: Assessment, fmt: str = "json", **options: object) -> str:
    """Like :func:`indicated.render.render`; a follow-up article opens with what changed."""
    if fmt == "markdown":
        return to_markdown(assessment, **options)
    if fmt == "html":
        return to_html(assessment, **options)
    return render_plain(assessment, fmt, **options)
