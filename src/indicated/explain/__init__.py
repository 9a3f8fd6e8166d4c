"""explain: determinations + evidence library -> Assessment (numbered references, what to document,
what would change the answer, component questions, related questions).

References are numbered in order of first citation, reading services in request order and each
criteria tree top-down, then the setting, then the component questions: the numbers in the article
always increase as you read.
"""

from __future__ import annotations

from collections.abc import Callable

from indicated.evaluate import Evaluation
from indicated.explain.components import answer_components
from indicated.kb.loader import Knowledge
from indicated.kb.schema import Pitfall
from indicated.models import (
    Assessment,
    Case,
    CriterionResult,
    Determination,
    PolicyRef,
    PolicySnapshot,
    ReviewKind,
    ServiceResult,
)
from indicated.reasons import checklist, clause, deciding, excluded, leaves, record_words, turning_points
from indicated.search import Library
from indicated.wording import WORDING

__all__ = ["because", "explain", "leaves", "short_name", "summary"]

D = Determination

RELATED = 5
MOST_QUOTES = 6  # quotes in one verdict sentence
MOST_REASONS = 3  # failed or missing criteria named in one verdict sentence
QUOTES = 2  # record quotes per reason in the verdict: enough to show the chart was read, short enough to scan


def explain(
    case: Case, evaluation: Evaluation, kb: Knowledge, library: Library, *, policy_set: str, version: str
) -> Assessment:
    numbers: dict[str, int] = {}

    def cite(ref: str) -> int:
        return numbers.setdefault(ref, len(numbers) + 1)

    for tree in _trees(evaluation):
        for c in tree:
            c.citations = [cite(ref) for ref in c.sources]
    present = frozenset(f.concept for f in case.findings if f.status == "present" and not f.historical)
    components = answer_components(evaluation, kb, cite, present)
    missing, change = _gaps(evaluation)
    for s in evaluation.services:
        s.plain_description = _plain_description(s, kb)
    return Assessment(
        determination=evaluation.determination,
        review=case.review,
        summary=summary(evaluation, case.review),
        services=evaluation.services,
        setting=evaluation.setting,
        case=case,
        missing_information=missing,
        would_change=change,
        components=components,
        references=[kb.reference(ref, n) for ref, n in numbers.items()],
        related_questions=related_questions(case, evaluation, kb, library),
        policies=_snapshots(evaluation, case, kb),
        glossary=dict(kb.components.glossary),
        level_term=kb.scope.level_term,
        policy_set=policy_set,
        engine_version=version,
    )


def _plain_description(s: ServiceResult, kb: Knowledge) -> str:
    """What the procedure does in everyday words: its family's, else the coder's description."""
    code = kb.codes.get(s.code)
    return kb.components.families.get(code.family, s.description) if code else (s.description or "care")


def _snapshots(ev: Evaluation, case: Case, kb: Knowledge) -> list[PolicySnapshot]:
    """The policies applied, in the order the article names them (services, then the setting), as
    they stand as the request is judged: the article renders from these, never from the knowledge of
    the day it is read. Each keeps only the pitfalls that bear on this case."""
    bears = _bearing(ev, case, kb)
    refs: list[PolicyRef] = [s.policy for s in ev.services if s.policy is not None]
    if ev.setting is not None and ev.setting.policy is not None:
        refs.append(ev.setting.policy)
    out = []
    for pid in dict.fromkeys(r.id for r in refs):
        p = kb.policies[pid]
        out.append(
            PolicySnapshot(
                id=p.id,
                version=p.version,
                title=p.title,
                policy_set=p.policy_set,
                follows=p.follows,
                pitfalls=[pit.text for pit in p.pitfalls if bears(pit)],
                strengthen=list(p.strengthen),
            )
        )
    return out


def _bearing(ev: Evaluation, case: Case, kb: Knowledge) -> Callable[[Pitfall], bool]:
    """Whether a pitfall bears on the case: the codes and families asked for, the findings present and
    the setting requested against the pitfall's ``when``."""
    codes = {s.code for s in ev.services}
    families = {kb.codes[c].family for c in codes if c in kb.codes}
    concepts = {f.concept for f in case.findings if f.status == "present"}
    settings = {case.setting.requested} if case.setting and case.setting.requested else set()

    def bears(pitfall: Pitfall) -> bool:
        w = pitfall.when
        return w is None or all(
            not wanted or bool(set(wanted) & have)
            for wanted, have in (
                (w.codes, codes),
                (w.families, families),
                (w.concepts, concepts),
                (w.settings, settings),
            )
        )

    return bears


def _trees(ev: Evaluation) -> list[list[CriterionResult]]:
    trees = [s.criteria for s in ev.services]
    if ev.setting is not None:
        trees.append(ev.setting.criteria)
    return trees


def _gaps(ev: Evaluation) -> tuple[list[str], list[str]]:
    """What to document (the undecided criteria) and what would change the answer: that
    documentation, the failed criteria to meet, or for a request that is met, the exclusions whose
    finding would overturn it."""
    missing: dict[str, None] = {}
    change: dict[str, None] = {}
    judged: list[tuple[Determination | None, list[CriterionResult]]] = [
        (s.determination, s.criteria) for s in ev.services
    ]
    if ev.setting is not None:
        judged.append((ev.setting.determination, ev.setting.criteria))
    for det, criteria in judged:
        for c in turning_points(det, criteria):
            if det == D.INSUFFICIENT_INFORMATION:
                missing.setdefault(c.to_document or c.statement, None)
            template = WORDING[det].change
            change.setdefault(template.format(c.to_document or clause(c.statement), clause(c.statement)), None)
    return list(missing), list(change)


def summary(ev: Evaluation, review: ReviewKind = "prospective") -> str:
    """The verdict: one sentence per requested procedure saying what it is and *because* of what, in
    the record's own words, then the setting with its reason in the same sentence.

    A reviewer signs an answer that says why: "Lumbar laminectomy (63047) is medically necessary because
    the record documents “neurogenic claudication”, “severe central stenosis” and “physical therapy”."
    Add-ons ride in their primary's sentence ("with 22840"), since they take its determination; where the
    procedures disagree, a last sentence says how they combine, so the headline never contradicts a line.
    """
    served: dict[str, list[str]] = {}
    for s in ev.services:
        if s.serves:
            served.setdefault(s.serves, []).append(s.code)
    sentences = [_service_sentence(s, served.get(s.code, []), review) for s in ev.services if not s.serves]
    if not sentences:
        sentences = ["No requested procedure was identified in the record."]
    if review == "performed":
        sentences.insert(0, "This reviews a procedure already performed, judged on what was documented before it.")
    if implied := [s for s in ev.services if s.implied]:
        sentences.insert(
            0,
            f"The record asks about surgery without naming an operation; this judges {_lower(short_name(implied[0]))}, "
            "the operation its findings usually call for.",
        )
    if combined := _combined(ev):
        sentences.append(combined)
    if ev.setting is not None:
        sentences.append(_setting_sentence(ev))
    return " ".join(sentences)


def _service_sentence(s: ServiceResult, addons: list[str], review: ReviewKind) -> str:
    wording = WORDING[s.determination]
    name = f"{short_name(s)} ({s.code})" + (f", with {_and(addons)}," if addons else "")
    state = wording.state_past if review == "performed" else wording.state
    if s.policy is None:
        return f"{name} {state}" + (f": {_lower(s.reasons[0]).rstrip('.')}." if s.reasons else ".")
    if not s.criteria:  # an add-on whose primary was not requested
        return f"{name} {state}" + (f": {_lower(s.reasons[0]).rstrip('.')}." if s.reasons else ".")
    return f"{name} {state} because {because(s.determination, s.criteria)}."


def because(determination: Determination | None, criteria: list[CriterionResult]) -> str:
    """Why a tree came out as it did, as the clause after "because": the record's words for what was met,
    the facts that failed a criterion, or what is not yet documented."""
    shown = checklist(criteria)
    if determination == D.MEDICALLY_NECESSARY or (determination is None and criteria and criteria[0].status == "met"):
        words = list(dict.fromkeys(w for c in shown for w in record_words(c)[:QUOTES]))
        if not words:
            return "every criterion is met"
        quoted = [f"“{w}”" for w in words[:MOST_QUOTES]]
        return f"the record documents {_and(quoted)}"
    if determination == D.INSUFFICIENT_INFORMATION or (determination is None and criteria[0].status == "unknown"):
        missing = [clause(c.statement) for c in shown if c.status == "unknown"]
        more = f" (and {len(missing) - MOST_REASONS} more)" if len(missing) > MOST_REASONS else ""
        return "the record does not yet show that " + _or(missing[:MOST_REASONS]) + more
    failed = [_failed(c, criteria) for c in shown if c.status == "not_met"]
    more = f" (and {len(failed) - MOST_REASONS} more)" if len(failed) > MOST_REASONS else ""
    return _and(failed[:MOST_REASONS], sep="; ") + more


def _failed(c: CriterionResult, criteria: list[CriterionResult]) -> str:
    """A failed criterion as a fact: what an exclusion found, else what the record does not show, each
    with the words that decided it."""
    if (found := excluded(c, criteria)) is not None:
        return clause(found.statement) + _quoted(found)
    words = list(dict.fromkeys(record_words(c)))[:QUOTES]
    said = f" (it says {_and([f'“{w}”' for w in words])})" if words else (" (not mentioned)" if c.assumed else "")
    return f"the record does not show that {clause(c.statement)}{said}"


def _combined(ev: Evaluation) -> str:
    """How the procedures' answers make the request's, said only where they differ."""
    judged = [s for s in ev.services if not s.serves and s.policy is not None]
    if len({s.determination for s in judged}) < 2:
        return ""
    if ev.determination == D.INSUFFICIENT_INFORMATION:
        open_ = [s.code for s in judged if s.determination == D.INSUFFICIENT_INFORMATION]
        return f"The request as a whole cannot be decided until {_and(open_)} {'is' if len(open_) == 1 else 'are'} decided."
    return f"Taken together, the request {WORDING[ev.determination].state}."


def _setting_sentence(ev: Evaluation) -> str:
    """The setting's answer with its reason in the same sentence."""
    st = ev.setting
    assert st is not None
    if st.requested is None or st.determination is None:
        return f"No setting was requested; the criteria point to the {st.recommended} setting."
    name = f"The {st.requested} setting"
    if st.follows_procedure:
        return f"{name} follows the procedure and is judged once the procedure is necessary."
    state = WORDING[st.determination].state
    reason = _lower(" ".join(st.reasons).rstrip(".")) or because(None, st.criteria)
    recommended = f" (recommended: {st.recommended})" if st.requested != st.recommended else ""
    return f"{name} {state}{recommended} because {reason}."


def short_name(s: ServiceResult) -> str:
    """A procedure's name as a sentence can carry it: its description up to the first comma."""
    head = (s.description or s.code).split(", ", 1)[0]
    return head if head.count("(") == head.count(")") else (s.description or s.code)


def _and(items: list[str], sep: str = ", ") -> str:
    if len(items) <= 1:
        return "".join(items)
    last = " and " if sep == ", " else "; and "
    return sep.join(items[:-1]) + last + items[-1]


def _or(items: list[str]) -> str:
    return (", or that " if len(items) > 2 else " or that ").join(items) if items else "it is documented"


def _lower(text: str) -> str:
    return clause(text)


def _quoted(c: CriterionResult, most: int = QUOTES) -> str:
    """The record's words that decided a criterion, in brackets after it."""
    words = list(dict.fromkeys(record_words(c)))[:most]
    return f" ({', '.join(f'“{w}”' for w in words)})" if words else ""


def related_questions(case: Case, ev: Evaluation, kb: Knowledge, library: Library) -> list[str]:
    """Bank questions nearest to what this request is about: the procedures, the policies applied,
    the findings present and the criteria that decided it."""
    words = [s.description for s in ev.services]
    words += [s.policy.title for s in ev.services if s.policy is not None and not s.serves]
    present = {f.concept for f in case.findings if f.status == "present" and f.concept in kb.concepts}
    words += [kb.concepts[c].label for c in sorted(present)]
    for s in ev.services:
        if s.policy is not None and not s.serves:
            words += deciding(s)[:3]
    regions = frozenset(s.region for s in ev.services if s.policy is not None and s.region)
    return list(library.related(". ".join(words), k=RELATED, regions=regions))
