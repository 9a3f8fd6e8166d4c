"""Run the case suites that sit beside each policy (OPA style: a policy ships with its own tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from indicated.engine import Engine
from indicated.errors import InputError
from indicated.kb.loader import Knowledge, load_policy_cases
from indicated.kb.schema import PolicyCase

__all__ = ["SuiteResult", "check_case", "run_suites"]


@dataclass
class SuiteResult:
    policy: str
    total: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.total - len(self.failures)


def check_case(policy_id: str, case: PolicyCase, kb: Knowledge | None = None) -> str | None:
    """Assess the case under its policy's set; a description of what did not hold, or None."""
    from indicated.pipeline import assess

    kb = kb or Engine.bundled().knowledge
    a = assess(case.text, policy_set=kb.policies[policy_id].policy_set, kb=kb)
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
    if case.criteria:
        results = {c.id: c.status for s in a.services if s.policy and s.policy.id == policy_id for c in s.criteria}
        if a.setting and a.setting.policy and a.setting.policy.id == policy_id:
            results |= {c.id: c.status for c in a.setting.criteria}
        problems += [
            f"criterion {cid} {results.get(cid, 'not evaluated')}, expected {want}"
            for cid, want in case.criteria.items()
            if results.get(cid) != want
        ]
    return "; ".join(problems) or None


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
        result = SuiteResult(pid)
        for case in suites[pid].cases if pid in suites else []:
            result.total += 1
            problem = check_case(pid, case, kb)
            if problem:
                result.failures.append((case.name, problem))
        results.append(result)
    return results
