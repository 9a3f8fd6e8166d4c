"""The error tree of `indicated`.

One root so callers can catch everything the engine raises on purpose::

    IndicatedError
     ├── KnowledgeError   a knowledge file (vocabulary, lexicon, policy, evidence) is invalid
     ├── InputError       a case cannot be read (empty, binary, too large, malformed JSON case or FHIR)
     └── MissingData      a request lacks data the engine cannot do without (CDS Hooks: HTTP 412)

An *unknown* criterion is a result, never an exception: it becomes a documentation request.
Foreign exceptions (YAML, pydantic, OS errors) are translated once, at the boundary that meets
them, with ``raise ... from exc``.
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
