"""The engine: one knowledge and everything built from it, so what is passed in is what is used.

An :class:`Engine` owns the text pipeline (medspaCy rules compiled from the lexicon, procedures and
record layout) and the retrieval library (the question bank and evidence statements indexed for
BM25). Both take about a second to build, so engines are shared by the content of their knowledge
(:attr:`Knowledge.digest`): two loads of the same files share one, a copy with one more term gets its
own. :meth:`Engine.bundled` is the only default knowledge in the package.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from indicated.errors import InputError
from indicated.kb.loader import Knowledge, load
from indicated.models import Answer, Assessment, Case
from indicated.search import Library

__all__ = ["DEFAULT_POLICY_SET", "Engine"]

DEFAULT_POLICY_SET = "clinical"
_KEEP = 4  # engines kept per process: the bundled knowledge and a few copies (tests, a policy author's folder)
_ENGINES: dict[str, Engine] = {}


class Engine:
    """Assess cases, read notes and answer topic questions with one knowledge."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge

    @classmethod
    def bundled(cls) -> Engine:
        """The engine over the knowledge shipped with the package, loaded once per process."""
        if (engine := _ENGINES.get("bundled")) is None:
            engine = _ENGINES["bundled"] = cls.of(load())
        return engine

    @classmethod
    def of(cls, knowledge: Knowledge) -> Engine:
        """The shared engine for this knowledge's content (built on first use)."""
        engine = _ENGINES.get(knowledge.digest)
        if engine is None:
            while len(_ENGINES) > _KEEP:
                del _ENGINES[next(k for k in _ENGINES if k != "bundled")]
            engine = _ENGINES[knowledge.digest] = cls(knowledge)
        return engine

    @classmethod
    def load(cls, folder: str | Path | None) -> Engine:
        """The engine over a knowledge folder; the bundled one when ``folder`` is None."""
        return cls.bundled() if folder is None else cls.of(load(Path(folder)))

    @cached_property
    def nlp(self):
        """The medspaCy pipeline over this knowledge's lexicon, procedures and record layout."""
        from indicated.extract.nlp import build

        return build(self.knowledge)

    @cached_property
    def library(self) -> Library:
        """The question bank and evidence statements indexed for retrieval."""
        return Library(self.knowledge)

    @cached_property
    def version(self) -> str:
        """The installed package version, read once: package metadata lookups cost about a millisecond."""
        try:
            return version("indicated")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"

    def extract(self, text: str, *, as_of: date | None = None) -> Case:
        """Read one case text into a Case; see :func:`indicated.extract.extract`."""
        from indicated.extract import extract

        return extract(text, engine=self, as_of=as_of)

    def assess(
        self, case: str | Case, *, policy_set: str = DEFAULT_POLICY_SET, as_of: date | None = None
    ) -> Assessment:
        """Assess one case given as text or as an already structured :class:`Case`.

        ``as_of`` (default today) anchors dates written only as a year when the note has no date of its own.
        """
        from indicated.evaluate import evaluate
        from indicated.explain import explain
        from indicated.extract.summary import summarize
        from indicated.route import route, setting_policy

        kb = self.knowledge
        if policy_set not in kb.policy_sets():
            raise InputError(f"unknown policy set {policy_set!r}; choose one of: {', '.join(kb.policy_sets())}")
        case = self.extract(case, as_of=as_of or date.today()) if isinstance(case, str) else summarize(case, kb)
        routes = route(case, kb, policy_set=policy_set)
        evaluation = evaluate(case, routes, setting_policy(kb, policy_set), kb)
        return explain(case, evaluation, kb, self.library, policy_set=policy_set, version=self.version)

    def ask(self, question: str) -> Answer:
        """Answer a topic question from the evidence library; see :func:`indicated.ask.ask`."""
        from indicated.ask import answer

        return answer(question, self.knowledge, self.library)
