"""Cross-site request forgery: a state-changing request a browser sends from another site (or another
port of this host, which SameSite cookies do not stop) is refused before it reaches a route.

The check reads what browsers add to every such request: ``Sec-Fetch-Site`` where it is sent, else
``Origin``. A request with neither is not from a browser page (a script, curl, an EHR), and carries no
cookie a page could have borrowed, so it is left to the route's own credentials."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from indicated.service.deps import COOKIE

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def forged(request: Request) -> bool:
    """Whether this request changes state on behalf of a browser page from another origin."""
    if request.method not in UNSAFE:
        return False
    if COOKIE not in request.cookies and not request.url.path.startswith("/ui/"):
        return False  # no cookie to ride on, and not a form of ours (the login form included)
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()
