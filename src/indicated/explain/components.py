"""Component questions: the parts of a request a reviewer judges one by one.

A fusion request is really several questions (is fusion justified? the screws? the grafts? navigation?
the inpatient stay?). Each is answered from the determinations of the codes it covers, in one sentence
for clinicians and one for patients, with the library statements that bear on it.
"""

from __future__ import annotations

from collections.abc import Callable

from indicated.evaluate import Evaluation
from indicated.evaluate.determine import overall
from indicated.kb.loader import Knowledge
from indicated.kb.schema import Component
from indicated.models import Cited, ComponentAnswer, ServiceResult
from indicated.reasons import deciding
from indicated.wording import WORDING

__all__ = ["answer_components"]

NOT_REQUESTED = "It was not requested."
PLAIN_NOT_REQUESTED = "This was not asked for."


def answer_components(
    ev: Evaluation, kb: Knowledge, cite: Callable[[str], int], present: frozenset[str] = frozenset()
) -> list[ComponentAnswer]:
    """One answer per component that the request raises; ``cite`` numbers a record on first use. A
    statement tied to conditions is quoted only where one of them is ``present`` in the case (concept ids)."""
    families = {s.code: _family(kb, s) for s in ev.services if s.code in kb.codes}
    regions = {s.region for s in ev.services if s.region}
    out = []
    for comp in kb.components.components:
        if comp.answers == "setting":
            answer = _setting(comp, ev)
        else:
            mine = [s for s in ev.services if families.get(s.code) in comp.families]
            raised = any(f in comp.asked_with for f in families.values())
            answer = _services(comp, mine) if mine else (_not_requested(comp) if raised else None)
        if answer is not None:
            fits = not comp.evidence_regions or regions & set(comp.evidence_regions)
            fitting = [sid for sid in comp.evidence if _speaks_to(comp, sid, present)]
            answer.evidence = [_quote(kb, sid, cite) for sid in fitting] if fits else []
            out.append(answer)
    return out


def _speaks_to(comp: Component, statement_id: str, present: frozenset[str]) -> bool:
    """Whether a statement fits the case: it names no condition, or one of its conditions is present."""
    conditions = comp.evidence_concepts.get(statement_id)
    return not conditions or bool(present & set(conditions))


def _family(kb: Knowledge, s: ServiceResult) -> str:
    """A service's procedure family; an extra level's add-on (63048 with 63045) is its primary's, so a
    second cervical level is answered with the neck's decompression, not the low back's."""
    primary = kb.codes.get(s.serves or "")
    return primary.family if primary is not None and primary.per_level == s.code else kb.codes[s.code].family


def _services(comp: Component, services: list[ServiceResult]) -> ComponentAnswer:
    det = overall(services, None)
    parts = []
    for s in services:
        why = f"judged with {s.serves}" if s.serves else "; ".join(deciding(s)[:2])
        parts.append(f"{s.code} {WORDING[s.determination].words}" + (f" ({why})" if why else ""))
    return ComponentAnswer(
        id=comp.id,
        question=comp.question,
        plain_question=comp.plain,
        codes=[s.code for s in services],
        determination=det,
        answer=f"{WORDING[det].answer}. " + "; ".join(parts) + ".",
        plain_answer=WORDING[det].plain_answer,
    )


def _not_requested(comp: Component) -> ComponentAnswer:
    return ComponentAnswer(
        id=comp.id,
        question=comp.question,
        plain_question=comp.plain,
        answer=NOT_REQUESTED,
        plain_answer=PLAIN_NOT_REQUESTED,
    )


def _setting(comp: Component, ev: Evaluation) -> ComponentAnswer | None:
    s = ev.setting
    if s is None:
        return None
    where = {"inpatient": "a hospital stay", "outpatient": "going home the same day"}
    recommended = f"The criteria point to the {s.recommended} setting"
    if s.requested is None or s.determination is None:
        answer = f"No setting was requested. {recommended}."
        plain = f"No setting was asked for. The rules point to {where[s.recommended]}."
    else:
        reasons = " ".join(s.reasons)
        answer = f"{WORDING[s.determination].answer}: {s.requested} requested. {recommended}. {reasons}".strip()
        plain = f"{WORDING[s.determination].plain_answer} The rules point to {where[s.recommended]}."
    return ComponentAnswer(
        id=comp.id,
        question=comp.question,
        plain_question=comp.plain,
        determination=s.determination,
        answer=answer,
        plain_answer=plain,
    )


def _quote(kb: Knowledge, statement_id: str, cite: Callable[[str], int]) -> Cited:
    source, statement = kb.statements[statement_id]
    return Cited(text=statement.text, citations=[cite(source.id)])
