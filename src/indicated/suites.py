"""Run the case suites that sit beside each policy (OPA style: a policy ships with its own tests).

A case gives a note (``text``) or a structured case (``facts``, OPA's ``with input as``). Running a
suite also records every status each criterion took across its cases, so a criterion never seen both
met and not met is reported (coverage per criterion, not per line).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from indicated.engine import Engine
from indicated.errors import InputError
from indicated.kb.loader import Knowledge, load_policy_cases
from indicated.kb.schema import PolicyCase
from indicated.models import Assessment, CriterionResult, Status

__all__ = ["SuiteResult", "check_case", "run_suites"]


@dataclass
class SuiteResult:
    policy: str
    total: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    # every criterion of the policy's tree (nested ones too) with the statuses its cases produced
    seen: dict[str, set[Status]] = field(default_factory=dict)

    @property
    def passed(self) -> int:
        return self.total - len(self.failures)

    @property
    def one_sided(self) -> dict[str, set[Status]]:
        """The criteria the suite never saw both met and not met, with the statuses it did see."""
        return {cid: got for cid, got in self.seen.items() if not {"met", "not_met"} <= got}


def check_case(policy_id: str, case: PolicyCase, kb: Knowledge | None = None) -> str | None:
    """Assess the case (its text, or its facts as given) under its policy's set; a description of what
    did not hold, or None."""
    return _run_case(policy_id, case, kb or Engine.bundled().knowledge)[0]


def _run_case(policy_id: str, case: PolicyCase, kb: Knowledge) -> tuple[str | None, list[CriterionResult]]:
    from indicated.pipeline import assess

    a = assess(case.facts or case.text or "", policy_set=kb.policies[policy_id].policy_set, kb=kb)
    problems = []
    if a.determination.value != case.determination:
        problems.append(f"overall {a.determination.value}, expected {case.determination}")
    got = {s.code: s.determination.value for s in a.services}
    problems += [
        f"{code} {got.get(code, 'not requested')}, expected {want}"
        for code, want in case.services.items()
        if got.get(code) != want
    ]
    if case.setting:
        setting = a.setting.determination.value if a.setting and a.setting.determination else None
        if setting != case.setting:
            problems.append(f"setting {setting}, expected {case.setting}")
    criteria = _criteria(policy_id, a)
    if case.criteria:
        results = {c.id: c.status for c in criteria}
        problems += [
            f"criterion {cid} {results.get(cid, 'not evaluated')}, expected {want}"
            for cid, want in case.criteria.items()
            if results.get(cid) != want
        ]
    return "; ".join(problems) or None, criteria


def _criteria(policy_id: str, a: Assessment) -> list[CriterionResult]:
    """The criterion results the policy produced in an assessment: of each service it judged, and of
    the setting when it is the setting's policy."""
    out = [c for s in a.services if s.policy and s.policy.id == policy_id for c in s.criteria]
    if a.setting and a.setting.policy and a.setting.policy.id == policy_id:
        out += a.setting.criteria
    return out


def run_suites(policy_ids: list[str] | None = None, kb: Knowledge | None = None) -> list[SuiteResult]:
    """Every named case of the chosen policies (all by default), in policy order."""
    kb = kb or Engine.bundled().knowledge
    suites = load_policy_cases()
    wanted = policy_ids or sorted(kb.policies)
    unknown = [p for p in wanted if p not in kb.policies]
    if unknown:
        raise InputError(f"unknown policy {', '.join(unknown)}; choose from: {', '.join(sorted(kb.policies))}")
    results = []
    for pid in wanted:
        result = SuiteResult(pid, seen={n.id: set() for n in kb.policies[pid].criteria.walk()})
        for case in suites[pid].cases if pid in suites else []:
            result.total += 1
            problem, criteria = _run_case(pid, case, kb)
            if problem:
                result.failures.append((case.name, problem))
            for c in criteria:
                result.seen.setdefault(c.id, set()).add(c.status)
        results.append(result)
    return results
