"""The medspaCy pipeline's speed-ups keep its behaviour: ConText rules spelled out as phrases mark
exactly what the token patterns marked, and NLTK is loaded only when something uses it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from medspacy.context import ConTextRule

from conftest import ROOT, SHARED_CASES
from indicated.extract import nlp


def test_a_choice_of_words_becomes_its_phrases():
    rule = ConTextRule(
        "may be ruled out",
        "POSSIBLE_EXISTENCE",
        pattern=[{"LOWER": {"IN": ["may", "might"]}, "OP": "?"}, {"LOWER": "be"}, {"LOWER": {"IN": ["out", "x y"]}}],
    )
    phrases = nlp._as_phrases(rule)
    assert sorted(r.literal for r in phrases) == ["be out", "may be out", "might be out"]
    assert {(r.category, r.pattern, r.direction) for r in phrases} == {("POSSIBLE_EXISTENCE", None, rule.direction)}
    assert rule.pattern is not None  # the original rule is untouched


@pytest.mark.parametrize(
    "pattern",
    [
        [{"LOWER": "prior"}, {"LOWER": {"NOT_IN": ["to"]}}],
        [{"TEXT": ","}, {"TEXT": {"REGEX": "^L\\d"}}],
        [{"LOWER": "no"}, {"LOWER": "further", "OP": "*"}],
    ],
)
def test_anything_more_than_a_choice_of_words_stays_a_pattern(pattern):
    rule = ConTextRule("x", "NEGATED_EXISTENCE", pattern=pattern)
    assert nlp._as_phrases(rule) is None
    assert nlp._phrase_rules([rule]) == [rule]


def test_words_typed_without_the_apostrophe_get_their_own_spelling():
    assert nlp.spellings("didn't fuse") == ["didn't fuse", "didnt fuse"]
    assert nlp.spellings("n't quit") == ["n't quit", "nt quit"]
    assert nlp.spellings("n't") == ["n't"]  # alone, "nt" is an abbreviation ("NT"), not a denial
    assert nlp.spellings("no relief") == ["no relief"]
    optional_verb = [{"LOWER": {"IN": ["has", "did"]}, "OP": "?"}, {"LOWER": {"IN": ["not", "n't"]}}, {"LOWER": "help"}]
    assert nlp._bare_pattern(optional_verb) == [optional_verb[0], {"LOWER": "nt"}, {"LOWER": "help"}]
    alone = [{"LOWER": {"IN": ["not", "n't"]}}, {"LOWER": {"IN": ["had", "have"]}, "OP": "?"}]
    assert nlp._bare_pattern(alone) is None
    rules = nlp._bare_spellings([ConTextRule("hasn't", "NEGATED_EXISTENCE"), ConTextRule("never", "NEGATED_EXISTENCE")])
    assert [r.literal for r in rules] == ["hasn't", "hasnt", "never"]


def _texts() -> list[str]:
    files = sorted((ROOT / "cases").rglob("*.yaml")) + sorted(SHARED_CASES.glob("*.yaml"))
    texts = [yaml.safe_load(f.read_text()).get("text") for f in files]
    return [t for t in texts if isinstance(t, str)]


def _marks(pipe, text: str) -> list[tuple]:
    doc = pipe(text)
    return [(e.start, e.end, e.label_, sorted((m.category, m.modifier_span) for m in e._.modifiers)) for e in doc.ents]


def test_phrase_rules_mark_what_the_token_patterns_marked(kb, monkeypatch):
    texts = _texts()
    assert len(texts) > 50
    fast = nlp.build(kb)
    monkeypatch.setattr(nlp, "_phrase_rules", lambda rules: rules)
    slow = nlp.build(kb)
    assert [_marks(fast, t) for t in texts] == [_marks(slow, t) for t in texts]
    assert any(m for t in texts for *_, m in _marks(fast, t))  # the comparison saw modifiers at all


def test_nltk_loads_only_when_used():
    code = (
        "import sys\n"
        "from indicated.engine import Engine\n"
        "Engine.bundled().nlp('No weakness.')\n"
        "assert 'nltk.corpus' not in sys.modules, 'NLTK was imported at start-up'\n"
        "import nltk\n"
        "assert callable(nltk.word_tokenize)\n"
        "import quickumls.core\n"
        "assert quickumls.core.nltk.corpus.stopwords is not None\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
