"""route: requested services -> the policy of the chosen set that covers each of them."""

from __future__ import annotations

from dataclasses import dataclass

from indicated.extract.regions import region_of_segments
from indicated.kb.loader import Knowledge
from indicated.kb.schema import Policy, PolicyService
from indicated.models import Case, RequestedService

__all__ = ["Route", "route"]


@dataclass(frozen=True)
class Route:
    service: RequestedService
    policy: Policy | None
    spec: PolicyService | None
    region: str | None = None
    # why no policy applies, in words a reader can act on ("no criteria for cervical spine procedures")
    outside: str = ""


def route(case: Case, kb: Knowledge, *, policy_set: str = "clinical") -> list[Route]:
    """Pair each requested service with its policy; a service no policy covers gets ``None``."""
    candidates: dict[str, list[tuple[Policy, PolicyService]]] = {}
    for policy in kb.policies_in(policy_set):
        if policy.kind != "procedure":
            continue
        for spec in policy.services:
            candidates.setdefault(spec.code, []).append((policy, spec))
    requested = {s.code for s in case.services}
    # recognised primary procedures that no policy of the set covers (an ACDF beside a lumbar request)
    outside = {c for c in requested if c in kb.codes and not kb.codes[c].add_on and c not in candidates}
    routes = []
    for svc in case.services:
        options = candidates.get(svc.code, [])
        # an add-on listed by several policies (instrumentation) goes with the primary that is requested
        serving = [o for o in options if set(o[1].add_on_to) & requested]
        if options and not serving and all(o[1].add_on_to for o in options) and outside:
            # none of its primaries is requested, but a procedure outside the library is: the add-on
            # (the plate of "C5-6 ACDF with anterior plate") serves that one and is outside too
            options = []
        policy, spec = (serving or options or [(None, None)])[0]
        region = _region(kb, case, svc, spec)
        routes.append(Route(svc, policy, spec, region, "" if policy else _outside(kb, region)))
    return routes


def _region(kb: Knowledge, case: Case, svc: RequestedService, spec: PolicyService | None) -> str | None:
    """Where a service is done: as given, else where its levels lie, else, for an add-on, where the primary
    it serves is done (63048 adds a level to a cervical 63045 as well as to a lumbar 63047), else the
    region of its code."""
    placed = svc.region or (region_of_segments(kb, svc.levels) if svc.levels else None)
    if placed:
        return placed
    code = kb.codes.get(svc.code)
    if code is not None and code.add_on and spec is not None:
        primary = next((s for s in case.services if s.code in spec.add_on_to and s is not svc), None)
        if primary is not None:
            return _region(kb, case, primary, None)
    return code.region if code else None


def _outside(kb: Knowledge, region: str | None) -> str:
    """Why a service has no policy, naming its region where the library covers none of it."""
    place = kb.regions.get(region or "")
    if place is not None and not place.covered:
        covered = [r.label for r in kb.procedures.regions if r.covered]
        scope = ", ".join(covered[:-1]) + f" and {covered[-1]}" if len(covered) > 1 else "".join(covered)
        return f"This library holds no criteria for {place.label} procedures; it covers {scope} surgery."
    return "No policy in this set covers this service."


def setting_policy(kb: Knowledge, policy_set: str) -> Policy | None:
    return next((p for p in kb.policies_in(policy_set) if p.kind == "setting"), None)
