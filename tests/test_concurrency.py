"""The service under load: two reviewers deciding the same article at the same moment (issue 17)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from indicated.errors import WorkflowError
from indicated.pipeline import assess
from indicated.service import db, repo

NOTE = "L4-L5 disc extrusion compressing the left L5 root; 8 weeks of failed PT; left L4-L5 microdiscectomy (63030)."


def test_of_two_reviewers_deciding_at_once_exactly_one_wins(database_url):
    """Approve and reject sent together, 20 times, from two threads on one database (a SQLite file,
    and PostgreSQL): one wins, the other gets WorkflowError (409), and the audit log holds one decision."""
    engine = db.engine_for(database_url)
    db.upgrade(engine)
    sessions = db.sessions(engine)
    assessment = assess(NOTE)
    with sessions() as s:
        ids = [repo.create_assessment(s, assessment=assessment, title=f"race {i}", source="text").id for i in range(20)]
        for aid in ids:
            repo.transition(s, assessment_id=aid, to_state="under_review", reviewer="ana")

    def decide(aid: str, to_state: str, start: threading.Barrier) -> str | None:
        with sessions() as s:
            start.wait()
            try:
                repo.transition(s, assessment_id=aid, to_state=to_state, reviewer=f"for-{to_state}", why="")
            except WorkflowError:
                return None
            return to_state

    with ThreadPoolExecutor(2) as pool:
        for aid in ids:
            start = threading.Barrier(2)
            futures = [pool.submit(decide, aid, to, start) for to in ("approved", "rejected")]
            won = [w for f in futures if (w := f.result(timeout=60))]
            assert len(won) == 1, f"{aid}: {won}"
            with sessions() as s:
                assert repo.get_assessment(s, assessment_id=aid).state == won[0]
                decisions = [e.to_state for e in repo.audit(s, assessment_id=aid) if e.from_state == "under_review"]
            assert decisions == won
    engine.dispose()
