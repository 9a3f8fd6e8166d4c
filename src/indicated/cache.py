"""A small on-disk cache for work derived from the knowledge, so a fresh process need not redo it.

Tokenizing the question bank and the evidence library for retrieval takes a third of a second, a
sixth of a cold `indicated assess`. The result depends only on the texts and on the tokenizer, so it
is stored under a digest of both: a changed question, lexicon entry or tokenizer gives a new key,
never a stale answer. Values are JSON, not pickle, so a file planted in the cache cannot run code.

The folder is ``$INDICATED_CACHE_DIR``, else ``$XDG_CACHE_HOME/indicated``, else
``~/.cache/indicated``; ``INDICATED_CACHE_DIR=off`` turns the cache off. A cache that cannot be read
or written is ignored: the work is simply done again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

OFF = {"off", "0", "false", "no", ""}


def folder() -> Path | None:
    """Where cached values live; None when the cache is turned off."""
    configured = os.environ.get("INDICATED_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in OFF else Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "indicated"


def digest(parts: Iterable[str]) -> str:
    """One key for everything a cached value was computed from."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()


def remember(name: str, key: str, compute: Callable[[], Any]) -> Any:
    """The JSON value stored for ``name`` under ``key``, computing and storing it when absent."""
    where = folder()
    path = where / f"{name}-{key[:40]}.json" if where else None
    if path is not None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    value = compute()
    if path is not None:
        _write(path, json.dumps(value, separators=(",", ":")))
    return value


def _write(path: Path, text: str) -> None:
    """Write whole or not at all: processes of one batch may race to fill the same entry."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
