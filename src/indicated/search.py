"""Lexical retrieval (BM25 through bm25s) over the question bank and the evidence library.

Questions are short and people word them differently ("ESI" / "epidural steroid injection", "TLIF" /
"fusion", "my back"), so a query and a document meet on more than their surface words: text is
lower-cased, stop words dropped, words reduced to their Snowball stems, and every phrase or pattern
the lexicon or the procedure list knows adds its concept id or procedure family as one more token.
The thesaurus (knowledge/synonyms.yaml: abbreviations such as "DS") is spelled out first.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from indicated.cache import digest, remember
from indicated.needles import can_match, needles

if TYPE_CHECKING:  # pragma: no cover
    from indicated.kb.loader import Knowledge
    from indicated.kb.schema import Question, Source, Statement

__all__ = ["Hit", "Library", "Tokenizer"]

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
# a question's own words decide; the words of the records that answer it break ties and catch paraphrase
ANSWER_WEIGHT = 0.3
# statements of the records a matching bank question names rank as if this share of the best score higher
PREFER_LIFT = 0.35
# related questions cover the query's several sides ("TLIF for a slip, 3 months of PT, smoker"): a
# candidate keeps 1 - NOVELTY of its score, plus NOVELTY times the share of the query words it matches
# (weighted by rarity) that no better pick matched; chosen among the SUGGEST_POOL most relevant
NOVELTY = 0.3
SUGGEST_POOL = 30
# negation (NegEx-style): a cue word negates at most NEGATION_SCOPE words after it, within its clause
_CLAUSE = re.compile(r"[,;:.?!()/]\s|\s[-/]\s|\bbut\b|\bwith\b")
_NEGATION = frozenset({"no", "not", "without", "absent", "absence", "denies", "nor", "never"})
NEGATION_SCOPE = 5
_STOP = frozenset(STOPWORDS_EN_PLUS) | {"does", "would", "could", "should", "can", "may", "must", "need", "needs"}


class Tokenizer:
    """Text -> stems plus concept and family tokens, the same way for documents and queries."""

    def __init__(self, kb: Knowledge) -> None:
        phrases: dict[str, set[str]] = {}

        def add(phrase: str, token: str) -> None:
            phrases.setdefault(phrase.lower(), set()).add(token)

        patterns: list[tuple[re.Pattern[str], str]] = []
        for term in kb.lexicon.terms:
            if term.status == "present":
                for phrase in term.phrases:
                    add(phrase, f"c_{term.concept}")
                patterns += [(re.compile(rx, re.IGNORECASE), f"c_{term.concept}") for rx in term.regex]
        self._patterns = patterns
        # a pattern whose words a text does not use is skipped, not scanned (most of them, for most texts)
        self._needles = [needles(p.pattern) for p, _ in patterns]
        for concept in kb.concepts.values():
            add(concept.label, f"c_{concept.id}")
        for proc in kb.procedures.terms:
            for phrase in proc.phrases:
                add(phrase, f"f_{kb.codes[proc.code].family}")
        for code in kb.codes.values():
            add(code.code, f"f_{code.family}")
        # phrases and synonyms are looked up as word n-grams: one dict probe per n-gram is far faster
        # than a regex alternation of a thousand phrases
        self._phrases = {_words(p): sorted(tokens) for p, tokens in phrases.items() if _words(p)}
        self._synonyms = {_words(k): _words(v) for k, v in kb.thesaurus.synonyms.items() if _words(k)}
        self._longest = max(len(k) for k in [*self._phrases, *self._synonyms, ()])
        self._stemmer = Stemmer.Stemmer("english")
        self.fingerprint = digest(
            [
                Path(__file__).read_text(encoding="utf-8"),  # this code
                json.dumps(sorted((" ".join(k), v) for k, v in self._phrases.items())),
                json.dumps(sorted((" ".join(k), " ".join(v)) for k, v in self._synonyms.items())),
                json.dumps([(p.pattern, token) for p, token in patterns]),
                Stemmer.version(),
            ]
        )

    def __call__(self, text: str) -> list[str]:
        text = text.lower()
        tokens: list[str] = []
        for clause in _CLAUSE.split(text):
            words = list(_words(clause))
            cue = next((i for i, w in enumerate(words) if w in _NEGATION), len(words))
            end = cue + 1 + NEGATION_SCOPE
            tokens += self._span(words[:cue]) + self._span(words[cue:end], negated=True) + self._span(words[end:])
        tokens += [
            token
            for (pattern, token), sets in zip(self._patterns, self._needles, strict=True)
            if can_match(sets, text) and pattern.search(text)
        ]
        return tokens

    def _span(self, words: list[str], negated: bool = False) -> list[str]:
        """Stems and concept tokens of a run of words. A negated run ("no listhesis", "without
        weakness") is not spelled out through the thesaurus, and each concept it names adds a
        ``no_`` twin: "stenosis, no listhesis" then leans toward questions about stenosis without a
        slip instead of every question about a slip."""
        spans = [words] if negated else [words] + [list(v) for v in self._ngrams(words, self._synonyms)]
        tokens = self._stemmer.stemWords([w for span in spans for w in span if w not in _STOP])
        for span in spans:
            for found in self._ngrams(span, self._phrases):
                tokens.extend(found)
                if negated:
                    tokens.extend(f"no_{t}" for t in found)
        return tokens

    def _ngrams(self, words: list[str], table: dict) -> list:
        """Values of ``table`` for every word n-gram of ``words`` it holds, longest match first."""
        out, i = [], 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                value = table.get(tuple(words[i : i + n]))
                if value is not None:
                    out.append(value)
                    i += n - 1
                    break
            i += 1
        return out


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


class _Index:
    """One BM25 index with the document frequencies needed to judge how much of a query it covers."""

    def __init__(self, docs: Sequence[list[str]]) -> None:
        self.docs = [set(d) for d in docs]
        self._bm25 = bm25s.BM25()
        self._bm25.index([d or ["\x00"] for d in docs], show_progress=False)
        df: dict[str, int] = {}
        for d in self.docs:
            for t in d:
                df[t] = df.get(t, 0) + 1
        self._df = df

    def scores(self, tokens: list[str]) -> np.ndarray:
        if not tokens:
            return np.zeros(len(self.docs))
        return np.asarray(self._bm25.get_scores(tokens), dtype=float)

    def idf(self, token: str) -> float:
        """Rarer words weigh more; a word the library never uses weighs most of all."""
        return math.log(1 + len(self.docs) / (1 + self._df.get(token, 0)))


@dataclass(frozen=True)
class Hit:
    id: str
    score: float


class Library:
    """The question bank and the evidence statements, indexed once per loaded knowledge."""

    def __init__(self, kb: Knowledge) -> None:
        self.kb = kb
        self.tokenize = Tokenizer(kb)
        self._question_ids = list(kb.questions)
        self._statement_ids = list(kb.statements)

    def _tokenized(self, name: str, texts: list[str]) -> list[list[str]]:
        """The tokens of ``texts``: read from the disk cache when these very texts were tokenized by
        this very tokenizer before, which spares a cold start a third of a second."""
        key = digest([self.tokenize.fingerprint, json.dumps(texts)])
        return remember(f"retrieval-{name}", key, lambda: [self.tokenize(t) for t in texts])

    @cached_property
    def _questions(self) -> _Index:
        return _Index(self._tokenized("questions", [_question_doc(q) for q in self.kb.questions.values()]))

    @cached_property
    def _answers(self) -> _Index:
        """Each question as the records that answer it: their titles and statements."""
        sources = self.kb.sources
        tokens = self._tokenized("sources", [_source_doc(src) for src in sources.values()])
        per_source = dict(zip(sources, tokens, strict=True))
        return _Index([[t for ref in q.sources for t in per_source[ref]] for q in self.kb.questions.values()])

    @cached_property
    def _statements(self) -> _Index:
        docs = [_statement_doc(*self.kb.statements[s]) for s in self._statement_ids]
        return _Index(self._tokenized("statements", docs))

    def _question_scores(self, tokens: list[str]) -> np.ndarray:
        return _blend(self._questions.scores(tokens), self._answers.scores(tokens), ANSWER_WEIGHT)

    def questions(self, query: str, k: int = 5) -> list[Hit]:
        """The bank questions nearest to ``query``, best first (only those sharing a word with it)."""
        return _top(self._question_ids, self._question_scores(self.tokenize(query)), k)

    def suggest(self, query: str, k: int = 5, regions: frozenset[str] = frozenset()) -> list[Hit]:
        """Related questions for ``query``: near it, and between them covering its several sides.
        Ranked by relevance alone, five questions about smoking fill the list for "TLIF for a slip,
        3 months of PT, smoker" and the questions about the slip and the therapy are pushed out.
        With ``regions`` (where the request's procedures are done), a question about another part of
        the spine is left out: "smoking before fusion" suits a neck fusion, "lumbar fusion for a slip" not."""
        tokens = self.tokenize(query)
        scores = self._question_scores(tokens)
        if regions:
            questions = self.kb.questions
            fits = np.array(
                [not questions[q].regions or bool(regions & set(questions[q].regions)) for q in self._question_ids]
            )
            scores = scores * fits
        pool = [int(i) for i in np.argsort(-scores, kind="stable")[:SUGGEST_POOL] if scores[i] > 0]
        weight = {t: self._questions.idf(t) for t in tokens}
        query = set(weight)
        matched = {i: self._questions.docs[i] & query for i in pool}
        total = {i: sum(weight[t] for t in words) or 1.0 for i, words in matched.items()}
        seen: set[str] = set()

        def value(i: int) -> float:
            share = sum(weight[t] for t in matched[i] - seen) / total[i]
            return float(scores[i]) * (1 - NOVELTY + NOVELTY * share)

        picked: list[Hit] = []
        while pool and len(picked) < k:
            best = max(pool, key=value)  # the first of equals: the more relevant
            pool.remove(best)
            seen |= matched[best]
            picked.append(Hit(self._question_ids[best], float(scores[best])))
        return picked

    @lru_cache(maxsize=4096)  # noqa: B019 - one Library per loaded knowledge, kept for the process
    def related(self, query: str, k: int = 5, regions: frozenset[str] = frozenset()) -> tuple[str, ...]:
        """The texts of the suggested bank questions; cached, because requests of one kind (same
        procedure, findings and deciding criteria) ask the same query again and again in a batch."""
        return tuple(self.kb.questions[h.id].text for h in self.suggest(query, k, regions))

    def statements(self, query: str, k: int = 5, prefer: Sequence[str] = ()) -> list[Hit]:
        """Statements nearest to ``query``; those of the ``prefer`` records (the sources of the best
        matching bank question) get a lift, because a curated question-to-source link beats words."""
        scores = self._statements.scores(self.tokenize(query))
        if prefer and scores.max() > 0:
            preferred = set(prefer)
            lift = np.array([self.kb.statements[sid][0].id in preferred for sid in self._statement_ids])
            scores = scores + PREFER_LIFT * scores.max() * lift * (scores > 0)
        return _top(self._statement_ids, scores, k)

    @cached_property
    def domain(self) -> frozenset[str]:
        """Tokens that name something clinical and specific: the words of concepts, lexicon phrases,
        procedures, policy titles and record topics, and every concept and family token, less the
        thesaurus's generic words. Ordinary English ("often", "done") and words every coverage
        question shares ("surgery", "covered") cannot anchor an answer."""
        kb = self.kb
        texts = [c.label for c in kb.concepts.values()]
        texts += [p for t in kb.lexicon.terms for p in t.phrases]
        texts += [p for t in kb.procedures.terms for p in t.phrases]
        texts += [c.description for c in kb.codes.values()] + [p.title for p in kb.policies.values()]
        texts += [t.replace("_", " ") for src in kb.sources.values() for t in src.topics]
        texts += list(kb.thesaurus.synonyms.values())
        generic = {t for word in kb.thesaurus.generic for t in self.tokenize(word)}
        return frozenset(t for text in texts for t in self.tokenize(text)) - generic

    def uncovered_families(self, query: str) -> list[str]:
        """Procedure families the query names that no policy in the library covers (knee replacement),
        when it names no covered family as well."""
        families = {t[2:] for t in self.tokenize(query) if t.startswith("f_")}
        return [] if families & self._covered else sorted(families - self._covered)

    @cached_property
    def _covered(self) -> frozenset[str]:
        return frozenset(self.kb.codes[s.code].family for p in self.kb.policies.values() for s in p.services)

    def coverage(self, query: str, held_texts: Sequence[str]) -> float:
        """Share of the query's clinical weight (IDF of its domain tokens) found in ``held_texts``:
        low when the question is about something the library does not hold."""
        tokens = set(self.tokenize(query)) & self.domain
        if not tokens:
            return 0.0
        held = {t for text in held_texts for t in self.tokenize(text)}
        index = self._statements
        return sum(index.idf(t) for t in tokens if t in held) / sum(index.idf(t) for t in tokens)


def _blend(own: np.ndarray, answers: np.ndarray, weight: float) -> np.ndarray:
    """Scores of two indexes on one scale (each divided by its best) mixed by ``weight``."""
    return (1 - weight) * own / (own.max() or 1.0) + weight * answers / (answers.max() or 1.0)


def _top(ids: list[str], scores: np.ndarray, k: int) -> list[Hit]:
    order = np.argsort(-scores, kind="stable")[:k]
    return [Hit(ids[i], float(scores[i])) for i in order if scores[i] > 0]


def _source_doc(source: Source) -> str:
    return " ".join([source.title, *(st.text for st in source.statements)])


def _question_doc(q: Question) -> str:
    return " ".join([q.text, *q.also, *q.cases, *(t.replace("_", " ") for t in q.topics)])


def _statement_doc(source: Source, statement: Statement) -> str:
    return " ".join([statement.text, source.title, *(t.replace("_", " ") for t in source.topics)])
