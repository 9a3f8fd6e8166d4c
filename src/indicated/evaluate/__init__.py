"""evaluate: policy criteria x Case -> service and setting determinations."""

from __future__ import annotations

from dataclasses import dataclass

from indicated.evaluate.determine import combine, overall, status_to_determination, vote, voters
from indicated.evaluate.predicates import World, world_of
from indicated.evaluate.tree import evaluate_tree
from indicated.kb.loader import Knowledge
from indicated.kb.schema import Policy
from indicated.models import Case, Determination, PolicyRef, ServiceResult, SettingResult
from indicated.route import Route

__all__ = ["Evaluation", "evaluate"]

D = Determination


@dataclass(frozen=True)
class Evaluation:
    services: list[ServiceResult]
    setting: SettingResult | None
    determination: Determination


def _ref(policy: Policy) -> PolicyRef:
    return PolicyRef(id=policy.id, version=policy.version, title=policy.title, policy_set=policy.policy_set)


def _requested(r: Route) -> dict[str, object]:
    """The fields a result copies from the request, so every result names what was asked for."""
    return r.service.model_dump(include={"code", "system", "description", "levels", "side", "implied"}) | {
        "region": r.region
    }


def evaluate(case: Case, routes: list[Route], setting_policy: Policy | None, kb: Knowledge) -> Evaluation:
    """Judge primaries on their criteria, add-ons with the primary they serve, then the setting.

    ``kb`` tells which record sources the case describes (an imaging report), for criteria closed given
    their source, and which concepts are conservative care."""
    world = world_of(case, kb)
    results: dict[str, ServiceResult] = {}
    for r in routes:
        svc = r.service
        base = _requested(r)
        if r.policy is None:
            results[svc.code] = ServiceResult(**base, determination=D.NO_APPLICABLE_POLICY, reasons=[r.outside])
        elif not r.spec or not r.spec.add_on_to:
            # the service as routed, with its region: care given elsewhere in the spine does not count for it
            criteria = evaluate_tree(r.policy.criteria, case, svc.model_copy(update={"region": r.region}), world)
            results[svc.code] = ServiceResult(
                **base,
                determination=status_to_determination(criteria[0].status),
                policy=_ref(r.policy),
                criteria=criteria,
            )
    for r in routes:
        if r.policy is None or not r.spec or not r.spec.add_on_to:
            continue
        primaries = [results[c] for c in r.spec.add_on_to if c in results]
        svc = r.service
        base = _requested(r) | {"policy": _ref(r.policy), "add_on": True}
        if primaries:
            best = combine([p.determination for p in primaries], best=True)
            served = next(p for p in primaries if p.determination == best)
            own = _own_levels(kb, r, base, served, case, world)
            if own is not None:
                results[svc.code] = own
                continue
            results[svc.code] = ServiceResult(
                **base,
                determination=best,
                serves=served.code,
                reasons=[f"Judged with the primary procedure {served.code} it serves."],
            )
        else:
            results[svc.code] = ServiceResult(
                **base,
                determination=D.INSUFFICIENT_INFORMATION,
                reasons=[f"An add-on code: document the primary procedure it serves ({', '.join(r.spec.add_on_to)})."],
            )
    services = [results[r.service.code] for r in routes]
    setting = _setting(case, services, setting_policy, world)
    return Evaluation(services, setting, overall(services, setting))


def _own_levels(
    kb: Knowledge, r: Route, base: dict[str, object], served: ServiceResult, case: Case, world: World
) -> ServiceResult | None:
    """An extra level (22552 with 22551, 63048 with 63047) judged on its own levels when the record
    describes that level and the criteria fail there ("C6-C7: minimal bulge, no nerve root compression");
    None when it goes with its primary. A level the record leaves unsaid stays with its primary."""
    primary = kb.codes.get(served.code)
    if primary is None or primary.per_level != r.service.code or not r.service.levels or r.policy is None:
        return None
    if served.determination == D.NOT_MEDICALLY_NECESSARY:
        return None
    if not any(set(f.levels) & set(r.service.levels) for f in case.findings):
        return None  # the record says nothing at this level: it goes with its primary
    criteria = evaluate_tree(r.policy.criteria, case, r.service.model_copy(update={"region": r.region}), world)
    if status_to_determination(criteria[0].status) != D.NOT_MEDICALLY_NECESSARY or criteria[0].assumed:
        return None
    levels = ", ".join(r.service.levels)
    return ServiceResult(
        **base,
        determination=D.NOT_MEDICALLY_NECESSARY,
        criteria=criteria,
        reasons=[f"Judged at its own level ({levels}), where the record says the criteria are not met."],
    )


def _setting(case: Case, services: list[ServiceResult], policy: Policy | None, world: World) -> SettingResult | None:
    judged = voters(services)
    if policy is None or not judged:
        return None
    criteria = evaluate_tree(policy.criteria, case, None, world)
    recommended = "inpatient" if criteria[0].status == "met" else "outpatient"
    requested = case.setting.requested if case.setting else None
    result = SettingResult(
        requested=requested,
        recommended=recommended,
        policy=_ref(policy),
        criteria=criteria,
        length_of_stay_days=case.setting.length_of_stay_days if case.setting else None,
    )
    if requested is None:
        return result
    procedures = vote([s.determination for s in judged])
    if procedures in (D.NOT_MEDICALLY_NECESSARY, D.INSUFFICIENT_INFORMATION):
        result.determination = procedures
        result.follows_procedure = True
        result.reasons = ["The setting follows the procedure, which is not yet approvable."]
    elif requested == "outpatient":
        result.determination = D.MEDICALLY_NECESSARY
        result.reasons = ["An outpatient setting is the least intensive appropriate setting."]
    else:
        result.determination = status_to_determination(criteria[0].status)
    return result
