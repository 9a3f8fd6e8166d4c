"""Assessing a case is CPU work in Python: it runs off the event loop, but in a few threads at a time
(``assess_threads``), not in as many as FastAPI's thread pool holds (40). Under the GIL more threads add
no speed; they only make each wait longer for its turn, and a thread that holds a database write lock
between two statements then keeps every other writer waiting (on SQLite, past the lock timeout: 503)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool


def limiter(threads: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(threads)


async def run(request: Request, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a pool thread, once one of the app's assessment slots is free."""
    return await run_in_threadpool(_bounded, request.app.state.cpu, fn, *args, **kwargs)


def _bounded(slots: threading.BoundedSemaphore, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with slots:
        return fn(*args, **kwargs)
