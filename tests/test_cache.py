"""The on-disk cache of derived work: computed once, keyed by content, harmless when broken or off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indicated import cache
from indicated.kb.loader import load
from indicated.search import Library


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INDICATED_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_value_is_computed_once_then_read_back(cache_dir: Path):
    calls = []

    def compute():
        calls.append(1)
        return {"a": [["x", "y"]]}

    key = cache.digest(["some", "inputs"])
    assert cache.remember("thing", key, compute) == {"a": [["x", "y"]]}
    assert cache.remember("thing", key, compute) == {"a": [["x", "y"]]}
    assert len(calls) == 1
    assert [p.name.startswith("thing-") for p in cache_dir.iterdir()] == [True]


def test_different_inputs_give_different_keys():
    assert cache.digest(["ab", "c"]) != cache.digest(["a", "bc"])
    assert cache.digest(["x"]) == cache.digest(["x"])


def test_a_corrupt_entry_is_recomputed_and_replaced(cache_dir: Path):
    key = cache.digest(["k"])
    cache.remember("thing", key, lambda: [1])
    (entry,) = cache_dir.iterdir()
    entry.write_text('{"half": ')
    assert cache.remember("thing", key, lambda: [2]) == [2]
    assert json.loads(entry.read_text()) == [2]


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("INDICATED_CACHE_DIR", "off")
    assert cache.folder() is None
    assert cache.remember("thing", "k", lambda: 3) == 3
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_folder_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("INDICATED_CACHE_DIR", str(blocker / "cache"))
    assert cache.remember("thing", "k", lambda: 4) == 4


def test_default_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("INDICATED_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.folder() == tmp_path / "indicated"


QUERY = "fusion for lumbar spinal stenosis with degenerative spondylolisthesis"


def test_retrieval_from_the_cache_matches_a_fresh_tokenization(copy: Path, cache_dir: Path, monkeypatch):
    kb = load(copy)
    fresh = Library(kb).related(QUERY)
    assert sorted(p.name.split("-")[1] for p in cache_dir.iterdir()) == ["questions", "sources"]
    # a second library reads the tokens back instead of tokenizing: same questions, no tokenizer call
    second = Library(kb)
    monkeypatch.setattr(type(second.tokenize), "__call__", _tokenize_queries_only(second.tokenize))
    assert second.related(QUERY) == fresh
    monkeypatch.undo()
    monkeypatch.setenv("INDICATED_CACHE_DIR", "off")
    assert Library(kb).related(QUERY) == fresh


def _tokenize_queries_only(tokenizer):
    original = type(tokenizer).__call__

    def guarded(self, text: str) -> list[str]:
        assert text == QUERY, "documents were tokenized again instead of read from the cache"
        return original(self, text)

    return guarded


def test_an_edited_question_gets_a_new_entry(copy: Path, cache_dir: Path):
    Library(load(copy)).related(QUERY)
    bank = copy / "questions.yaml"
    bank.write_text(bank.read_text().replace("text: When is fusion", "text: When is arthrodesis", 1))
    edited = load(copy)
    Library(edited).related(QUERY)
    # only the edited group is tokenized again; the records' entry is shared
    assert sorted(p.name.split("-")[1] for p in cache_dir.iterdir()) == ["questions", "questions", "sources"]
