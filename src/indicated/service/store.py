"""Assessments kept so the links in CDS Hooks cards and PAS responses can be opened.

In memory and bounded (oldest dropped first), safe across the server's threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from indicated.models import Assessment


class Articles:
    def __init__(self, limit: int = 10_000) -> None:
        self._items: OrderedDict[str, Assessment] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def keep(self, aid: str, assessment: Assessment) -> None:
        with self._lock:
            self._items[aid] = assessment
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def get(self, aid: str) -> Assessment | None:
        with self._lock:
            return self._items.get(aid)
