"""How right the engine is on labelled cases and annotated notes: the measure behind `indicated eval`,
the benchmarks and the floors the tests hold.

A labelled case (``../shared/cases/README.md``) gives the expected determination (or a list of accepted
ones), per-service determinations, the setting, the review (prospective or performed), codes that must
not appear, and some facts. An annotated note lists every concept it asserts (``present``) or denies
(``absent``), the procedures requested or performed with their regions, and the review.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from indicated.engine import Engine
from indicated.kb.loader import Knowledge
from indicated.models import Assessment
from indicated.pipeline import assess

__all__ = ["CaseScore", "ExtractionScore", "checks", "score_cases", "score_extraction", "wrong"]

# concepts added to the vocabulary after the notes were annotated, so no annotation names them
NOT_ANNOTATED = {"imaging_study"}


def accepts(want: object, have: object) -> bool:
    """A label is one value or a list of accepted ones."""
    return have in want if isinstance(want, list) else want == have


def checks(expected: dict, a: Assessment) -> list[tuple[str, object, object]]:
    """(what, expected, got) for every determination-level label of a case, as check-cases reads them."""
    got = {s.code: s.determination.value for s in a.services}
    out: list[tuple[str, object, object]] = [("overall", expected["determination"], a.determination.value)]
    out += [(code, want, got.get(code)) for code, want in (expected.get("services") or {}).items()]
    if expected.get("setting"):
        have = a.setting.determination.value if a.setting and a.setting.determination else None
        out.append(("setting", expected["setting"], have))
    if expected.get("review"):
        out.append(("review", expected["review"], a.review))
    out += [
        (f"code {c} must not be a service", None, c if c in got else None) for c in expected.get("absent_codes") or []
    ]
    return out


def wrong(expected: dict, a: Assessment) -> list[str]:
    """The labels of a case the assessment gets wrong, each as "what: expected X, got Y"."""
    return [_miss(c) for c in checks(expected, a) if not accepts(c[1], c[2])]


def _miss(check: tuple[str, object, object]) -> str:
    what, want, have = check
    return f"{what}: expected {want}, got {have}"


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


@dataclass
class CaseScore:
    right: Counter = field(default_factory=Counter)  # per group: checks right
    total: Counter = field(default_factory=Counter)  # per group: checks made
    overall_right: int = 0
    cases: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(self.right.values()) / max(1, sum(self.total.values()))


def score_cases(folders: list[Path], *, kb: Knowledge | None = None) -> CaseScore:
    """Every determination-level check of every labelled case in ``folders``; a case's group is the
    first word of its file name (``q_12_...`` is in group ``q``)."""
    kb = kb or Engine.bundled().knowledge
    score = CaseScore()
    for folder in folders:
        for f in _yaml_files(folder):
            case = yaml.safe_load(f.read_text())
            group = folder.name if folder.name == "dev" else f.stem.split("_")[0]
            a = assess(case["text"], kb=kb)
            score.cases += 1
            for check in checks(case["expected"], a):
                ok = accepts(check[1], check[2])
                score.total[group] += 1
                score.right[group] += ok
                score.overall_right += ok and check[0] == "overall"
                if not ok:
                    score.misses.append(f"{f.name}: {_miss(check)}")
    return score


@dataclass
class ExtractionScore:
    notes: int = 0
    right: int = 0  # (concept, polarity) pairs both the note and the engine give
    extra: int = 0  # pairs the engine gives that the note does not
    missed: int = 0  # pairs the note gives that the engine does not
    procedures: int = 0  # procedures annotated with a code
    procedures_found: int = 0
    other_region: int = 0  # services billed with a code of a region the note is not about
    review_right: int = 0
    errors: Counter = field(default_factory=Counter)  # (kind, concept, polarity) -> count
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.right / max(1, self.right + self.extra)

    @property
    def recall(self) -> float:
        return self.right / max(1, self.right + self.missed)

    @property
    def procedure_recall(self) -> float:
        return self.procedures_found / max(1, self.procedures)


def _pairs(a: Assessment) -> set[tuple[str, str]]:
    """The engine's (concept, polarity) pairs: present when stated and not hypothetical, absent when denied."""
    out = set()
    for f in a.case.findings:
        if f.concept in NOT_ANNOTATED:
            continue
        if f.status == "present" and not f.hypothetical:
            out.add((f.concept, "present"))
        elif f.status == "absent":
            out.add((f.concept, "absent"))
    return out


def score_extraction(folder: Path, *, kb: Knowledge | None = None) -> ExtractionScore:
    """Findings with polarity, procedures, regions and review on every annotated note in ``folder``."""
    kb = kb or Engine.bundled().knowledge
    score = ExtractionScore()
    for f in _yaml_files(folder):
        note = yaml.safe_load(f.read_text())
        ann = note["annotations"]
        a = assess(note["text"], kb=kb)
        score.notes += 1
        gold = {(c, "present") for c in ann.get("present", [])} | {(c, "absent") for c in ann.get("absent", [])}
        got = _pairs(a)
        score.right += len(gold & got)
        for kind, pairs in (("extra", got - gold), ("missed", gold - got)):
            setattr(score, kind, getattr(score, kind) + len(pairs))
            for c, pol in sorted(pairs):
                score.errors[(kind, c, pol)] += 1
                score.misses.append(f"{f.name}: {kind} {c} {pol}")
        codes = {s.code for s in a.services}
        regions = {p.get("region") for p in ann.get("procedures", [])} | {None}
        for p in ann.get("procedures", []):
            if p.get("code"):
                score.procedures += 1
                score.procedures_found += p["code"] in codes
                if p["code"] not in codes:
                    score.misses.append(f"{f.name}: procedure {p['code']} not found (got {sorted(codes)})")
        for s in a.services:
            region = s.region
            if region not in regions:
                score.other_region += 1
                score.misses.append(
                    f"{f.name}: {s.code} is a {region} code in a note about {sorted(filter(None, regions))}"
                )
        ok = a.review == ann.get("review", "prospective")
        score.review_right += ok
        if not ok:
            score.misses.append(f"{f.name}: review {a.review}, annotated {ann.get('review')}")
    return score
