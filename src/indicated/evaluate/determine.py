"""Determination rules of DESIGN.md: per criterion tree, per add-on, and for the whole request."""

from __future__ import annotations

from indicated.models import Determination, ServiceResult, SettingResult, Status

D = Determination
_BY_STATUS = {"met": D.MEDICALLY_NECESSARY, "not_met": D.NOT_MEDICALLY_NECESSARY, "unknown": D.INSUFFICIENT_INFORMATION}
_RANK = [D.MEDICALLY_NECESSARY, D.INSUFFICIENT_INFORMATION, D.NOT_MEDICALLY_NECESSARY]


def status_to_determination(status: Status) -> Determination:
    return _BY_STATUS[status]


def combine(determinations: list[Determination], *, best: bool) -> Determination:
    """The most (``best``) or least favourable of several determinations."""
    ranked = sorted(determinations, key=_RANK.index)
    return ranked[0] if best else ranked[-1]


def overall(services: list[ServiceResult], setting: SettingResult | None) -> Determination:
    """No policy anywhere -> no_applicable_policy; all necessary -> necessary; all not -> not;
    any insufficient -> insufficient; otherwise partially necessary. The setting counts as a service."""
    judged = [s.determination for s in services if s.determination != D.NO_APPLICABLE_POLICY]
    if not judged:
        return D.NO_APPLICABLE_POLICY
    if setting is not None and setting.determination is not None:
        judged.append(setting.determination)
    if all(d == D.MEDICALLY_NECESSARY for d in judged):
        return D.MEDICALLY_NECESSARY
    if all(d == D.NOT_MEDICALLY_NECESSARY for d in judged):
        return D.NOT_MEDICALLY_NECESSARY
    if D.INSUFFICIENT_INFORMATION in judged:
        return D.INSUFFICIENT_INFORMATION
    return D.PARTIALLY_MEDICALLY_NECESSARY
