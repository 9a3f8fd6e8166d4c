"""The whole pipeline in one call, on the bundled knowledge unless an engine is given."""

from __future__ import annotations

from datetime import date

from indicated.engine import DEFAULT_POLICY_SET, Engine
from indicated.kb.loader import Knowledge
from indicated.models import Assessment, Case


def assess(
    case: str | Case,
    *,
    policy_set: str = DEFAULT_POLICY_SET,
    engine: Engine | None = None,
    kb: Knowledge | None = None,
    as_of: date | None = None,
) -> Assessment:
    """Assess one case given as text or as an already structured :class:`Case`.

    ``engine`` (or a ``kb`` to build one from) defaults to :meth:`Engine.bundled`.

    >>> assess("Is an L5-S1 microdiscectomy medically necessary for sciatica?").determination.value
    'insufficient_information'
    """
    engine = engine or (Engine.of(kb) if kb is not None else Engine.bundled())
    return engine.assess(case, policy_set=policy_set, as_of=as_of)
