"""Load and validate the knowledge shipped in ``indicated/knowledge`` once per process.

Loading checks each file against its schema and then the references between files (every concept
a policy names is in the vocabulary, every citation is in the evidence library, every code is
known), so a broken policy can never reach an assessment.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, fields
from functools import cached_property
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from indicated.errors import KnowledgeError
from indicated.kb.schema import (
    Code,
    Components,
    Concept,
    EvidenceFile,
    FindingCheck,
    Group,
    Lexicon,
    Policy,
    PolicyCases,
    PolicySet,
    PolicySets,
    Procedures,
    Question,
    QuestionBank,
    RecordLayout,
    RecordSource,
    Region,
    Scope,
    Source,
    Statement,
    Thesaurus,
    ValueSetCode,
    ValueSets,
    Vocabulary,
)
from indicated.models import Reference

M = TypeVar("M", bound=BaseModel)


class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's C parser when the platform has it (the knowledge parses about ten times faster).
    YAML keeps the last of two equal keys without a word; in knowledge that silently drops data (a
    second ``regex:`` under one term replaced the first), so a repeated key is an error."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


_SafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _SafeLoader.construct_mapping)


@dataclass(frozen=True)
class RecordCues:
    """The record layout's regexes, compiled: what makes a record a review of a performed procedure, and
    where consent and risk talk begins."""

    titles: list[re.Pattern[str]]  # at the start of a line: "OPERATIVE REPORT", "Date of surgery:"
    follow_up: list[re.Pattern[str]]  # a post-operative visit (none or one)
    anywhere: list[re.Pattern[str]]
    questions: list[re.Pattern[str]]
    consent: list[re.Pattern[str]]
    done: re.Pattern[str]
    earlier: re.Pattern[str]


@dataclass(frozen=True)
class ProcedureCues:
    """Regexes built from procedures.yaml's modifiers, sides, levels and region words."""

    # what may stand before a procedure word that names it as done earlier: "after an instrumented
    # L4-5", "following her 2019"
    after: re.Pattern[str]
    # a revision cue and what may stand between it and the procedure word: "redo left-sided L4-5"
    revision: re.Pattern[str]


@dataclass(frozen=True)
class Knowledge:
    """Everything the engine knows, validated and indexed."""

    concepts: dict[str, Concept]
    lexicon: Lexicon
    codes: dict[str, Code]
    procedures: Procedures
    sources: dict[str, Source]
    policies: dict[str, Policy]
    record: RecordLayout
    groups: dict[str, Group]
    scope: Scope
    policy_files: dict[str, str] = field(default_factory=dict)
    sets: dict[str, PolicySet] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    record_sources: dict[str, RecordSource] = field(default_factory=dict)
    thesaurus: Thesaurus = field(default_factory=lambda: Thesaurus(version="", synonyms={}))
    components: Components = field(default_factory=lambda: Components(version="", families={}, components=[]))
    value_sets: ValueSets = field(default_factory=lambda: ValueSets(version=""))

    @cached_property
    def statements(self) -> dict[str, tuple[Source, Statement]]:
        """Every statement of the evidence library by id, with the record it belongs to."""
        return {st.id: (src, st) for src in self.sources.values() for st in src.statements}

    def reference(self, ref: str, n: int) -> Reference:
        """Record ``ref`` as the article's reference number ``n``."""
        src = self.sources[ref]
        return Reference(
            n=n,
            id=src.id,
            kind=src.kind,
            title=src.title,
            issuer=src.issuer,
            year=src.year,
            identifiers=dict(src.identifiers),
        )

    @cached_property
    def digest(self) -> str:
        """A key for the content of this knowledge: equal for two loads of the same files, different
        after one changed term, so what is built from the knowledge can be shared by content."""
        h = hashlib.sha256()
        for f in fields(self):
            value = getattr(self, f.name)
            for key, item in sorted(value.items()) if isinstance(value, dict) else [("", value)]:
                h.update(f"{f.name}/{key}\x00".encode())
                h.update(item.model_dump_json().encode() if isinstance(item, BaseModel) else str(item).encode())
        return h.hexdigest()

    @cached_property
    def care_concepts(self) -> frozenset[str]:
        """The treatments that count as conservative care tried before surgery."""
        return frozenset(c.id for c in self.concepts.values() if c.group == "conservative_care")

    @cached_property
    def code_systems(self) -> dict[str, str]:
        """The value sets' code system id of each URI a FHIR coding may carry."""
        return {uri: s.id for s in self.value_sets.systems for uri in s.uris}

    @cached_property
    def _value_set_index(self) -> tuple[dict[tuple[str, str], ValueSetCode], dict[tuple[str, str], ValueSetCode]]:
        exact: dict[tuple[str, str], ValueSetCode] = {}
        groups: dict[tuple[str, str], ValueSetCode] = {}
        for c in self.value_sets.codes:
            key = (c.system, self._code_key(c.system, c.code))
            exact[key] = c
            if c.descendants:
                groups[key] = c
        return exact, groups

    def _code_key(self, system: str, code: str) -> str:
        dotless = any(s.dotless for s in self.value_sets.systems if s.id == system)
        return code.replace(".", "").strip().upper() if dotless else code.strip()

    def coded(self, uri: str | None, code: str | None) -> ValueSetCode | None:
        """What a coding means: the value-set entry of its code, or of the nearest listed code it falls
        under (ICD-10-CM E11.65 under E11); None for a system or code the value sets do not list."""
        system = self.code_systems.get(uri or "")
        if system is None or not code:
            return None
        exact, groups = self._value_set_index
        key = self._code_key(system, code)
        if (system, key) in exact:
            return exact[(system, key)]
        for n in range(len(key) - 1, 0, -1):
            if (system, key[:n]) in groups:
                return groups[(system, key[:n])]
        return None

    @cached_property
    def symptom_concepts(self) -> frozenset[str]:
        """The findings whose duration dates the symptoms."""
        return frozenset(c.id for c in self.concepts.values() if c.dates_symptoms)

    @cached_property
    def families(self) -> frozenset[str]:
        """The procedure families the codes belong to."""
        return frozenset(c.family for c in self.codes.values())

    @cached_property
    def complaint_concepts(self) -> frozenset[str]:
        """The findings whose side is the side of the complaint."""
        complaint = {g.id for g in self.groups.values() if g.complaint}
        return frozenset(c.id for c in self.concepts.values() if c.group in complaint)

    @cached_property
    def regions(self) -> dict[str, Region]:
        return {r.id: r for r in self.procedures.regions}

    @cached_property
    def region_words(self) -> dict[str, re.Pattern[str]]:
        """Each region's words as one pattern ("cervical", "sacroiliac (SI) joint"); upper-case
        abbreviations ("SI") match only in upper case."""
        out = {}
        for r in self.procedures.regions:
            if r.words:
                alts = "|".join(f"(?-i:{w})" if w.isupper() else w for w in r.words)
                out[r.id] = re.compile(rf"\b(?:{alts})\b", re.IGNORECASE)
        return out

    @cached_property
    def region_of_letter(self) -> dict[str, str]:
        """The region of each vertebra letter ("C": cervical, "L" and "S": lumbar)."""
        return {ltr: r.id for r in self.procedures.regions for ltr in r.letters}

    @cached_property
    def procedure_cues(self) -> ProcedureCues:
        p = self.procedures
        letters = "".join(sorted({ltr for r in p.regions for ltr in r.letters}))
        level = rf"[{letters}]\d{{1,2}}(?:\s*[-/]\s*[{letters}]?\d{{1,2}})?"
        words = [w.replace(" ", r"\s+") for w in sorted(p.modifiers, key=len, reverse=True)]
        words += [w for r in p.regions for w in r.words if not w.isupper()]
        modifier = rf"(?:left|right|bilateral|left-sided|right-sided|{level}|{'|'.join(words)})"
        earlier = r"(?:an?|his|her|the|their|prior|previous|initial|index|first|recent|\d{4})"
        after = (
            rf"\b(?:after|following)\s+(?:{earlier}\s+)+(?:{modifier}\s+){{0,4}}$"
            rf"|\b(?:after|following)\s+(?:(?:left|right|bilateral)\s+)?{level}\s+(?:\w+\s+){{0,2}}$"
        )
        revision = rf"(?:{p.revision_cues})(?:\s+(?:the|a|an|{modifier}))*\s*$"
        return ProcedureCues(re.compile(after, re.IGNORECASE), re.compile(revision, re.IGNORECASE))

    @cached_property
    def record_cues(self) -> RecordCues:
        """The regexes of record.yaml compiled once (the loader has checked that each compiles)."""
        p = self.record.performed

        def compiled(rxs: list[str], flags: int = re.IGNORECASE) -> list[re.Pattern[str]]:
            return [re.compile(rx, flags) for rx in rxs]

        return RecordCues(
            titles=compiled([rf"^[ \t]*(?:{t})" for t in p.titles], re.MULTILINE | re.IGNORECASE),
            follow_up=compiled([p.follow_up] if p.follow_up else [], re.MULTILINE | re.IGNORECASE),
            anywhere=compiled(p.anywhere),
            questions=compiled(p.questions),
            consent=compiled(self.record.consent),
            done=re.compile(p.done, re.IGNORECASE),
            earlier=re.compile(p.earlier, re.IGNORECASE),
        )

    @cached_property
    def add_on_primaries(self) -> dict[str, set[str]]:
        """For each add-on code, the primary codes any policy lets it serve."""
        out: dict[str, set[str]] = {}
        for policy in self.policies.values():
            for spec in policy.services:
                if spec.add_on_to:
                    out.setdefault(spec.code, set()).update(spec.add_on_to)
        return out

    def policy_sets(self) -> list[str]:
        return sorted(self.sets)

    def set_chain(self, policy_set: str) -> list[str]:
        """The set and the sets it falls back to, nearest first (an unknown set or a loop is an error)."""
        chain = [policy_set]
        while (nxt := self.sets[chain[-1]].falls_back_to) is not None:
            where = f"policy-sets.yaml: sets.{chain[-1]}.falls_back_to"
            if nxt not in self.sets:
                raise KnowledgeError(f"{where}: unknown policy set {nxt!r}")
            if nxt in chain:
                raise KnowledgeError(f"{where}: fallback loop through {nxt!r}")
            chain.append(nxt)
        return chain

    def policies_in(self, policy_set: str) -> list[Policy]:
        """The set's own policies first, then those of the sets it falls back to."""
        return [p for s in self.set_chain(policy_set) for p in self.policies.values() if p.policy_set == s]


def parse(model: type[M], data: object, where: str) -> M:
    """Validate ``data`` as ``model``; the error names the file and the key path of each problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise KnowledgeError(f"{where}: {problems}") from exc


def read_yaml(path: Traversable | Path, where: str | None = None) -> object:
    where = where or str(path)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{where}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise KnowledgeError(f"{where}: cannot read: {exc}") from exc


def _yaml_files(folder: Traversable) -> list[Traversable]:
    return sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)


def load(root: Traversable | Path | None = None) -> Knowledge:
    """Read a knowledge folder (the bundled one by default) and check it whole."""
    root = root or resources.files("indicated") / "knowledge"
    vocab = parse(Vocabulary, read_yaml(root / "vocabulary.yaml"), "vocabulary.yaml")
    lexicon = parse(Lexicon, read_yaml(root / "lexicon.yaml"), "lexicon.yaml")
    procedures = parse(Procedures, read_yaml(root / "procedures.yaml"), "procedures.yaml")
    record = parse(RecordLayout, read_yaml(root / "record.yaml"), "record.yaml")
    _compiles(procedures.revision_cues, "procedures.yaml: revision_cues")
    for name in ("repeat_references", "repeat_plans"):
        if getattr(procedures, name):
            _compiles(getattr(procedures, name), f"procedures.yaml: {name}")
    if procedures.deformity:
        _compiles(procedures.deformity.words, "procedures.yaml: deformity.words")
    for where, rx in (
        [("performed.done", record.performed.done), ("performed.earlier", record.performed.earlier)]
        + [(f"performed.titles.{i}", t) for i, t in enumerate(record.performed.titles)]
        + [(f"performed.questions.{i}", q) for i, q in enumerate(record.performed.questions)]
        + [(f"performed.anywhere.{i}", q) for i, q in enumerate(record.performed.anywhere)]
        + [(f"consent.{i}", c) for i, c in enumerate(record.consent)]
        + [("performed.follow_up", record.performed.follow_up or "")]
    ):
        _compiles(rx, f"record.yaml: {where}")

    sources: dict[str, Source] = {}
    for f in _yaml_files(root / "evidence"):
        where = f"evidence/{f.name}"
        for src in parse(EvidenceFile, read_yaml(f, where), where).references:
            if src.id in sources:
                raise KnowledgeError(f"{where}: references.{src.id}: duplicate reference id")
            sources[src.id] = src

    policies: dict[str, Policy] = {}
    files: dict[str, str] = {}
    for f in _yaml_files(root / "policies"):
        if f.name.endswith(".cases.yaml"):
            continue
        where = f"policies/{f.name}"
        policy = parse(Policy, read_yaml(f, where), where)
        if policy.id in policies:
            raise KnowledgeError(f"{where}: id: duplicate policy id {policy.id!r}")
        policies[policy.id] = policy
        files[policy.id] = f.name

    policy_sets = parse(PolicySets, read_yaml(root / "policy-sets.yaml"), "policy-sets.yaml")
    bank = parse(QuestionBank, read_yaml(root / "questions.yaml"), "questions.yaml")
    value_sets_file = root / "value-sets.yaml"
    value_sets = (
        parse(ValueSets, read_yaml(value_sets_file), "value-sets.yaml")
        if value_sets_file.is_file()
        else ValueSets(version="")
    )
    kb = Knowledge(
        questions=_unique(bank.questions, "questions.yaml: questions"),
        thesaurus=parse(Thesaurus, read_yaml(root / "synonyms.yaml"), "synonyms.yaml"),
        components=parse(Components, read_yaml(root / "components.yaml"), "components.yaml"),
        value_sets=value_sets,
        sets={s.id: s for s in policy_sets.sets},
        concepts={c.id: c for c in vocab.concepts},
        groups={g.id: g for g in vocab.groups},
        scope=parse(Scope, read_yaml(root / "scope.yaml"), "scope.yaml"),
        record_sources={s.id: s for s in vocab.sources},
        record=record,
        lexicon=lexicon,
        codes={c.code: c for c in procedures.codes},
        procedures=procedures,
        sources=sources,
        policies=policies,
        policy_files=files,
    )
    _check_references(kb)
    return kb


def _compiles(rx: str, where: str) -> None:
    try:
        re.compile(rx)
    except re.error as exc:
        raise KnowledgeError(f"{where}: not a valid regular expression: {exc}") from exc


def _unique(items: list[Question], where: str) -> dict[str, Question]:
    out: dict[str, Question] = {}
    for item in items:
        if item.id in out:
            raise KnowledgeError(f"{where}.{item.id}: duplicate id")
        out[item.id] = item
    return out


def _check_library(kb: Knowledge) -> None:
    """Questions point at records, components at families and statements that exist."""
    for q in kb.questions.values():
        for ref in q.sources:
            if ref not in kb.sources:
                raise KnowledgeError(f"questions.yaml: questions.{q.id}.sources: unknown reference {ref!r}")
        for region in q.regions:
            if region not in kb.regions:
                raise KnowledgeError(f"questions.yaml: questions.{q.id}.regions: unknown region {region!r}")
    families = kb.families
    if missing := sorted(families - set(kb.components.families)):
        raise KnowledgeError(f"components.yaml: families: no plain name for {', '.join(missing)}")
    for comp in kb.components.components:
        for fam in (*comp.families, *comp.asked_with):
            if fam not in families:
                raise KnowledgeError(f"components.yaml: components.{comp.id}: unknown procedure family {fam!r}")
        for sid in comp.evidence:
            if sid not in kb.statements:
                raise KnowledgeError(f"components.yaml: components.{comp.id}.evidence: unknown statement {sid!r}")
        for sid, concepts in comp.evidence_concepts.items():
            where = f"components.yaml: components.{comp.id}.evidence_concepts.{sid}"
            if sid not in comp.evidence:
                raise KnowledgeError(f"{where}: not a statement of this component's evidence")
            if unknown := [c for c in concepts if c not in kb.concepts]:
                raise KnowledgeError(f"{where}: unknown concept {unknown[0]!r}")
        for rid in comp.evidence_regions:
            if rid not in kb.regions:
                raise KnowledgeError(f"components.yaml: components.{comp.id}.evidence_regions: unknown region {rid!r}")


def _check_value_sets(kb: Knowledge, regions: set[str]) -> None:
    """Every code names a known system, source, region and concepts, and is listed once."""
    vs = kb.value_sets
    systems = {s.id for s in vs.systems}
    sources = {s.id for s in vs.sources}
    seen: set[tuple[str, str]] = set()
    uris: set[str] = set()
    for s in vs.systems:
        if dup := uris & set(s.uris):
            raise KnowledgeError(f"value-sets.yaml: systems.{s.id}.uris: {sorted(dup)[0]!r} names two systems")
        uris |= set(s.uris)
    for c in vs.codes:
        where = f"value-sets.yaml: codes.{c.system}|{c.code}"
        if c.system not in systems:
            raise KnowledgeError(f"{where}.system: unknown code system {c.system!r} (see systems)")
        if c.source not in sources:
            raise KnowledgeError(f"{where}.source: unknown source {c.source!r} (see sources)")
        for concept in c.concepts:
            if concept not in kb.concepts:
                raise KnowledgeError(f"{where}.concepts: unknown concept {concept!r}")
        if c.region is not None and c.region not in regions:
            raise KnowledgeError(f"{where}.region: unknown region {c.region!r}")
        key = (c.system, kb._code_key(c.system, c.code))
        if key in seen:
            raise KnowledgeError(f"{where}: the code is listed twice")
        seen.add(key)
    for concept, names in vs.medication_names.items():
        if concept not in kb.concepts:
            raise KnowledgeError(f"value-sets.yaml: medication_names.{concept}: unknown concept")
        if kb.concepts[concept].group != "conservative_care":
            raise KnowledgeError(f"value-sets.yaml: medication_names.{concept}: not a conservative-care concept")
        if any(n != n.lower() for n in names):
            raise KnowledgeError(f"value-sets.yaml: medication_names.{concept}: write names in lower case")


def _check_references(kb: Knowledge) -> None:
    for src in kb.record_sources.values():
        for concept in src.concepts:
            if concept not in kb.concepts:
                raise KnowledgeError(f"vocabulary.yaml: sources.{src.id}: unknown concept {concept!r}")
        for concept in src.reported_by:
            if concept not in src.concepts:
                raise KnowledgeError(
                    f"vocabulary.yaml: sources.{src.id}: reported_by {concept!r} is not one of its concepts"
                )
    for i, term in enumerate(kb.lexicon.terms):
        for concept in (term.concept, *term.also):
            if concept not in kb.concepts:
                raise KnowledgeError(f"lexicon.yaml: terms.{i}: unknown concept {concept!r}")
    for concept in kb.concepts.values():
        where = f"vocabulary.yaml: concepts.{concept.id}"
        if concept.past is not None and concept.past not in kb.concepts:
            raise KnowledgeError(f"{where}.past: unknown concept {concept.past!r}")
        if concept.recent is not None and concept.recent.concept not in kb.concepts:
            raise KnowledgeError(f"{where}.recent: unknown concept {concept.recent.concept!r}")
        if concept.group not in kb.groups:
            raise KnowledgeError(f"{where}.group: unknown group {concept.group!r}; declare it under groups")
        if concept.read.key:
            _compiles(concept.read.key, f"{where}.read.key")
    for code in kb.scope.example_codes:
        if code not in kb.codes:
            raise KnowledgeError(f"scope.yaml: example_codes: unknown code {code!r}")
    procedures = kb.procedures
    for concept in (procedures.prior, *procedures.revision_findings):
        if concept not in kb.concepts:
            raise KnowledgeError(f"procedures.yaml: unknown concept {concept!r}")
    for i, implied in enumerate(procedures.implied.rules if procedures.implied else []):
        where = f"procedures.yaml: implied.rules.{i}"
        if implied.code not in kb.codes:
            raise KnowledgeError(f"{where}: unknown code {implied.code!r}")
        if implied.region not in kb.regions:
            raise KnowledgeError(f"{where}: unknown region {implied.region!r}")
        if unknown := [c for c in implied.concepts if c not in kb.concepts]:
            raise KnowledgeError(f"{where}: unknown concept {unknown[0]!r}")
    if procedures.implied:
        _compiles(procedures.implied.asks, "procedures.yaml: implied.asks")
    families = kb.families
    for family in procedures.revised_families:
        if family not in families:
            raise KnowledgeError(f"procedures.yaml: revised_families: unknown family {family!r}")
    for rule in kb.lexicon.context_rules:
        for concept in rule.concepts:
            if concept not in kb.concepts:
                raise KnowledgeError(f"lexicon.yaml: context_rules.{rule.literal}: unknown concept {concept!r}")
    regions = {r.id for r in kb.procedures.regions}
    for region in (procedures.default_region, *procedures.spanning_order):
        if region not in regions:
            raise KnowledgeError(f"procedures.yaml: unknown region {region!r}")
    for c in kb.procedures.deformity.codes if kb.procedures.deformity else []:
        if c.code not in kb.codes:
            raise KnowledgeError(f"procedures.yaml: deformity.codes: unknown code {c.code!r}")
    for c in kb.codes.values():
        if c.region is not None and c.region not in regions:
            raise KnowledgeError(f"procedures.yaml: codes.{c.code}.region: unknown region {c.region!r}")
        if c.per_level is not None and not (c.per_level in kb.codes and kb.codes[c.per_level].add_on):
            raise KnowledgeError(
                f"procedures.yaml: codes.{c.code}.per_level: {c.per_level!r} is not a known add-on code"
            )
    for i, term in enumerate(kb.procedures.terms):
        near = term.by_region_near.values()
        for code in filter(None, (term.code, term.revision, *term.by_region.values(), *(n.code for n in near))):
            if code not in kb.codes:
                raise KnowledgeError(f"procedures.yaml: terms.{i}: unknown code {code!r}")
        for rx in (n.words for n in near):
            try:
                re.compile(rx)
            except re.error as exc:
                raise KnowledgeError(f"procedures.yaml: terms.{i}.by_region_near: bad regex {rx!r}: {exc}") from exc
        for region in (term.region or procedures.default_region, *term.by_region, *term.by_region_near):
            if region not in regions and region != "any":
                raise KnowledgeError(f"procedures.yaml: terms.{i}: unknown region {region!r}")
    _check_library(kb)
    _check_value_sets(kb, regions)
    for sid in kb.sets:
        kb.set_chain(sid)
    for pid, policy in kb.policies.items():
        where = f"policies/{kb.policy_files[pid]}"
        if policy.policy_set not in kb.sets:
            raise KnowledgeError(f"{where}: set: unknown policy set {policy.policy_set!r} (see policy-sets.yaml)")
        seen: set[str] = set()
        for node in policy.criteria.walk():
            if node.id in seen:
                raise KnowledgeError(f"{where}: criteria.{node.id}: duplicate criterion id")
            seen.add(node.id)
            if not node.cite:
                raise KnowledgeError(f"{where}: criteria.{node.id}.cite: every criterion cites at least one reference")
            for ref in node.cite:
                if ref not in kb.sources:
                    raise KnowledgeError(f"{where}: criteria.{node.id}.cite: unknown reference {ref!r}")
            if isinstance(node.check, FindingCheck):
                for concept in (*node.check.concepts, *(node.check.fails_when_denied or [])):
                    if concept not in kb.concepts:
                        raise KnowledgeError(f"{where}: criteria.{node.id}.check.concepts: unknown concept {concept!r}")
                if node.check.source is not None and node.check.source not in kb.record_sources:
                    raise KnowledgeError(
                        f"{where}: criteria.{node.id}.check.source: unknown source {node.check.source!r} (see vocabulary.yaml)"
                    )
        for i, pitfall in enumerate(policy.pitfalls):
            when = pitfall.when
            if when is None:
                continue
            for what, one, known, names in (
                ("codes", "code", kb.codes, when.codes),
                ("families", "family", kb.families, when.families),
                ("concepts", "concept", kb.concepts, when.concepts),
            ):
                if unknown := [n for n in names if n not in known]:
                    raise KnowledgeError(f"{where}: pitfalls.{i}.when.{what}: unknown {one} {unknown[0]!r}")
        codes = {s.code for s in policy.services}
        for s in policy.services:
            if s.code not in kb.codes:
                raise KnowledgeError(f"{where}: services.{s.code}: unknown code")
            for primary in s.add_on_to:
                if primary not in codes:
                    raise KnowledgeError(
                        f"{where}: services.{s.code}.add_on_to: {primary!r} is not a service of this policy"
                    )


def load_policy_cases(root: Traversable | Path | None = None) -> dict[str, PolicyCases]:
    """The named example cases that sit beside each policy, keyed by policy id."""
    root = root or resources.files("indicated") / "knowledge"
    out: dict[str, PolicyCases] = {}
    for f in _yaml_files(root / "policies"):
        if f.name.endswith(".cases.yaml"):
            where = f"policies/{f.name}"
            suite = parse(PolicyCases, read_yaml(f, where), where)
            out[suite.policy] = suite
    return out
