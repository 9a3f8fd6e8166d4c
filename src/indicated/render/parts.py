"""Pieces every article shares (clinician, reviewer, patient, topic answer): citation marks, a
reference line and the footer naming the policies and the date."""

from __future__ import annotations

from datetime import date

from indicated.models import Assessment, Reference

__all__ = ["cites", "footer", "reference_line"]


def cites(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


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
