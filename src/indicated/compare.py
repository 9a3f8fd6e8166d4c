"""compare: one case under every policy set, side by side, with the criteria that made them differ.

A reviewer comparing a commercial and a Medicare answer wants to see, per service, which policy each
set applied and which of its criteria were not met or not documented; criteria met under both say
nothing about the difference and are left out.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from indicated.engine import Engine
from indicated.kb.loader import Knowledge
from indicated.models import Assessment, Case, CriterionResult, Determination, ServiceResult, SettingResult
from indicated.reasons import leaves

__all__ = ["Comparison", "ServiceComparison", "SetOutcome", "compare"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SetOutcome(_Model):
    """How one set decided one service: the policy it used and the criteria that held it back."""

    policy_set: str
    determination: Determination | None
    policy: str | None = None
    policy_title: str = ""
    deciding: list[str] = Field(default_factory=list)


class ServiceComparison(_Model):
    code: str
    description: str = ""
    differs: bool
    outcomes: list[SetOutcome]


class Comparison(_Model):
    sets: list[str]
    overall: dict[str, Determination]
    services: list[ServiceComparison]
    setting: ServiceComparison | None = None


def _deciding(criteria: list[CriterionResult]) -> list[str]:
    """The criteria that were not met or not documented on the path that decided the answer."""
    return [f"{c.status}: {c.statement}" for status in ("not_met", "unknown") for c in leaves(criteria, status)]


def compare(case: str | Case, *, kb: Knowledge | None = None) -> Comparison:
    """Assess ``case`` once per policy set (extracting the text once) and line the answers up."""
    engine = Engine.of(kb) if kb is not None else Engine.bundled()
    parsed = engine.extract(case) if isinstance(case, str) else case
    sets = engine.knowledge.policy_sets()
    runs: dict[str, Assessment] = {s: engine.assess(parsed, policy_set=s) for s in sets}

    services = [
        _line_up(
            svc.code,
            svc.description,
            [_outcome(s, next(x for x in a.services if x.code == svc.code)) for s, a in runs.items()],
        )
        for svc in parsed.services
    ]
    setting = None
    if any(a.setting and a.setting.determination for a in runs.values()):
        outcomes = [_outcome(s, a.setting) for s, a in runs.items()]
        setting = _line_up("setting", "Inpatient or outpatient setting", outcomes)
    return Comparison(
        sets=sets,
        overall={s: a.determination for s, a in runs.items()},
        services=services,
        setting=setting,
    )


def _outcome(policy_set: str, result: ServiceResult | SettingResult | None) -> SetOutcome:
    if result is None:
        return SetOutcome(policy_set=policy_set, determination=None)
    return SetOutcome(
        policy_set=policy_set,
        determination=result.determination,
        policy=result.policy.id if result.policy else None,
        policy_title=result.policy.title if result.policy else "",
        deciding=_deciding(result.criteria),
    )


def _line_up(code: str, description: str, outcomes: list[SetOutcome]) -> ServiceComparison:
    differs = len({(o.determination, tuple(o.deciding)) for o in outcomes}) > 1
    return ServiceComparison(code=code, description=description, differs=differs, outcomes=outcomes)
