"""How each determination is worded, in one table, and the one ranking of determinations.

The summary sentence, the article headlines, the component answers, the patient article and the CDS
Hooks cards all word a determination from :data:`WORDING`, so a change of wording is one edit here.
It sits beside the models, below every stage, so that explain and render (and the FHIR answers) read
the same table without importing one another.

    >>> WORDING[Determination.NOT_MEDICALLY_NECESSARY].title
    'Criteria not met — physician review'
    >>> worst([Determination.MEDICALLY_NECESSARY, Determination.INSUFFICIENT_INFORMATION]).value
    'insufficient_information'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from indicated.models import Determination

__all__ = ["RANK", "WORDING", "Wording", "best", "worst"]

D = Determination


@dataclass(frozen=True)
class Wording:
    """Every phrase that names one determination, by where it is used."""

    words: str  # the value in words, inside a sentence ("not medically necessary")
    title: str  # the clinician article's headline ("Criteria not met — physician review")
    verdict: str  # the summary sentence after "The request for ..." ("is medically necessary")
    verdict_past: str  # the same for a review of a procedure already performed ("was ...")
    answer: str  # a component question's answer for clinicians ("Yes")
    plain_answer: str  # the same for patients
    short_answer: str  # the patient article's short answer
    plain_final: str  # one service line of the patient article's final answer
    card: str  # a CDS Hooks card's summary ({label}: the order's name and codes)
    lead: str = ""  # the summary: before the reasons of a service so determined ("not met: ")
    # one service's verdict after its name ("is not medically necessary"), then in a review of care given
    state: str = ""
    state_past: str = ""
    # what would change the determination, for each criterion that would ({0}: what to document,
    # {1}: the criterion as a clause); empty where no criterion turns it
    change: str = ""
    plain_change: str = ""  # the same for patients, before the criterion's plain wording


WORDING: dict[Determination, Wording] = {
    D.MEDICALLY_NECESSARY: Wording(
        state="is medically necessary",
        state_past="was medically necessary",
        words="medically necessary",
        title="Medically necessary",
        verdict="is medically necessary",
        verdict_past="was medically necessary",
        answer="Yes",
        plain_answer="Yes. Your records meet the rules for this.",
        short_answer="Yes. Your records show that this care meets the rules for being medically needed.",
        plain_final="meets the rules",
        card="{label}: criteria met",
        change="Would change if: {1}.",
        plain_change="The answer could change if this were true",
    ),
    D.PARTIALLY_MEDICALLY_NECESSARY: Wording(
        state="is partially medically necessary",
        state_past="was partially medically necessary",
        words="partially medically necessary",
        title="Partially medically necessary",
        verdict="is partially medically necessary",
        verdict_past="was partially medically necessary",
        answer="In part",
        plain_answer="Some parts meet the rules and some do not.",
        short_answer="In part. Some of what was asked for meets the rules. Some of it does not yet.",
        plain_final="meets the rules in part",
        card="{label}: criteria partly met",
    ),
    D.NOT_MEDICALLY_NECESSARY: Wording(
        state="is not medically necessary",
        state_past="was not medically necessary",
        words="not medically necessary",
        title="Criteria not met — physician review",
        verdict="does not meet the criteria for medical necessity (referred for physician review)",
        verdict_past="did not meet the criteria for medical necessity (referred for physician review)",
        answer="Not on this record (referred for physician review)",
        plain_answer="Not based on these records. A doctor will look at the request.",
        short_answer=(
            "Not yet. Your records do not meet the rules for this care. This is not a final no. "
            "A doctor will look at the request."
        ),
        plain_final="does not meet the rules yet; a doctor will review it",
        card="{label}: criteria not met, physician review",
        lead="not met: ",
        change="Would change if met: {1}.",
        plain_change="This rule is not met now",
    ),
    D.INSUFFICIENT_INFORMATION: Wording(
        state="cannot be decided yet",
        state_past="cannot be decided yet",
        words="insufficient information",
        title="Insufficient information",
        verdict="cannot be decided yet: the record is missing required information",
        verdict_past="cannot be decided yet: the record is missing required information",
        answer="Not yet: the record is missing information",
        plain_answer="We cannot tell yet. Some facts are missing from your records.",
        short_answer="We cannot tell yet. Some facts that the rules ask for are not in your records.",
        plain_final="we need more facts to decide",
        card="{label}: document more before prior authorization",
        lead="not documented: ",
        change="Document: {0}",
        plain_change="Your records do not show this yet",
    ),
    D.NO_APPLICABLE_POLICY: Wording(
        state="has no criteria in this library",
        state_past="has no criteria in this library",
        words="no applicable policy",
        title="No applicable policy",
        verdict="is outside the criteria this engine holds: no applicable policy",
        verdict_past="is outside the criteria this engine holds: no applicable policy",
        answer="No criteria in this library cover it",
        plain_answer="Our rules do not cover this.",
        short_answer="We cannot answer this one. Our rules do not cover what was asked for.",
        plain_final="our rules do not cover it",
        card="No criteria in this library for {label}",
    ),
}

# most favourable first. Voting ranks the services of one request (evaluate.determine.combine), an
# order or claim item with several codes takes the least favourable of theirs (fhir.coverage).
RANK: tuple[Determination, ...] = (
    D.MEDICALLY_NECESSARY,
    D.NO_APPLICABLE_POLICY,
    D.PARTIALLY_MEDICALLY_NECESSARY,
    D.INSUFFICIENT_INFORMATION,
    D.NOT_MEDICALLY_NECESSARY,
)


def best(determinations: Iterable[Determination]) -> Determination:
    """The most favourable of several determinations (at least one)."""
    return min(determinations, key=RANK.index)


def worst(determinations: Iterable[Determination]) -> Determination:
    """The least favourable of several determinations (at least one)."""
    return max(determinations, key=RANK.index)
