"""Typed data that flows through the pipeline: Case in, Assessment out.

Field names follow the JSON output contract of DESIGN.md exactly, because external checks and
other systems read that JSON; extra fields are additive only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["met", "not_met", "unknown"]
FindingStatus = Literal["present", "absent", "possible"]
Side = Literal["left", "right", "bilateral"]
SettingKind = Literal["inpatient", "outpatient"]
ReviewKind = Literal["prospective", "performed"]


class Determination(StrEnum):
    """Outcomes a service, a setting or a whole request can receive."""

    MEDICALLY_NECESSARY = "medically_necessary"
    PARTIALLY_MEDICALLY_NECESSARY = "partially_medically_necessary"
    NOT_MEDICALLY_NECESSARY = "not_medically_necessary"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    NO_APPLICABLE_POLICY = "no_applicable_policy"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Model):
    """Words of the record, with offsets such that ``source[start:end] == text``."""

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Finding(_Model):
    """One clinical fact about the patient, with the words that state it."""

    concept: str
    status: FindingStatus = "present"
    historical: bool = False
    hypothetical: bool = False
    value: str | None = None
    number: float | None = None
    unit: str | None = None  # of ``number`` where the record writes one: "mm", "degrees", "%"
    levels: list[str] = Field(default_factory=list)
    side: Side | None = None
    # the part of the spine the words place it in ("lumbar ESI", "Lumbar: 4 months of PT"), read for care so
    # that a record of neck and back care counts each for its own operation; None when nothing says
    region: str | None = None
    weeks: float | None = None
    count: int | None = None
    response: str | None = None
    # found during the operation under review ("an extruded fragment was found"): reported, never a criterion
    operative: bool = False
    evidence: list[Span] = Field(default_factory=list)


class RequestedService(_Model):
    """A procedure the request asks for, as a coder would bill it."""

    code: str
    system: str = "CPT"
    description: str = ""
    levels: list[str] = Field(default_factory=list)
    # how many levels the words say when they do not name them all ("a two-level laminectomy")
    level_count: int | None = None
    side: Side | None = None
    region: str | None = None
    evidence: list[Span] = Field(default_factory=list)
    # not named by the record: "is surgery indicated?" answered with the operation its findings call for
    implied: bool = False


class RequestedSetting(_Model):
    """Where the request asks for the procedure to be done, and for how long."""

    requested: SettingKind
    length_of_stay_days: float | None = None
    evidence: list[Span] = Field(default_factory=list)


class RecordPart(_Model):
    """Where one source document or resource sits in ``Case.text``, when the case was assembled from
    several (a FHIR Bundle): ``text[start:end]`` came from ``reference``."""

    reference: str
    kind: str
    title: str = ""
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class IgnoredResource(_Model):
    """A resource of a coded record that was read and gave nothing the engine uses (a code the value sets
    do not list, a status that rules it out, a kind of resource not read): listed, never dropped silently."""

    resource_type: str
    id: str | None = None
    reason: str = ""


class Case(_Model):
    """Everything the engine knows about one request, each fact traceable to the record."""

    text: str = ""
    age: int | None = Field(default=None, ge=0, le=130)
    sex: Literal["female", "male"] | None = None
    levels: list[str] = Field(default_factory=list)
    conservative_care_weeks: float | None = None
    symptom_weeks: float | None = None
    findings: list[Finding] = Field(default_factory=list)
    services: list[RequestedService] = Field(default_factory=list)
    setting: RequestedSetting | None = None
    # a request for a procedure (prospective) or a review of one the patient already had (performed)
    review: ReviewKind = "prospective"
    parts: list[RecordPart] = Field(default_factory=list)
    # resources of a coded record that were read and gave nothing used (FHIR input only)
    ignored: list[IgnoredResource] = Field(default_factory=list)

    def part_of(self, span: Span) -> RecordPart | None:
        """The document or resource a span of ``text`` came from (offsets within it: ``start - part.start``)."""
        return next((p for p in self.parts if p.start <= span.start and span.end <= p.end), None)


class PolicyRef(_Model):
    id: str
    version: str
    title: str = ""
    policy_set: str = ""


class PolicySnapshot(PolicyRef):
    """A policy as it stood when the request was judged: what the article says of it besides the
    criteria, so that a stored article renders as it was decided after the policy changes, is renamed
    or is withdrawn."""

    follows: str = ""
    pitfalls: list[str] = Field(default_factory=list)
    strengthen: list[str] = Field(default_factory=list)


class CriterionResult(_Model):
    """A criterion node after evaluation; ``depth`` and ``parent`` keep the tree readable."""

    id: str
    status: Status
    statement: str
    plain: str = ""
    to_document: str = ""
    depth: int = 0
    parent: str | None = None
    logic: str = "check"
    # decided by silence where the policy takes silence as absence (red flags, contraindications):
    # the article says "not mentioned (taken as absent)", never a tick with no words
    assumed: bool = False
    evidence: list[Span] = Field(default_factory=list)
    citations: list[int] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class ServiceResult(_Model):
    code: str
    system: str = "CPT"
    description: str = ""
    # what the procedure does, in everyday words (the patient article's name for it)
    plain_description: str = ""
    levels: list[str] = Field(default_factory=list)
    side: Side | None = None
    determination: Determination
    policy: PolicyRef | None = None
    # an add-on code takes the determination of the primary it serves and does not vote
    add_on: bool = False
    serves: str | None = None
    # the record asked about surgery without naming it; this is the operation its findings call for
    implied: bool = False
    # where the procedure is done (lumbar, thoracic, cervical, sacroiliac, other): a service outside the
    # library names its region
    region: str | None = None
    reasons: list[str] = Field(default_factory=list)
    criteria: list[CriterionResult] = Field(default_factory=list)


class SettingResult(_Model):
    requested: SettingKind | None = None
    recommended: SettingKind
    determination: Determination | None = None
    # while the procedure is not necessary or undecided, the setting takes its determination and does not vote
    follows_procedure: bool = False
    length_of_stay_days: float | None = None
    policy: PolicyRef | None = None
    reasons: list[str] = Field(default_factory=list)
    criteria: list[CriterionResult] = Field(default_factory=list)


class Reference(_Model):
    n: int
    id: str
    kind: str
    title: str
    issuer: str
    year: int | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)


class Cited(_Model):
    """A sentence quoted from the evidence library with the reference numbers that back it."""

    text: str
    citations: list[int] = Field(default_factory=list)


class ComponentAnswer(_Model):
    """One component question of the request ("Is fusion justified?") and its answer."""

    id: str
    question: str
    plain_question: str = ""
    codes: list[str] = Field(default_factory=list)
    determination: Determination | None = None
    answer: str
    plain_answer: str = ""
    evidence: list[Cited] = Field(default_factory=list)


class Assessment(_Model):
    """The determination article's content, before any rendering."""

    determination: Determination
    review: ReviewKind = "prospective"
    summary: str = ""
    services: list[ServiceResult] = Field(default_factory=list)
    setting: SettingResult | None = None
    case: Case
    missing_information: list[str] = Field(default_factory=list)
    would_change: list[str] = Field(default_factory=list)
    components: list[ComponentAnswer] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    related_questions: list[str] = Field(default_factory=list)
    # what the renderers need from the knowledge, as it stood when the request was judged: the policies
    # applied (follows, pitfalls, strengthen) and the glossary, whose terms the patient article explains
    # where it uses them
    policies: list[PolicySnapshot] = Field(default_factory=list)
    glossary: dict[str, str] = Field(default_factory=dict)
    # what a patient article calls a level ("spine level L4-L5"), from the knowledge's scope
    level_term: str = "level"
    policy_set: str = "clinical"
    engine_version: str = ""
    # a follow-up article (facts added to the case, then assessed again): what moved; absent otherwise,
    # so articles and stored JSON from before follow-ups read and print exactly as they did
    changes: Changes | None = Field(default=None, exclude_if=lambda v: v is None)


class Answer(_Model):
    """An answer to a topic question, quoted from the evidence library, every sentence cited."""

    question: str
    answered: bool
    sentences: list[Cited] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    related_questions: list[str] = Field(default_factory=list)
    note: str = ""


class CriterionChange(_Model):
    """A criterion whose status moved when facts were added; None: it was not judged on that side."""

    id: str
    statement: str
    plain: str = ""
    before: Status | None = None
    after: Status | None = None


class ServiceChange(_Model):
    """A service (or the setting, code ``setting``) whose determination or criteria moved; a determination
    of None on one side: the service was not requested there, or the setting had none."""

    code: str
    description: str = ""
    before: Determination | None = None
    after: Determination | None = None
    criteria: list[CriterionChange] = Field(default_factory=list)


class Changes(_Model):
    """What a follow-up changed: the determination before and after, each service and criterion that
    moved, and the answers to the topic questions asked with it."""

    before: Determination
    after: Determination
    facts_added: bool = True
    services: list[ServiceChange] = Field(default_factory=list)
    setting: ServiceChange | None = None
    # the stored assessment this one follows up, where a service stored both
    follows: str | None = None
    answers: list[Answer] = Field(default_factory=list)
