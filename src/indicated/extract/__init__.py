"""extract: text -> Case. Facts keep the character spans that state them."""

from __future__ import annotations

from indicated.extract.demographics import age_and_sex
from indicated.extract.findings import findings
from indicated.extract.nlp import pipeline
from indicated.extract.services import requested_services, requested_setting
from indicated.extract.summary import case_levels, conservative_care_weeks, symptom_weeks
from indicated.kb.loader import Knowledge, bundled
from indicated.models import Case

__all__ = ["extract"]


def extract(text: str, *, kb: Knowledge | None = None) -> Case:
    """Read one case text into a Case (deterministic: same text, same Case)."""
    kb = kb or bundled()
    doc = pipeline()(text)
    facts = findings(doc, kb)
    services = requested_services(doc, kb)
    age, sex = age_and_sex(text)
    return Case(
        text=text,
        age=age,
        sex=sex,
        levels=case_levels(text, services),
        conservative_care_weeks=conservative_care_weeks(facts),
        symptom_weeks=symptom_weeks(facts),
        findings=facts,
        services=services,
        setting=requested_setting(doc),
    )
