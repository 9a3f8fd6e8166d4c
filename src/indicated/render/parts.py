"""Pieces every article shares (clinician, reviewer, patient, topic answer): citation marks, a
reference line and the footer naming the policies and the date."""

from __future__ import annotations

from datetime import date

from indicated.models import Assessment, Reference

__all__ = ["Citations", "cites", "footer", "reference_line"]


def cites(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


class Citations:
    """One article's own numbering of the references it cites.

    The Assessment numbers every reference any criterion of any tree cites; an article shows a part of
    that (the deciding criteria, one audience's sections), so it lists exactly the references its visible
    text cites, numbered in the order the reader meets them. Render the sections top to bottom through
    :meth:`cite`, then list :meth:`references`.

        >>> c = Citations([Reference(n=1, id="a", kind="study", title="A", issuer="X"),
        ...                Reference(n=2, id="b", kind="study", title="B", issuer="Y")])
        >>> c.cite([2, 1]), c.cite([1]), [r.id for r in c.references()]
        ('[1][2]', '[2]', ['b', 'a'])
    """

    def __init__(self, references: list[Reference]) -> None:
        self._by_n = {r.n: r for r in references}
        self._new: dict[int, int] = {}  # the Assessment's number -> this article's

    def cite(self, numbers: list[int]) -> str:
        """The citation marks for ``numbers`` (the Assessment's), renumbered on first use."""
        known = [n for n in numbers if n in self._by_n]
        return cites([self._new.setdefault(n, len(self._new) + 1) for n in known])

    def references(self) -> list[Reference]:
        """The references cited so far, in the article's numbering."""
        return [self._by_n[old].model_copy(update={"n": new}) for old, new in self._new.items()]


def reference_line(r: Reference) -> str:
    return f"{r.n}. {r.issuer}. {r.title}. {r.year or 'n.d'}." + _ids(r.identifiers)


def footer(a: Assessment, today: date | None) -> str:
    versions = ", ".join(f"{s.policy.id} {s.policy.version}" for s in a.services if s.policy and not s.serves)
    return (
        f"*Policy set: {a.policy_set}; policies: {versions or 'none'}; engine {a.engine_version}; "
        f"date {(today or date.today()).isoformat()}.*"
    )


def _ids(ids: dict[str, str]) -> str:
    parts = [
        f"PMID {ids['pmid']}" if "pmid" in ids else "",
        f"doi:{ids['doi']}" if "doi" in ids else "",
        ids.get("url", ""),
    ]
    return (" " + "; ".join(p for p in parts if p) + ".") if any(parts) else ""
