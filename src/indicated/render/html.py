"""The article as one self-contained HTML page: the Markdown article rendered with markdown-it-py
(raw HTML off, so nothing from a case can inject markup), inline styles, citations linked to their
references, and for clinicians and reviewers the record itself with the words that met or failed a
criterion highlighted. No external file, font or script: the page can be mailed or archived as is.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from html import escape

from indicated.models import Assessment, Span
from indicated.render.markdown import title, to_markdown

__all__ = ["CSS", "article_fragment", "to_html"]

CSS = """
body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:52rem;margin:2rem auto;
padding:0 1rem;color:#1d2330;background:#fff}
h1{font-size:1.6rem;line-height:1.25}h2{margin-top:2rem;border-bottom:1px solid #dde2ea;padding-bottom:.2rem}
h3{margin-top:1.4rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border:1px solid #dde2ea;padding:.3rem .5rem;vertical-align:top;text-align:left}
blockquote{margin:.5rem 0;padding:.2rem 1rem;border-left:4px solid #9bb3d9;background:#f4f7fb}
code{font-size:.85em;background:#f1f3f6;padding:0 .2em}a{color:#1f5fbf}
mark.met{background:#cdeccf}mark.not_met{background:#f6c9c9}mark.unknown{background:#fbe8b0}
mark.fact{background:#e3e8f0}.record{white-space:pre-wrap;border:1px solid #dde2ea;padding:1rem;background:#fafbfc}
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


def article_fragment(
    assessment: Assessment, *, today: date | None = None, audience: str = "clinician", **_: object
) -> str:
    """The article and (for clinicians and reviewers) the highlighted record, as HTML to place inside a
    page; everything from the case is escaped."""
    article = to_markdown(assessment, today=today, audience=audience)
    from markdown_it import MarkdownIt  # only pages need it; kept off the start-up of other formats

    body = _link_citations(MarkdownIt("commonmark", {"html": False}).enable("table").render(article))
    return body + ("" if audience == "patient" else _record(assessment))


def _link_citations(body: str) -> str:
    """[n] becomes a link to reference n, and each item of the reference list gets the matching anchor."""
    head, sep, tail = body.partition("<h2>References</h2>")
    if tail.lstrip().startswith("<ol>"):
        numbers = itertools.count(1)
        refs, end, rest = tail.partition("</ol>")
        tail = re.sub(r"<li>", lambda _: f'<li id="ref-{next(numbers)}">', refs) + end + rest
    return re.sub(r"\[(\d+)\]", r'<a href="#ref-\1">[\1]</a>', head) + sep + tail


def _record(a: Assessment) -> str:
    """The record with each span that decided a criterion marked by the status it gave."""
    text = a.case.text
    if not text:
        return ""
    marks: dict[tuple[int, int], str] = {}
    criteria = [c for s in a.services for c in s.criteria] + (a.setting.criteria if a.setting else [])
    for c in criteria:
        for span in c.evidence:
            _keep(marks, span, c.status)
    for f in a.case.findings:
        for span in f.evidence:
            _keep(marks, span, "fact")
    out, at = [], 0
    for (start, end), status in sorted(marks.items()):
        if start < at or end > len(text):
            continue  # overlapping or out of range: the earlier mark wins
        out += [escape(text[at:start]), f'<mark class="{status}">{escape(text[start:end])}</mark>']
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
