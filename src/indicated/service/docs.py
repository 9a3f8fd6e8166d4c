"""The API documentation, /docs (Swagger UI) and /redoc (Redoc), served from this site: the pages load
the copies that the ``fastapi-offline`` package ships and start them with a static script of ours, so
they work without internet and under a policy that allows no inline script and no other host.

Why fastapi-offline's files rather than the ``swagger-ui-bundle`` package's: its Swagger UI is 5.x,
which reads the OpenAPI 3.1 documents FastAPI writes (swagger-ui-bundle 1.1.0 ships Swagger UI 4.15,
which refuses a 3.1 document), and it carries Redoc as well. Only its static files are used.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["DOCS_PATHS", "mount"]

VENDOR = Path(fastapi_offline.__file__).parent / "static"
OURS = Path(__file__).parent / "static"
# the pages, which get the documentation's own Content-Security-Policy (app.py)
DOCS_PATHS = frozenset({"/docs", "/redoc"})


def _page(title: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{escape(title)}</title>\n<link rel="icon" href="/favicon.svg" type="image/svg+xml">\n{head}\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def mount(app: FastAPI) -> None:
    """Add /docs and /redoc (the app is made with ``docs_url=None, redoc_url=None``) and the files they
    load: the vendored bundles under /docs-assets, our start-up scripts under /static."""
    app.mount("/docs-assets", StaticFiles(directory=VENDOR), name="docs-assets")
    app.mount("/static", StaticFiles(directory=OURS), name="static")
    spec = escape(app.openapi_url or "/openapi.json")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return _page(
            f"{app.title} - Swagger UI",
            '<link rel="stylesheet" href="/docs-assets/swagger-ui.css">',
            f'<div id="swagger-ui" data-url="{spec}"></div>\n'
            '<script src="/docs-assets/swagger-ui-bundle.js"></script>\n<script src="/static/swagger-init.js"></script>',
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _page(
            f"{app.title} - ReDoc",
            "",
            f'<div id="redoc" data-url="{spec}"></div>\n'
            '<script src="/docs-assets/redoc.standalone.js"></script>\n<script src="/static/redoc-init.js"></script>',
        )
