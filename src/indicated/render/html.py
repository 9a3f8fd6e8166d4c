"""The article as one self-contained HTML page: the Markdown article rendered with markdown-it-py
(raw HTML off, so nothing from a case can inject markup), inline styles, citations linked to their
references, and for clinicians and reviewers the record itself with the words that met or failed a
criterion highlighted. No external file, font or script: the page can be mailed or archived as is.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from datetime import date
from html import escape, unescape

from indicated.models import Assessment, CriterionResult, Span
from indicated.reasons import lost_alternatives, record_words
from indicated.render.markdown import QUOTES, checklist_items, title, to_markdown

__all__ = ["CSS", "ArticleSections", "article_fragment", "article_sections", "to_html"]

CSS = """
body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:52rem;margin:2rem auto;
padding:0 1rem;color:#1d2330;background:#fff}
h1{font-size:1.6rem;line-height:1.25}h2{margin-top:2rem;border-bottom:1px solid #dde2ea;padding-bottom:.2rem}
h3{margin-top:1.4rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border:1px solid #dde2ea;padding:.3rem .5rem;vertical-align:top;text-align:left}
blockquote{margin:.5rem 0;padding:.2rem 1rem;border-left:4px solid #9bb3d9;background:#f4f7fb}
code{font-size:.85em;background:#f1f3f6;padding:0 .2em}a{color:#1f5fbf}
mark.met{background:#cdeccf}mark.not_met{background:#f6c9c9}mark.unknown{background:#fbe8b0}
mark.fact{background:#e3e8f0}a.to-record{color:inherit}.record{white-space:pre-wrap;border:1px solid #dde2ea;padding:1rem;background:#fafbfc}
.legend mark{padding:0 .3em}
"""
_PRIORITY = {"not_met": 0, "met": 1, "unknown": 2, "fact": 3}


def to_html(
    assessment: Assessment,
    *,
    today: date | None = None,
    audience: str = "clinician",
    **_: object,
) -> str:
    """The page for ``audience``; other options (a ``kb`` from older callers) are ignored."""
    body = article_fragment(assessment, today=today, audience=audience)
    page_title = escape(title(assessment))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="indicated {escape(assessment.engine_version)}">\n'
        f"<title>{page_title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )


@dataclass(frozen=True)
class ArticleSections:
    """The article cut where a page lays it out: ``head`` (the title and the verdict), ``changed`` (what a
    follow-up changed, else empty), ``criteria`` (the checklist), ``record`` (the highlighted record; empty
    for patients) and ``rest`` (component questions, references and the rest, in the article's order).
    The review page puts the checklist and the record side by side under the verdict, and the long
    sections after them; the standalone page keeps the article's own order (:attr:`fragment`)."""

    head: str
    criteria: str
    rest: str
    record: str
    changed: str = ""

    @property
    def fragment(self) -> str:
        """The sections in the article's order, the record last."""
        head = _opened(self.head, self.changed) if self.changed else self.head
        return head + self.criteria + self.rest + self.record

    def with_changes(self, section: str) -> ArticleSections:
        """These sections with a "What changed" section, which opens the article after its title."""
        return replace(self, changed=section)


def article_fragment(
    assessment: Assessment, *, today: date | None = None, audience: str = "clinician", **_: object
) -> str:
    """The article and (for clinicians and reviewers) the highlighted record, as HTML to place inside a
    page; everything from the case is escaped."""
    return article_sections(assessment, today=today, audience=audience).fragment


def article_sections(
    assessment: Assessment, *, today: date | None = None, audience: str = "clinician"
) -> ArticleSections:
    """The article as :class:`ArticleSections`. Each clinician checklist line (``li id="crit-N"``) quotes the
    record through links to the highlighted words (``href="#ev-START-END"``), and each highlight names the
    lines it decided (``data-crit="crit-N ..."``): a reader jumps from a criterion to its words with or
    without script."""
    article = to_markdown(assessment, today=today, audience=audience)
    from markdown_it import MarkdownIt  # only pages need it; kept off the start-up of other formats

    body = _link_citations(MarkdownIt("commonmark", {"html": False}).enable("table").render(article))
    head, parts = _split(body)
    criteria = next((p for p in parts if p.startswith("<h2>Criteria</h2>")), "")
    rest = "".join(p for p in parts if p is not criteria)
    if audience == "patient":
        return ArticleSections(head=head, criteria=criteria, rest=rest, record="")
    items = checklist_items(assessment) if audience == "clinician" else []
    marks = _marks(assessment)
    criteria, tied = _link_checklist(criteria, items, marks)
    return ArticleSections(head=head, criteria=criteria, rest=rest, record=_record(assessment, marks, tied))


def _split(body: str) -> tuple[str, list[str]]:
    """The HTML before the first ``<h2>``, and each level-2 section from its heading on."""
    cuts = [m.start() for m in re.finditer(r"<h2[ >]", body)]
    if not cuts:
        return body, []
    bounds = [*cuts, len(body)]
    return body[: cuts[0]], [body[a:b] for a, b in itertools.pairwise(bounds)]


def _opened(head: str, section: str) -> str:
    """``section`` right after the title, else first."""
    before, found, after = head.partition("</h1>\n")
    return f"{before}{found}{section}{after}" if found else section + head


_ITEM = re.compile(r"<li>(.*?)</li>", re.S)


def _link_checklist(
    criteria_html: str, items: list[CriterionResult], marks: list[tuple[int, int, str]]
) -> tuple[str, dict[tuple[int, int], list[str]]]:
    """Tie each checklist line to the highlights of the words that decided it: the line gets
    ``id="crit-N"`` and its quotes become links to their highlight. The lines are matched to ``items`` in
    order and only when they agree in number and each line states its criterion; otherwise the
    checklist is left as it is (no line tied to the wrong words). Returns the checklist and, for each
    highlight, the lines it decided."""
    tied: dict[tuple[int, int], list[str]] = {}
    lines = list(_ITEM.finditer(criteria_html))
    if not items or len(lines) != len(items):
        return criteria_html, tied
    if any(c.statement.rstrip(".")[:40] not in _text(m.group(1)) for c, m in zip(items, lines, strict=True)):
        return criteria_html, tied
    out, at = [], 0
    for n, (c, m) in enumerate(zip(items, lines, strict=True), 1):
        key = f"crit-{n}"
        inner = m.group(1)
        quoted: dict[str, tuple[int, int]] = {}
        for word, span in zip(record_words(c)[:QUOTES], c.evidence[:QUOTES], strict=True):
            hit = _mark_of(span, marks)
            if hit is not None:
                quoted.setdefault(word, hit)
                tied.setdefault(hit, [])
                if key not in tied[hit]:
                    tied[hit].append(key)
        for word, (start, end) in quoted.items():
            text = f"“{_escaped(word)}”"
            link = f'<a class="to-record" href="#ev-{start}-{end}">{text}</a>'
            inner = inner.replace(text, link, 1)
        out += [criteria_html[at : m.start()], f'<li id="{key}" data-criterion="{escape(c.id)}">{inner}</li>']
        at = m.end()
    out.append(criteria_html[at:])
    return "".join(out), tied


def _text(fragment: str) -> str:
    """The text an HTML fragment shows."""
    return unescape(re.sub(r"<[^>]+>", "", fragment))


def _escaped(text: str) -> str:
    """``text`` escaped as markdown-it writes text (``&``, ``<``, ``>`` and ``"``)."""
    return escape(text, quote=False).replace('"', "&quot;")


def _mark_of(span: Span, marks: list[tuple[int, int, str]]) -> tuple[int, int] | None:
    """The highlight that shows ``span``: its own, or the earlier one that overlaps it."""
    return next(((s, e) for s, e, _ in marks if s < span.end and e > span.start), None)


def _link_citations(body: str) -> str:
    """[n] becomes a link to reference n, and each item of the reference list gets the matching anchor."""
    head, sep, tail = body.partition("<h2>References</h2>")
    if tail.lstrip().startswith("<ol>"):
        numbers = itertools.count(1)
        refs, end, rest = tail.partition("</ol>")
        tail = re.sub(r"<li>", lambda _: f'<li id="ref-{next(numbers)}">', refs) + end + rest
    return re.sub(r"\[(\d+)\]", r'<a href="#ref-\1">[\1]</a>', head) + sep + tail


def _marks(a: Assessment) -> list[tuple[int, int, str]]:
    """The spans the record highlights, in order, as (start, end, status): each span that decided a
    criterion by the status it gave, other facts read as "fact"; of two overlapping, the earlier wins."""
    text = a.case.text
    marks: dict[tuple[int, int], str] = {}
    trees = [s.criteria for s in a.services] + ([a.setting.criteria] if a.setting else [])
    for criteria in trees:
        lost = lost_alternatives(criteria)
        for c in criteria:
            if c.id in lost:
                continue  # its words decided nothing: the record does not colour them as failing
            for span in c.evidence:
                _keep(marks, span, c.status)
    for f in a.case.findings:
        for span in f.evidence:
            _keep(marks, span, "fact")
    out, at = [], 0
    for (start, end), status in sorted(marks.items()):
        if start < at or end > len(text):
            continue  # overlapping or out of range: the earlier mark wins
        out.append((start, end, status))
        at = end
    return out


def _record(a: Assessment, marks: list[tuple[int, int, str]], tied: dict[tuple[int, int], list[str]]) -> str:
    """The record with each span that decided a criterion marked by the status it gave; each mark is an
    anchor (``id="ev-START-END"``) naming the checklist lines it decided (``data-crit``)."""
    text = a.case.text
    if not text:
        return ""
    out, at = [], 0
    for start, end, status in marks:
        crit = f' data-crit="{" ".join(tied[(start, end)])}"' if (start, end) in tied else ""
        out += [
            escape(text[at:start]),
            f'<mark class="{status}" id="ev-{start}-{end}"{crit}>{escape(text[start:end])}</mark>',
        ]
        at = end
    out.append(escape(text[at:]))
    legend = (
        '<p class="legend">Highlighted: <mark class="met">met a criterion</mark> '
        '<mark class="not_met">failed a criterion</mark> <mark class="unknown">left a criterion open</mark> '
        '<mark class="fact">other fact read</mark></p>'
    )
    return f'<h2 id="record">The record</h2>\n{legend}\n<div class="record">{"".join(out)}</div>\n'


def _keep(marks: dict[tuple[int, int], str], span: Span, status: str) -> None:
    key = (span.start, span.end)
    if key not in marks or _PRIORITY[status] < _PRIORITY[marks[key]]:
        marks[key] = status
