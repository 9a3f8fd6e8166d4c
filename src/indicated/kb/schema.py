"""Schemas of the knowledge files, so a typo in a policy fails at load time, not at review time.

Every model forbids unknown keys. Criteria are trees of ``all`` / ``any`` / ``at_least`` / ``not``
nodes over declared predicates (``check``); no string in a policy is ever evaluated as code.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from indicated.models import Case, Side


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- vocabulary and lexicon -------------------------------------------------------------------


class Group(Strict):
    """A kind of concept (symptom, imaging, conservative care ...), with what its findings carry."""

    id: str
    # its findings carry the levels written beside them ("L4-5 disc extrusion")
    levels: bool = False
    # its findings tell the side of the complaint ("right arm tingling", "right triceps 4+/5"), the side a
    # finding checked at the operated level must be on when the request names none
    complaint: bool = False


class Reading(Strict):
    """How the words around a mention give its finding's value and its time (extract/attributes.py
    holds one reader per kind; the vocabulary chooses, so no concept is named in code)."""

    # a muscle grade ("4/5"); the morphology named ("extrusion"); a severity word; a slip's grade and
    # size; motion in mm or degrees; a curve's degrees; the number after ``key`` ("T-score -2.8"); how
    # many provocative tests were positive; the percent relief of a block
    value: (
        Literal["grade", "morphology", "severity", "slip", "motion", "curve", "number", "positive_tests", "relief"]
        | None
    ) = None
    key: str | None = None  # for ``number``: a regex for the words the number follows
    # the value may be written anywhere later in the sentence ("blocks ... the first gave 80% relief")
    to_sentence_end: bool = False
    # how long it has lasted (a symptom), months since it (an earlier operation), months of relief it
    # gave, or how many were done (diagnostic blocks)
    time: Literal["lasting", "months_ago", "months_of_relief", "count"] | None = None

    @model_validator(mode="after")
    def _key_for_number(self) -> Reading:
        if (self.value == "number") != bool(self.key):
            raise ValueError("a `number` reading needs a `key`, and only it takes one")
        return self


class Concept(Strict):
    id: str
    label: str
    plain: str
    group: str
    description: str = ""
    read: Reading = Field(default_factory=Reading)
    # a lasting condition: listed in a past-history section it is still the patient's ("PMH: diabetes")
    chronic: bool = False
    # what a mention of this concept in the past stands for ("smoked a pack a day until 2019": former
    # smoking, not current)
    past: str | None = None
    # its duration is how long the patient has had the symptoms (the case's symptom weeks)
    dates_symptoms: bool = False
    # what a mention stands for when it says it ended fewer than ``weeks`` ago ("quit smoking about a month
    # ago" is still nicotine use under a 6-week nicotine-free rule)
    recent: RecentAs | None = None


class RecentAs(Strict):
    concept: str
    weeks: float


class RecordSource(Strict):
    """A part of the record that states findings of its own kind, such as a spine imaging report.

    Once the record describes the source (any of ``concepts`` is present), a finding the source would
    state but does not name is absent: a check with ``world: source`` reads silence that way. With
    ``reported_by``, the record must also name the report itself (an MRI, a CT), say what it did not
    find ("no listhesis") or give a measurement ("Cobb angle of 35 degrees"): "Problem list: lumbar
    stenosis" is a diagnosis, not an imaging report that names stenosis and nothing else.
    """

    id: str
    label: str
    concepts: list[str] = Field(min_length=1)
    reported_by: list[str] = Field(default_factory=list)


class Vocabulary(Strict):
    version: str
    groups: list[Group] = Field(min_length=1)
    concepts: list[Concept]
    sources: list[RecordSource] = Field(default_factory=list)


class Term(Strict):
    """Words that name a concept; ``status`` lets a phrase assert absence ("normal strength")."""

    concept: str
    also: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)
    # "absent" for words that deny a finding outright ("normal strength"); "possible" for words that leave
    # it in doubt ("fusion status indeterminate")
    status: Literal["present", "absent", "possible"] = "present"
    value: str | None = None
    # false for words that open a list rather than state a fact when they head a line ("MEDICATIONS:")
    as_heading: bool = True
    # the denial inside these words is the finding and negates nothing after them ("no bridging bone")
    keeps_denial: bool = False

    @model_validator(mode="after")
    def _has_words(self) -> Term:
        if not self.phrases and not self.regex:
            raise ValueError("a term needs phrases or regex")
        return self


class ContextRule(Strict):
    """A medspaCy ConText modifier of our own, added to its defaults. ``NEGATION_END`` ends the scope of
    a negation only and ``HISTORY_END`` that of a history, where a ``TERMINATE`` rule ends every modifier."""

    literal: str
    category: Literal[
        "NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HISTORICAL", "HYPOTHETICAL", "FAMILY", "NEGATION_END", "HISTORY_END"
    ]
    direction: Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"] = "FORWARD"
    pattern: str | list[dict[str, object]] | None = None
    max_scope: int | None = None
    # the concepts it may modify (none listed: any); "quit" puts smoking in the past, not the pain beside it
    concepts: list[str] = Field(default_factory=list)


class Lexicon(Strict):
    version: str
    terms: list[Term]
    context_rules: list[ContextRule] = Field(default_factory=list)


class Code(Strict):
    """A billing code we know; descriptions are our own words, not CPT descriptors."""

    code: str
    system: Literal["CPT", "HCPCS"] = "CPT"
    description: str
    family: str
    add_on: bool = False
    # where the procedure is done (a region id); None for add-ons that go with any region (grafts, navigation)
    region: str | None = None
    # the add-on billed for each level beyond the first: it belongs to the code, not to the words, so a
    # "C5-C7 laminectomy" (63045) gets its extra level (63048) as a lumbar one does
    per_level: str | None = None


class Region(Strict):
    """A part of the body a procedure is done in. A procedure word takes the region its levels or the
    words beside it name ("C5-6 discectomy", "thoracic laminectomy"), so it is never billed as another
    region's code; ``covered`` says whether the library holds criteria there."""

    id: str
    label: str
    covered: bool
    # the letters of vertebrae in this region ("C"): a segment of them places a procedure here
    letters: list[str] = Field(default_factory=list)
    # regexes for words naming the region next to a procedure word ("cervical", "neck")
    words: list[str] = Field(default_factory=list)


class NearCode(Strict):
    words: str  # a regex searched in the words' sentence
    code: str


class ProcedureTerm(Strict):
    """Procedure wording a coder would bill as ``code`` (plus the code's ``per_level`` add-on per extra segment).

    ``generic`` words ("fusion", "decompression") yield to a specific term of the same family in
    the same sentence ("TLIF ... fusion" is one interbody fusion, not two procedures).
    """

    phrases: list[str]
    # wording with words in between ("removal of the L3-L5 pedicle screws and rods"), matched on the raw text
    regex: list[str] = Field(default_factory=list)
    code: str
    generic: bool = False
    # the region the words name by themselves; "any" for words that go with any region (navigation)
    region: str | None = None  # None: the procedures' default region
    # the code the same words take in another region: discectomy at T10-11 is 63055, at C5-6 63020
    by_region: dict[str, str] = Field(default_factory=dict)
    # the code the words take in a region when their sentence has these words: a bare "fusion" in the neck
    # is an ACDF, but "laminectomy and fusion" there is posterior ({cervical: {words: ..., code: "22600"}})
    by_region_near: dict[str, NearCode] = Field(default_factory=dict)
    # the code when the operation repeats one at an operated level ("redo L4-5 microdiscectomy",
    # "discectomy for a recurrent herniation"): the revision pathway of DESIGN.md
    revision: str | None = None
    # concepts that must be named with the words for the revision code to apply (a repeat laminectomy is
    # a revision discectomy only for a recurrent herniation; for recurrent stenosis it stays a decompression)
    revision_for: list[str] = Field(default_factory=list)


class DeformityCode(Strict):
    code: str
    up_to: int | None = None  # vertebral segments spanned, at most; None for the rest


class Deformity(Strict):
    """A fusion done for a curve or a tilted spine is a deformity fusion, billed by the vertebral segments
    it spans (CPT 22800/22802/22804), not a lumbar fusion per interspace."""

    families: list[str] = Field(min_length=1)
    words: str  # a regex naming the deformity in the procedure's sentence
    codes: list[DeformityCode] = Field(min_length=1)
    # a construct spanning at least this many vertebrae may name its deformity anywhere in the record
    anywhere_from: int | None = None


class ImpliedRule(Strict):
    concepts: list[str] = Field(min_length=1)
    region: str
    code: str


class Implied(Strict):
    """ "Is surgery indicated?" with no operation named: the operation a diagnosis of the record usually
    calls for (the first rule whose finding the record states, in its region)."""

    asks: str  # a regex: the record asks about surgery without naming an operation
    rules: list[ImpliedRule] = Field(min_length=1)


class Procedures(Strict):
    version: str
    regions: list[Region] = Field(min_length=1)
    # the region of procedure words that name none and stand in a record that names none
    default_region: str
    # where a span of levels across regions is placed: the first of these regions it touches (C7-T1 is
    # cervical, T10-L2 lumbar)
    spanning_order: list[str] = Field(min_length=1)
    # the concept a procedure named in the past becomes (an earlier operation, with its months ago)
    prior: str
    # words that may stand between a revision cue or "after" and the procedure word ("redo left-sided
    # open L4-5 microdiscectomy", "after an instrumented fusion"), beside sides, levels and region words
    modifiers: list[str] = Field(default_factory=list)
    # words before a procedure word that make it a repeat operation ("revision", "redo", "re-exploration")
    revision_cues: str
    # findings that make a procedure named with them a repeat operation (a recurrent herniation)
    revision_findings: list[str] = Field(default_factory=list)
    # an earlier operation of these families at the same level makes the procedure a repeat
    revised_families: list[str] = Field(default_factory=list)
    # a repeat of an earlier operation said by reference ("go back in and redo it"), with a plan word in
    # its sentence: with nothing else requested, it asks for the latest earlier operation's revision
    repeat_references: str | None = None
    repeat_plans: str | None = None
    deformity: Deformity | None = None
    implied: Implied | None = None
    codes: list[Code]
    terms: list[ProcedureTerm]
    # an explicit code of the key family also stands for words of these families ("deformity fusion
    # (22802)" must not add a lumbar fusion code from the word "fusion")
    family_covers: dict[str, list[str]] = Field(default_factory=dict)


# --- the layout of a record -------------------------------------------------------------------


class SectionGroup(Strict):
    """Headings that open a part of the record with one meaning for the case (see record.yaml)."""

    role: Literal["history", "family", "allergy", "procedure", "technique", "operative", "findings", "plan"]
    headings: list[str] = Field(min_length=1)
    # only an operative report or discharge summary has these: the record reviews a performed procedure
    performed: bool = False


class PerformedCues(Strict):
    """Regexes that tell a review of a performed procedure from a request for one."""

    titles: list[str] = Field(min_length=1)
    follow_up: str | None = None
    anywhere: list[str] = Field(min_length=1)
    questions: list[str] = Field(min_length=1)
    done: str
    earlier: str


class RecordLayout(Strict):
    version: str
    sections: list[SectionGroup] = Field(min_length=1)
    # regexes that open consent and risk talk, which runs to the end of its sentence
    consent: list[str] = Field(default_factory=list)
    performed: PerformedCues


# --- evidence ---------------------------------------------------------------------------------


class Statement(Strict):
    id: str
    text: str


class Source(Strict):
    id: str
    kind: Literal["guideline", "payer_policy", "coverage_determination", "study", "review"]
    title: str
    issuer: str
    year: int | None = Field(default=None, ge=1950, le=2100)
    identifiers: dict[Literal["pmid", "doi", "url"], str] = Field(default_factory=dict)
    verified: str = ""
    topics: list[str] = Field(default_factory=list)
    statements: list[Statement] = Field(default_factory=list)


class EvidenceFile(Strict):
    references: list[Source]


# --- related questions and component questions ------------------------------------------------


class Question(Strict):
    """A question people ask about spine-surgery necessity, tied to the records that answer it."""

    id: str
    text: str
    # the same question as patients, offices and clinicians word it, so retrieval meets all of them
    also: list[str] = Field(default_factory=list)
    # the question as it shows up inside a request ("58M, L5-S1 PLIF 8 months ago, redo fusion now?"):
    # indexed for retrieval only, since its patient details are made up and say nothing the library holds
    cases: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    # the parts of the spine the question is about; none: it fits a request of any region
    regions: list[str] = Field(default_factory=list)
    sources: list[str] = Field(min_length=1)


class QuestionBank(Strict):
    version: str
    questions: list[Question] = Field(min_length=1)


class Thesaurus(Strict):
    """Abbreviations and brand names spelled out for retrieval only ("ds" -> "degenerative spondylolisthesis")."""

    version: str
    synonyms: dict[str, str]
    generic: list[str] = Field(default_factory=list)


class Component(Strict):
    """A component question of a request ("Is fusion justified?"), answered for the codes of ``families``.

    ``asked_with`` lists families whose requests raise the question even when no code of the component
    was requested (a decompression request answers "is fusion needed?" too); ``evidence`` names the
    library statements the article quotes under the question.
    """

    id: str
    question: str
    plain: str
    # ``setting`` answers from the inpatient/outpatient determination instead of requested codes
    answers: Literal["services", "setting"] = "services"
    families: list[str] = Field(default_factory=list)
    asked_with: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    # the regions whose requests the evidence speaks to (lumbar trials are not quoted for a neck
    # operation); none: any region
    evidence_regions: list[str] = Field(default_factory=list)
    # the conditions a statement of ``evidence`` speaks to (concept ids): it is quoted only for a case
    # where one of them is present, so a stenosis trial is not quoted for a disc herniation; a statement
    # not listed here fits every case of the component
    evidence_concepts: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _answers_something(self) -> Component:
        if self.answers == "services" and not self.families:
            raise ValueError("a services component names at least one procedure family")
        return self


class Components(Strict):
    version: str
    # plain-language names of procedure families, for the patient article ("surgery to join bones")
    families: dict[str, str]
    # terms a patient article cannot always avoid, with their everyday meaning
    glossary: dict[str, str] = Field(default_factory=dict)
    components: list[Component]


# --- policies ---------------------------------------------------------------------------------


class FindingCheck(Strict):
    """A finding of one of ``concepts`` is present (current, not hypothetical) and fits the limits.

    ``world`` is principle 4 of DESIGN.md: ``open`` makes an unmentioned fact *unknown* (a
    documentation request); ``closed`` makes it *absent* (red flags, contraindications); ``source``
    makes it absent only where the record describes the ``source`` that would state it (an imaging
    report that names stenosis and nothing else has no spondylolisthesis), and unknown otherwise.
    """

    type: Literal["finding"]
    concepts: list[str] = Field(min_length=1)
    world: Literal["open", "closed", "source"]
    source: str | None = None
    min_number: float | None = None
    max_number: float | None = None
    min_count: int | None = Field(default=None, ge=1)
    values: list[str] | None = None
    # a value measured in one of these units must exceed its limit ("more than 2 mm of translation"):
    # {mm: 2} holds "1 mm" not met and leaves "14 degrees", or instability stated in words, to pass
    more_than: dict[str, float] | None = None
    at_service_level: bool = False
    include_historical: bool = False
    # for a check over several concepts: the ones that must all be stated absent for the check to fail
    # ("no leg pain" fails radicular symptoms; "strength 5/5" alone leaves them undocumented); by default
    # any concept stated absent fails it
    fails_when_denied: list[str] | None = None

    @model_validator(mode="after")
    def _source_with_its_world(self) -> FindingCheck:
        if (self.world == "source") != (self.source is not None):
            raise ValueError("a check names a source exactly when its world is 'source'")
        return self


class CareCheck(Strict):
    """Conservative care tried for at least ``min_weeks`` (concurrent treatments not added up)."""

    type: Literal["conservative_care"]
    min_weeks: float = Field(ge=0)  # 0: any documented course that failed ("conservative care exhausted")
    min_modalities: int = Field(default=1, ge=1)


class SymptomDurationCheck(Strict):
    type: Literal["symptom_duration"]
    min_weeks: float = Field(gt=0)


class AgeCheck(Strict):
    type: Literal["age"]
    min: int | None = None
    max: int | None = None


class LevelCountCheck(Strict):
    """Number of motion segments treated (the service's levels, else the case's)."""

    type: Literal["level_count"]
    min: int | None = None
    max: int | None = None
    # the levels must be next to each other (C4-C5 and C5-C6, not C4-C5 and C6-C7)
    contiguous: bool = False


class ServiceCheck(Strict):
    """One of ``codes`` is among the requested services (used by setting policies)."""

    type: Literal["service"]
    codes: list[str] = Field(min_length=1)


Check = Annotated[
    FindingCheck | CareCheck | SymptomDurationCheck | AgeCheck | LevelCountCheck | ServiceCheck,
    Field(discriminator="type"),
]


class AtLeast(Strict):
    n: int = Field(ge=1)
    of: list[Node] = Field(min_length=1)


class Node(Strict):
    """A criterion: exactly one of ``all``, ``any``, ``at_least``, ``not`` or ``check``."""

    id: str
    statement: str
    plain: str = ""
    to_document: str = ""
    cite: list[str] = Field(default_factory=list)
    all: list[Node] | None = None
    any: list[Node] | None = None
    at_least: AtLeast | None = None
    not_: Node | None = Field(default=None, alias="not")
    check: Check | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Node:
        kinds = [k for k in ("all", "any", "at_least", "not_", "check") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"criterion {self.id!r} needs exactly one of all/any/at_least/not/check, got {kinds or 'none'}"
            )
        return self

    @property
    def logic(self) -> str:
        for k in ("all", "any", "at_least", "check"):
            if getattr(self, k) is not None:
                return k
        return "not"

    @property
    def children(self) -> list[Node]:
        if self.all is not None:
            return self.all
        if self.any is not None:
            return self.any
        if self.at_least is not None:
            return self.at_least.of
        if self.not_ is not None:
            return [self.not_]
        return []

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


class PolicyService(Strict):
    code: str
    add_on_to: list[str] = Field(default_factory=list)


class PitfallWhen(Strict):
    """When a pitfall bears on a case: every key given must hold, each by any of its items (a requested
    code or family, a finding present in the record, the setting asked for)."""

    codes: list[str] = Field(default_factory=list)
    families: list[str] = Field(default_factory=list)
    concepts: list[str] = Field(default_factory=list)
    settings: list[Literal["inpatient", "outpatient"]] = Field(default_factory=list)


class Pitfall(Strict):
    """A common mistake the article warns of; with ``when``, only on the cases it bears on (the bone-marrow
    and navigation warning belongs on a fusion that asks for them, not on every fusion)."""

    text: str
    when: PitfallWhen | None = None


class Policy(Strict):
    id: str
    version: str
    title: str
    policy_set: str = Field(alias="set")
    kind: Literal["procedure", "setting"] = "procedure"
    follows: str
    services: list[PolicyService] = Field(default_factory=list)
    criteria: Node
    pitfalls: list[Pitfall] = Field(default_factory=list)
    strengthen: list[str] = Field(default_factory=list)

    @field_validator("pitfalls", mode="before")
    @classmethod
    def _plain_pitfalls(cls, value: object) -> object:
        """A pitfall written as a bare sentence applies to every case of the policy."""
        return [{"text": v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else value


class PolicyCase(Strict):
    """A named example that pins a policy's behaviour (OPA style: the policy sits beside its tests).

    The case is given either as ``text`` (a note or question, read by the extractor) or as ``facts``
    (a structured :class:`~indicated.models.Case`, OPA's ``with input as``): a facts case tests the
    policy's logic alone, so a change to the lexicon cannot break it.
    """

    name: str
    text: str | None = None
    facts: Case | None = None
    determination: str
    services: dict[str, str] = Field(default_factory=dict)
    setting: str | None = None
    criteria: dict[str, Literal["met", "not_met", "unknown"]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _text_or_facts(self) -> PolicyCase:
        if (self.text is None) == (self.facts is None):
            raise ValueError(
                f"case {self.name!r} gives {'both text and' if self.text is not None else 'neither text nor'} facts; "
                "give exactly one: text (a note to read) or facts (a structured case)"
            )
        return self


class PolicyCases(Strict):
    policy: str
    cases: list[PolicyCase] = Field(min_length=1)


# --- policy sets ----------------------------------------------------------------------------


class PolicySet(Strict):
    """A named set of policies a reviewer chooses with ``--policy-set``.

    A set that follows one public document covers only what that document covers; ``falls_back_to``
    names the set whose policies answer for every other service, and the article says which applied.
    """

    id: str
    title: str
    description: str
    falls_back_to: str | None = None


class Scope(Strict):
    """What the library covers, in words for users (scope.yaml)."""

    version: str
    title: str  # "Spine surgery": the CDS services' titles begin with it
    covers: str  # completes "It covers ..." when `ask` finds no answer
    example: str  # a one-line case for the API docs and the server's warm-up
    example_codes: list[str] = Field(min_length=1)
    level_term: str  # what a patient article calls a level: "at spine level L4-L5"


class PolicySets(Strict):
    sets: list[PolicySet] = Field(min_length=1)


# --- value sets: the codes of a coded record read as concepts -------------------------------------


class CodeSystem(Strict):
    """A code system a coded record writes codes in, with the URIs a FHIR coding names it by."""

    id: str
    label: str  # how a record line names it: "ICD-10-CM"
    uris: list[str] = Field(min_length=1)
    # codes compare without their dots and case ("M51.16" and "M5116" are one ICD-10-CM code)
    dotless: bool = False


class ValueSetSource(Strict):
    """Where the codes of a value set and their meanings were checked (a public source, named)."""

    id: str
    title: str
    where: str  # a URL, or a repository and path


class ValueSetCode(Strict):
    """One code and the concepts it means (DESIGN.md "Coded data": codes map to concepts through the
    knowledge, never through an English sentence read back)."""

    system: str
    code: str
    display: str  # the code's name, as the source gives it (CPT: our own words)
    concepts: list[str] = Field(default_factory=list)
    # the code stands for every code under it as well (ICD-10-CM "E11" for "E11.9" and "E11.65"); a code
    # listed itself wins over the group it falls under (F17.211 "in remission" under F17.2)
    descendants: bool = False
    # what the code says of its concepts: "never smoked tobacco" denies current and former smoking
    status: Literal["present", "absent"] = "present"
    # an Observation code whose value carries the fact: a number (valueQuantity: BMI, HbA1c), or a coded
    # value read through these value sets in turn (smoking status)
    value: Literal["number", "coded"] | None = None
    side: Side | None = None
    levels: list[str] = Field(default_factory=list)  # a level the code names ("at C5-C6 level")
    region: str | None = None  # the part of the spine the code names, for care ("lumbar or sacral")
    source: str  # a ValueSetSource id

    @model_validator(mode="after")
    def _means_something(self) -> ValueSetCode:
        if not self.concepts and self.value != "coded":
            raise ValueError("a code needs concepts, unless its coded value carries them (value: coded)")
        return self


class ValueSets(Strict):
    version: str
    systems: list[CodeSystem] = Field(default_factory=list)
    sources: list[ValueSetSource] = Field(default_factory=list)
    # sessions, injections or prescriptions of one kind further apart than this are separate courses
    course_gap_weeks: float = Field(default=8, gt=0)
    # a medication whose code is not listed is read by the ingredient names its own name carries
    # ("Naproxen sodium 220 MG Oral Tablet"): concept -> lower-case ingredient names
    medication_names: dict[str, list[str]] = Field(default_factory=dict)
    codes: list[ValueSetCode] = Field(default_factory=list)
