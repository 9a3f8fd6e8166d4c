"""Kleene three-valued logic over criterion statuses (met / not_met / unknown).

``all`` is not_met if any child is not_met, unknown if any is unknown, else met; ``any`` is met if
any child is met, not_met if all are not_met, else unknown; ``at_least(n)`` is met once n children
are met and not_met once too few remain possible; ``not`` swaps met and not_met.
"""

from __future__ import annotations

from collections.abc import Iterable

from indicated.models import Status

MET: Status = "met"
NOT_MET: Status = "not_met"
UNKNOWN: Status = "unknown"


def all_of(statuses: Iterable[Status]) -> Status:
    s = list(statuses)
    if NOT_MET in s:
        return NOT_MET
    return UNKNOWN if UNKNOWN in s else MET


def any_of(statuses: Iterable[Status]) -> Status:
    s = list(statuses)
    if MET in s:
        return MET
    return UNKNOWN if UNKNOWN in s else NOT_MET


def at_least(n: int, statuses: Iterable[Status]) -> Status:
    s = list(statuses)
    met, unknown = s.count(MET), s.count(UNKNOWN)
    if met >= n:
        return MET
    return NOT_MET if met + unknown < n else UNKNOWN


def negate(status: Status) -> Status:
    return {MET: NOT_MET, NOT_MET: MET, UNKNOWN: UNKNOWN}[status]
