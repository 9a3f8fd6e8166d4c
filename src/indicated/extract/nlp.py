"""The medspaCy pipeline: a blank English tokenizer, sentence rules, our lexicon, ConText.

Built once per process from the knowledge files. spaCy's rule ``sentencizer`` replaces medspaCy's
PyRuSH splitter (about 8x faster here, see DESIGN.md), and a small rule adds breaks at blank lines
and note headings ("Imaging:"), which the sentencizer alone misses.
"""

from __future__ import annotations

import re
from functools import lru_cache

from indicated.kb.loader import Knowledge, bundled

TERM = "T"  # entity label prefix: a lexicon term (index into lexicon.terms)
PROC = "P"  # entity label prefix: a procedure term (index into procedures.terms)

_HEADING = re.compile(r"^[A-Z][A-Za-z /&-]{1,30}:$")


def _rule_for(label: str, phrase: str):
    from medspacy.ner import TargetRule

    if phrase.isupper() and " " not in phrase and len(phrase) <= 6:
        # short abbreviations (PT, CES, DM) are case-sensitive: "pt" in notes means "patient"
        return TargetRule(phrase, label, pattern=[{"TEXT": phrase}])
    return TargetRule(phrase, label)


class RegexTerms:
    """Adds the lexicon's regex terms to ``doc.ents``; the longest span wins an overlap, as in medspaCy."""

    patterns: list[tuple[re.Pattern[str], str]]

    def __init__(self) -> None:
        self.patterns = []

    def __call__(self, doc):
        from spacy.util import filter_spans

        text = doc.text
        found = []
        for rx, label in self.patterns:
            for m in rx.finditer(text):
                span = doc.char_span(m.start(), m.end(), label=label, alignment_mode="expand")
                if span is not None and len(span):
                    found.append(span)
        if found:
            doc.ents = filter_spans([*doc.ents, *found])
        return doc


def build(kb: Knowledge):
    """A fresh pipeline for ``kb``; use :func:`pipeline` for the shared one."""
    import spacy
    from medspacy.context import ConTextRule
    from spacy.language import Language

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

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("indicated_note_breaks")
    matcher = nlp.add_pipe("medspacy_target_matcher")
    rules = []
    for i, term in enumerate(kb.lexicon.terms):
        rules += [_rule_for(f"{TERM}{i}", p) for p in term.phrases]
    for i, proc in enumerate(kb.procedures.terms):
        rules += [_rule_for(f"{PROC}{i}", p) for p in proc.phrases]
    matcher.add(rules)
    # Regex terms run in one pass of our own: medspaCy's regex matcher rebuilds the document text for
    # every pattern, which was a third of the time of an assessment.
    regex_terms = nlp.add_pipe("indicated_regex_terms")
    regex_terms.patterns = [
        (re.compile(rx, re.IGNORECASE), f"{TERM}{i}") for i, term in enumerate(kb.lexicon.terms) for rx in term.regex
    ]

    # Our rules replace medspaCy's default rule of the same literal (its ": no" reads backward only,
    # which misses "Flexion-extension: no listhesis"); every other default rule is kept.
    context = nlp.add_pipe("medspacy_context", config={"rules": None})
    ours = [
        ConTextRule(r.literal, r.category, direction=r.direction, pattern=r.pattern, max_scope=r.max_scope)
        for r in kb.lexicon.context_rules
    ]
    replaced = {r.literal.lower() for r in ours}
    defaults = ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH)
    context.add([r for r in defaults if r.literal.lower() not in replaced] + ours)
    return nlp


def _line_start(doc, i: int) -> str:
    """The text of the line that starts at token ``i``, up to its first colon."""
    words = []
    for tok in doc[i : i + 6]:
        words.append(tok.text)
        if tok.text == ":" or "\n" in tok.whitespace_:
            break
    return "".join(w if w == ":" else f" {w}" for w in words).strip().replace(" :", ":")


@lru_cache(maxsize=1)
def pipeline():
    """The shared pipeline over the bundled knowledge, built on first use (about 1 s)."""
    _quiet_loguru()
    return build(bundled())


def _quiet_loguru() -> None:
    """medspaCy logs every match through loguru at DEBUG; keep stderr for our own messages."""
    try:
        from loguru import logger

        logger.remove()
    except ImportError:  # pragma: no cover - loguru is a medspaCy dependency
        pass
