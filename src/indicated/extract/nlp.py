"""The medspaCy pipeline: a blank English tokenizer, sentence rules, our lexicon, ConText.

Built once per process from the knowledge files. spaCy's rule ``sentencizer`` replaces medspaCy's
PyRuSH splitter (about 8x faster here, see DESIGN.md), and a small rule adds breaks at blank lines
and note headings ("Imaging:"), which the sentencizer alone misses.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import re
import sys
import types
import warnings
from collections import Counter

from indicated.kb.loader import Knowledge
from indicated.kb.schema import ProcedureTerm, Term
from indicated.needles import can_match, needles

# An entity's label is what it names: a lexicon term's concept id, a procedure term's code. The term
# itself rides on the span (medspaCy's rule attributes), so no label is an index into one particular
# knowledge's lists.
TERM_ATTR = "lexicon_term"
PROCEDURE_ATTR = "procedure_term"

_HEADING = re.compile(r"^[A-Z][A-Za-z /&-]{1,30}:$")


class _Deferred(types.ModuleType):
    """Stands in for a module in ``sys.modules`` until the first attribute is read from it.

    medspaCy imports QuickUMLS, and QuickUMLS imports all of NLTK at module level: a quarter of a
    second of every cold start, for a component we never use. The stdlib's LazyLoader cannot help on
    Python 3.11 (the import statement itself reads ``__spec__`` and so loads the module). Whoever does
    touch NLTK gets the real module, loaded whole on first use.
    """

    def __getattr__(self, name: str):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def _defer(name: str) -> None:
    if name not in sys.modules:
        sys.modules[name] = _Deferred(name)


def _as_phrases(rule):
    """Copies of the ConText ``rule``, one per phrase its token pattern stands for; None when the
    pattern is more than a choice of lowercase words.

    spaCy's token Matcher calls a Python predicate for every ``IN`` set at every token, which cost a
    fifth of an assessment; the same rules spelled out as phrases run in the PhraseMatcher at almost
    no cost, and medspaCy keeps the longest of overlapping matches either way.
    """
    choices = []
    for token in rule.pattern:
        lower, op = token.get("LOWER"), token.get("OP")
        if set(token) - {"LOWER", "OP"} or op not in (None, "?"):
            return None
        if isinstance(lower, dict):
            if set(lower) != {"IN"}:
                return None
            words = [w for w in lower["IN"] if " " not in w]  # one token never matches "risk of"
        else:
            words = [lower]
        choices.append([*words, ""] if op == "?" else words)
    rules = []
    for words in itertools.product(*choices):
        if phrase := " ".join(w for w in words if w):
            clone = copy.copy(rule)
            clone.literal, clone.pattern = phrase, None
            rules.append(clone)
    return rules


def _phrase_rules(rules: list) -> list:
    """``rules`` with every token pattern that is a choice of words replaced by its phrases. medspaCy
    finds a phrase rule by its words, so a rule whose phrases another rule also says keeps its pattern:
    two rules for "and i" (one ending a negation, one ending every modifier) would leave only one."""
    converted = [(rule, _as_phrases(rule) if isinstance(rule.pattern, list) else None) for rule in rules]
    said = Counter(
        p.literal.lower()
        for rule, phrases in converted
        for p in (phrases if phrases is not None else [rule] if rule.pattern is None else [])
    )
    out = []
    for rule, phrases in converted:
        shared = phrases is not None and any(said[p.literal.lower()] > 1 for p in phrases)
        out += phrases if phrases is not None and not shared else [rule]
    return out


_NT = re.compile(r"n't\b", re.IGNORECASE)


def spellings(phrase: str) -> list[str]:
    """The phrase, and the same words as people often type them without the apostrophe: "didnt fuse",
    "havent had". spaCy splits "didnt" into "did" + "nt" as it splits "didn't" into "did" + "n't", so
    the bare spelling matches only when a rule spells it too. A lone "nt" is left out: alone it is an
    abbreviation ("NT", non-tender), not a denial (the lexicon pairs it with its verb: "<does>nt")."""
    bare = _NT.sub("nt", phrase)
    return [phrase] if bare == phrase or bare.strip().lower() == "nt" else [phrase, bare]


def _bare_spellings(rules: list) -> list:
    """``rules``, each followed by its copy for the spelling without the apostrophe, where it has one."""
    out = []
    for rule in rules:
        out.append(rule)
        if rule.pattern is None:
            for other in spellings(rule.literal)[1:]:
                clone = copy.copy(rule)
                clone.literal = other
                out.append(clone)
        elif isinstance(rule.pattern, list) and (pattern := _bare_pattern(rule.pattern)):
            clone = copy.copy(rule)
            clone.pattern = pattern
            out.append(clone)
    return out


def _bare_pattern(pattern: list[dict]) -> list[dict] | None:
    """The token pattern with its "n't" token spelled "nt"; None when it has none, or when that token
    could match alone (every other token optional)."""
    for i, token in enumerate(pattern):
        lower = token.get("LOWER")
        words = lower.get("IN", ()) if isinstance(lower, dict) else (lower,)
        if "n't" in words:
            if all(t.get("OP") == "?" for j, t in enumerate(pattern) if j != i):
                return None
            bare = {k: v for k, v in token.items() if k != "OP"} | {"LOWER": "nt"}  # the rule itself matches without it
            return [*pattern[:i], bare, *pattern[i + 1 :]]
    return None


def _rule_for(term: Term | ProcedureTerm, phrase: str):
    from medspacy.ner import TargetRule

    label, attributes = _label(term)
    if phrase.isupper() and " " not in phrase and len(phrase) <= 6:
        # short abbreviations (PT, CES, DM) are case-sensitive: "pt" in notes means "patient"
        return TargetRule(phrase, label, pattern=[{"TEXT": phrase}], attributes=attributes)
    return TargetRule(phrase, label, attributes=attributes)


def _label(term: Term | ProcedureTerm) -> tuple[str, dict]:
    if isinstance(term, Term):
        return term.concept, {TERM_ATTR: term}
    return term.code, {PROCEDURE_ATTR: term}


def term_of(ent) -> Term | None:
    """The lexicon term an entity matched; None for a procedure."""
    return ent._.get(TERM_ATTR)


def procedure_of(ent) -> ProcedureTerm | None:
    """The procedure term an entity matched; None for a finding."""
    return ent._.get(PROCEDURE_ATTR)


def text_of(doc) -> str:
    """The note's text, built once: spaCy joins every token anew on each read of ``doc.text``, and
    the extract stages read it about eight times a note (a twentieth of an assessment)."""
    text = doc.user_data.get("text")
    if text is None:
        text = doc.user_data["text"] = doc.text
    return text


class RegexTerms:
    """Adds the lexicon's regex terms to ``doc.ents``; the longest span wins an overlap, as in medspaCy.
    A pattern with a group named ``term`` marks only that group: the rest is context it needs ("It's been
    getting worse" is a deficit only after a sentence naming one), which must not swallow other terms."""

    patterns: list[tuple[re.Pattern[str], Term | ProcedureTerm, tuple[frozenset[str], ...]]]

    def __init__(self) -> None:
        self.patterns = []

    def __call__(self, doc):
        from spacy.util import filter_spans

        text = text_of(doc)
        lower = text.lower()
        found = []
        for rx, term, words in self.patterns:
            if not can_match(words, lower):
                continue  # the pattern cannot match without words this note does not use
            label, attributes = _label(term)
            group = "term" if "term" in rx.groupindex else 0
            for m in rx.finditer(text):
                span = doc.char_span(m.start(group), m.end(group), label=label, alignment_mode="expand")
                if span is not None and len(span):
                    for name, value in attributes.items():
                        span._.set(name, value)
                    found.append(span)
        if found:
            doc.ents = filter_spans([*doc.ents, *found])
        return doc


class QuietSectionizer:
    """medspaCy's sectionizer, matching headings at the start of a line. Its rules are phrases only, so
    its token matcher is empty and spaCy would warn (W036) on every note; that one warning is muted."""

    def __init__(self, nlp) -> None:
        from medspacy.section_detection import Sectionizer

        self.sectionizer = Sectionizer(nlp, rules=None, require_start_line=True)

    def __call__(self, doc):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"\[W036\]")
            return self.sectionizer(doc)


def build(kb: Knowledge):
    """A fresh pipeline for ``kb`` (about 1 s); an :class:`~indicated.engine.Engine` builds it once."""
    _quiet_loguru()
    _defer("nltk")
    import spacy
    from medspacy.context import ConTextRule
    from spacy.language import Language
    from spacy.symbols import ORTH
    from spacy.tokens import Span

    from indicated.extract import pipes

    for name in (TERM_ATTR, PROCEDURE_ATTR):
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)

    if not Language.has_factory("indicated_note_breaks"):

        @Language.component("indicated_note_breaks")
        def note_breaks(doc):
            for i, tok in enumerate(doc[:-1]):
                nxt = doc[i + 1]
                if tok.is_space and ("\n\n" in tok.text or _HEADING.match(_line_start(doc, i + 1))):
                    nxt.is_sent_start = True
                elif tok.text in {"•", "-", "*"} and (i == 0 or "\n" in doc[i - 1].text_with_ws):
                    tok.is_sent_start = True
            return doc

    if not Language.has_factory("indicated_regex_terms"):
        Language.factory("indicated_regex_terms")(lambda nlp, name: RegexTerms())
    # medspaCy's target matcher and ConText, with their results in time linear in the note (pipes.py);
    # they keep medspaCy's pipe names
    if not Language.has_factory("indicated_target_matcher"):
        Language.factory("indicated_target_matcher")(lambda nlp, name: pipes.TargetMatcher(nlp, name))
    if not Language.has_factory("indicated_context"):
        Language.factory("indicated_context")(lambda nlp, name: pipes.ConText(nlp, name, rules=None))

    nlp = spacy.blank("en")
    # abbreviations that never end a sentence keep their period: "Consent discussed incl. infection, ..."
    # is one sentence, not two
    for abbreviation in _NEVER_LAST:
        for form in {abbreviation, abbreviation.capitalize()}:
            nlp.tokenizer.add_special_case(form, [{ORTH: form}])
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("indicated_note_breaks")
    matcher = nlp.add_pipe("indicated_target_matcher", name="medspacy_target_matcher")
    rules = []
    for term in [*kb.lexicon.terms, *kb.procedures.terms]:
        rules += [_rule_for(term, p) for phrase in term.phrases for p in spellings(phrase)]
    # medspaCy runs each phrase through the whole pipeline to tokenize it; the tokenizer alone will do.
    with nlp.select_pipes(enable=[]):
        matcher.add(rules)
    # Regex terms run in one pass of our own: medspaCy's regex matcher rebuilds the document text for
    # every pattern, which was a third of the time of an assessment.
    regex_terms = nlp.add_pipe("indicated_regex_terms")

    regex_terms.patterns = [
        (re.compile(rx, re.IGNORECASE), term, needles(rx))
        for term in [*kb.lexicon.terms, *kb.procedures.terms]
        for rx in term.regex
    ]

    # Section headings ("PAST MEDICAL HISTORY:", "DESCRIPTION OF PROCEDURE:") at the start of a line.
    if not Language.has_factory("indicated_sections"):
        Language.factory("indicated_sections")(lambda nlp, name: QuietSectionizer(nlp))
    sections = nlp.add_pipe("indicated_sections")
    with nlp.select_pipes(enable=[]):
        sections.sectionizer.add(section_rules(kb))

    # Our rules replace medspaCy's default rule of the same literal (its ": no" reads backward only,
    # which misses "Flexion-extension: no listhesis"); every other default rule is kept.
    context = nlp.add_pipe("indicated_context", name="medspacy_context")
    ours = [_context_rule(r) for r in kb.lexicon.context_rules]
    replaced = {r.literal.lower() for r in ours}
    defaults = ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH)
    rules = _bare_spellings([r for r in defaults if r.literal.lower() not in replaced] + ours)
    for r in rules:
        if end := ENDED_BY.get(r.category):
            r.terminated_by = {*r.terminated_by, end}
    with nlp.select_pipes(enable=[]):
        context.add(_phrase_rules(rules))
    return nlp


NEGATION_END = "NEGATION_END"
_NEVER_LAST = ("incl.", "approx.", "esp.", "cf.", "viz.", "eg.", "ie.")
# modifiers that only end the scope of one category: each category, and the end that ends it
ENDED_BY = {"NEGATED_EXISTENCE": NEGATION_END, "HISTORICAL": "HISTORY_END"}


def section_rules(kb: Knowledge) -> list:
    """The sectionizer's rules: each heading followed by its colon, matched only at the start of a line
    (category: the index of its group in record.yaml)."""
    from medspacy.section_detection import SectionRule

    return [
        SectionRule(f"{heading}:", f"{i}") for i, group in enumerate(kb.record.sections) for heading in group.headings
    ]


def _context_rule(r):
    """Our rule as medspaCy's. A negation-only (or history-only) terminator is a modifier that may
    modify no target (its only effect is to end the modifiers whose ``terminated_by`` names it): "h/o scoliosis, 35
    degree curve at age 14" stays history across the comma that ends "no listhesis, 4 months of PT".
    A rule for some concepts modifies only the terms (entity labels) of those concepts."""
    from medspacy.context import ConTextRule

    if r.category in ENDED_BY.values():
        return ConTextRule(r.literal, r.category, direction="FORWARD", pattern=r.pattern, allowed_types={"-"})
    allowed = set(r.concepts) or None  # entity labels are concept ids
    return ConTextRule(
        r.literal, r.category, direction=r.direction, pattern=r.pattern, max_scope=r.max_scope, allowed_types=allowed
    )


def _line_start(doc, i: int) -> str:
    """The text of the line that starts at token ``i``, up to its first colon."""
    words = []
    for tok in doc[i : i + 6]:
        words.append(tok.text)
        if tok.text == ":" or "\n" in tok.whitespace_:
            break
    return "".join(w if w == ":" else f" {w}" for w in words).strip().replace(" :", ":")


def _quiet_loguru() -> None:
    """medspaCy logs every match through loguru at DEBUG; keep stderr for our own messages."""
    try:
        from loguru import logger

        logger.remove()
    except ImportError:  # pragma: no cover - loguru is a medspaCy dependency
        pass
