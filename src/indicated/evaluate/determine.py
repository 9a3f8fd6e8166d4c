"""Determination rules of DESIGN.md: per criterion tree, per add-on, and for the whole request."""

from __future__ import annotations

from indicated import wording
from indicated.models import Determination, ServiceResult, SettingResult, Status

D = Determination
_BY_STATUS = {"met": D.MEDICALLY_NECESSARY, "not_met": D.NOT_MEDICALLY_NECESSARY, "unknown": D.INSUFFICIENT_INFORMATION}


def status_to_determination(status: Status) -> Determination:
    return _BY_STATUS[status]


def combine(determinations: list[Determination], *, best: bool) -> Determination:
    """The most (``best``) or least favourable of several determinations, in the one ranking of
    :data:`indicated.wording.RANK`."""
    return wording.best(determinations) if best else wording.worst(determinations)


def voters(services: list[ServiceResult]) -> list[ServiceResult]:
    """The services that decide the request: primaries with a policy, and an extra level judged on its own
    criteria. Add-ons that follow their primary do not vote, unless no primary with a policy was requested
    at all (a bare "22840" is judged alone)."""
    judged = [s for s in services if s.determination != D.NO_APPLICABLE_POLICY]
    return [s for s in judged if not s.add_on or (s.serves is None and s.criteria)] or judged


def vote(determinations: list[Determination]) -> Determination:
    """All necessary -> necessary; all not -> not; necessary and not -> partially; any undecided -> insufficient."""
    if not determinations:
        return D.NO_APPLICABLE_POLICY
    if all(d == D.MEDICALLY_NECESSARY for d in determinations):
        return D.MEDICALLY_NECESSARY
    if all(d == D.NOT_MEDICALLY_NECESSARY for d in determinations):
        return D.NOT_MEDICALLY_NECESSARY
    if D.INSUFFICIENT_INFORMATION in determinations:
        return D.INSUFFICIENT_INFORMATION
    return D.PARTIALLY_MEDICALLY_NECESSARY


def overall(services: list[ServiceResult], setting: SettingResult | None) -> Determination:
    """The request's determination: the voting services, plus the requested setting once it was judged on
    its own criteria (while it follows an unapprovable procedure it does not vote). No policy for any
    service -> no_applicable_policy."""
    judged = [s.determination for s in voters(services)]
    if judged and setting is not None and setting.determination is not None and not setting.follows_procedure:
        judged.append(setting.determination)
    return vote(judged)
