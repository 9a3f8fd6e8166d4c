"""The error tree of `indicated`.

One root so callers can catch everything the engine raises on purpose::

    IndicatedError
     ├── KnowledgeError   a knowledge file (vocabulary, lexicon, policy, evidence) is invalid
     ├── InputError       a case cannot be read (empty, binary, too large, malformed JSON case or FHIR)
     ├── MissingData      a request lacks data the engine cannot do without (CDS Hooks: HTTP 412)
     ├── NotFound         what a request names does not exist: a CDS service, a prior-authorization
     │                    request or one of its items, an article (HTTP 404)
     ├── WorkflowError    a change the review workflow does not allow: rejecting an approved article,
     │                    a reviewer who already exists (HTTP 409)
     ├── Unauthorized     a request without valid credentials: no key, an expired session, a CDS
     │                    Hooks JWT that fails verification (HTTP 401)
     └── Throttled        too many failed log-ins for an account or from an address (HTTP 429)

An *unknown* criterion is a result, never an exception: it becomes a documentation request.
Foreign exceptions (YAML, pydantic, OS errors) are translated once, at the boundary that meets
them, with ``raise ... from exc``. Built-in lookup errors are never a signal: "no such claim" is
a `NotFound` raised where the lookup failed, so a ``KeyError`` from a bug stays a bug (HTTP 500).
The service maps each class to its HTTP answer in one place (``indicated.service.app``).
"""

from __future__ import annotations


class IndicatedError(Exception):
    """Root of every error the engine raises deliberately."""


class KnowledgeError(IndicatedError):
    """A knowledge file failed validation; the message names the file and the key path."""


class InputError(IndicatedError):
    """A case could not be read; the message is one line a user can act on."""


def first_problem(exc) -> tuple[str, str]:
    """Where a pydantic ValidationError's first problem is (a dotted path, empty at the top level)
    and what it says: every boundary that translates one words its own message around these two."""
    errors = exc.errors()
    if not errors:
        return "", "invalid request"
    return ".".join(str(p) for p in errors[0].get("loc", ())), str(errors[0].get("msg", "invalid request"))


class MissingData(IndicatedError):
    """A request left out data the engine needs and cannot fetch itself (a CDS Hooks prefetch)."""


class NotFound(IndicatedError):
    """What a request names does not exist (an unknown CDS service, claim or article); the message
    names it, so it can be shown as is."""


class WorkflowError(IndicatedError):
    """A change the review workflow does not allow (rejecting an approved article, adding a
    reviewer twice)."""


class Unauthorized(IndicatedError):
    """A request carries no credentials, or ones that do not verify; the message says which kind the
    route takes, never why a given key failed (that would help someone guessing)."""


class Throttled(IndicatedError):
    """Too many failed log-ins for one account or from one address within the window: the answer is
    429 with ``Retry-After``, and no password is checked, so guessing stops costing us CPU too."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed log-ins; try again in {retry_after} seconds")
