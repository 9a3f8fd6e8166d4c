"""The files the pages load from this site: their stylesheet, their one script and the icon. Served by
us, so the Content-Security-Policy allows style and script from 'self' only (no inline, no other host)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from indicated.render.html import CSS

router = APIRouter(include_in_schema=False)

# the pages' own rules after the article's, served as a stylesheet so that the Content-Security-Policy
# needs no 'unsafe-inline' (issue 17.10): the pages carry no inline style or script. The review page:
# the verdict banner, then the checklist beside the record (sticky, scrolling on its own) on a wide
# screen, one above the other on a phone; tables scroll inside their box instead of widening the page.
PAGE_CSS = """
body{max-width:84rem;overflow-wrap:break-word}
nav{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;border-bottom:1px solid #dde2ea;padding:.5rem 0;
margin-bottom:1rem}
nav .who{margin-left:auto;color:#555}textarea{width:100%;box-sizing:border-box;font:inherit;min-height:14rem}
textarea.short{min-height:4rem}textarea.medium{min-height:5rem}form.inline{display:inline}
button,input[type=submit]{font:inherit;padding:.35rem .9rem;cursor:pointer}
.panel{border:1px solid #dde2ea;background:#f7f9fc;padding:.8rem 1rem;margin:1rem 0;border-radius:4px}
.state{font-weight:600;text-transform:capitalize}.error{color:#a11}.muted{color:#666}
.switch a{margin-right:.7rem}.switch a.on{font-weight:600;text-decoration:none;color:#1d2330}
.verdict{border-left:6px solid #8a94a6;background:#f4f6f9;padding:.5rem 1rem;border-radius:4px;margin:0 0 .6rem}
.verdict h1{font-size:1.35rem;margin:.3rem 0}.verdict p{margin:.4rem 0}
.verdict.medically_necessary{border-color:#2e7d32;background:#edf7ee}
.verdict.not_medically_necessary{border-color:#c62828;background:#fcefef}
.verdict.partially_medically_necessary{border-color:#e07b00;background:#fff5e6}
.verdict.insufficient_information{border-color:#b8920a;background:#fdf8e3}
.toolbar p{margin:.2rem 0;font-size:.92rem}
.columns{display:grid;grid-template-columns:minmax(0,1fr);gap:0 1.5rem}
.columns h2{margin-top:1.2rem}.criteria-pane h3{font-size:1rem}
@media (min-width:64rem){.columns{grid-template-columns:minmax(0,1.15fr) minmax(0,1fr);align-items:start}
.record-pane{position:sticky;top:0;max-height:100vh;overflow-y:auto;padding:0 .3rem 1rem}}
li[id^="crit-"]{cursor:pointer;border-radius:3px;padding:.1rem .3rem;margin:.15rem 0}
li[id^="crit-"]:hover,li.current{background:#eef3fb}
mark.flash{outline:2px solid #1f5fbf;animation:flash 1.6s ease-out}
@keyframes flash{0%,45%{background:#ffd54f}}
.record{overflow-wrap:anywhere}.scroll{overflow-x:auto;max-width:100%}.scroll table{min-width:32rem}
#more table,.criteria-pane table,#article>table{display:block;overflow-x:auto}td{overflow-wrap:anywhere}
.line-form{display:flex;flex-wrap:wrap;gap:.3rem}.line-form input{font:inherit;flex:1 1 8rem;min-width:0}
.decided{font-weight:600;text-transform:capitalize}.decided.approved{color:#2e7d32}.decided.rejected{color:#c62828}
@media (max-width:40rem){body{margin:1rem auto;padding:0 .75rem}h1{font-size:1.3rem}}
"""
STATIC = Path(__file__).parent / "static"


@router.get("/ui/style.css")
def stylesheet() -> Response:
    """The pages' stylesheet (the article's rules and the pages' own); it needs no database."""
    return Response(CSS + PAGE_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/ui/app.js")
def script() -> Response:
    """The pages' one script (click a criterion, see its words), a static file so that the policy allows
    script from this site only."""
    body = (STATIC / "app.js").read_text()
    return Response(body, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/favicon.svg")
@router.get("/favicon.ico")
def favicon() -> Response:
    """The site's icon, a small SVG (also at /favicon.ico, where browsers look without a link)."""
    body = (STATIC / "favicon.svg").read_text()
    return Response(body, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
