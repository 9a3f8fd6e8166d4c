"""The whole pipeline in one call: text or Case -> Assessment."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

from indicated.errors import InputError
from indicated.evaluate import evaluate
from indicated.explain import explain
from indicated.kb.loader import Knowledge, bundled
from indicated.models import Assessment, Case
from indicated.route import route, setting_policy

DEFAULT_POLICY_SET = "clinical"


@lru_cache(maxsize=1)
def engine_version() -> str:
    """The installed package version, read once: package metadata lookups cost about a millisecond."""
    try:
        return version("indicated")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def assess(
    case: str | Case,
    *,
    policy_set: str = DEFAULT_POLICY_SET,
    kb: Knowledge | None = None,
    as_of: date | None = None,
) -> Assessment:
    """Assess one case given as text or as an already structured :class:`Case`.

    ``as_of`` (default today) anchors dates written only as a year when the note has no date of its own.

    >>> assess("Is an L5-S1 microdiscectomy medically necessary for sciatica?").determination.value
    'insufficient_information'
    """
    kb = kb or bundled()
    if policy_set not in kb.policy_sets():
        raise InputError(f"unknown policy set {policy_set!r}; choose one of: {', '.join(kb.policy_sets())}")
    if isinstance(case, str):
        from indicated.extract import extract

        case = extract(case, kb=kb, as_of=as_of or date.today())
    routes = route(case, kb, policy_set=policy_set)
    evaluation = evaluate(case, routes, setting_policy(kb, policy_set), kb.record_sources)
    return explain(case, evaluation, kb, policy_set=policy_set, version=engine_version())
