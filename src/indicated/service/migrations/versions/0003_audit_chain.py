"""The audit log as a hash chain, and the ways around "append-only" closed (issue 17, finding 5).

- ``seq``, ``prev_hash``, ``hash`` on every entry (see ``indicated.service.tables``); the entries
  already there are chained here in id order, the order they were written in.
- SQLite: ``REPLACE INTO`` (and ``INSERT OR REPLACE``) deletes the row it collides with without
  firing a DELETE trigger (recursive_triggers is off), so a BEFORE INSERT trigger refuses an id or a
  sequence number already taken; another refuses an entry without its chain fields (SQLite cannot
  add NOT NULL to an existing column). The UPDATE and DELETE triggers of 0001 stay.
- PostgreSQL: a BEFORE TRUNCATE trigger (TRUNCATE fires no row trigger), NOT NULL on the chain fields;
  the UPDATE and DELETE trigger of 0001 stays (it also stops INSERT ... ON CONFLICT DO UPDATE).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from indicated.service.tables import GENESIS, row_hash

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY = "the audit log is append-only"
SQLITE_TRIGGERS = {
    "audit_log_no_overwrite": (
        "WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id OR seq = NEW.seq)",
        f"{APPEND_ONLY}: an entry with that id or sequence number exists",
    ),
    "audit_log_chained": (
        "WHEN NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.hash IS NULL",
        "an audit entry needs its place in the chain (seq, prev_hash, hash)",
    ),
}
CHAIN = ("seq", "prev_hash", "hash")


def _entries() -> sa.TableClause:
    return sa.table(
        "audit_log",
        sa.column("id", sa.Integer),
        sa.column("assessment_id", sa.String),
        sa.column("reviewer", sa.String),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("from_state", sa.String),
        sa.column("to_state", sa.String),
        sa.column("why", sa.Text),
        sa.column("seq", sa.Integer),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )


def _back_fill(bind: sa.Connection) -> None:
    """Chain the entries written before this migration, in id order (the order they were written in)."""
    log = _entries()
    rows = bind.execute(
        sa.select(
            log.c.id, log.c.assessment_id, log.c.reviewer, log.c.at, log.c.from_state, log.c.to_state, log.c.why
        ).order_by(log.c.id)
    ).all()
    prev, links = GENESIS, []
    for seq, r in enumerate(rows, start=1):
        digest = row_hash(r, seq=seq, prev_hash=prev)
        links.append({"row_id": r.id, "s": seq, "p": prev, "h": digest})
        prev = digest
    if links:
        bind.execute(
            log.update()
            .where(log.c.id == sa.bindparam("row_id"))
            .values(seq=sa.bindparam("s"), prev_hash=sa.bindparam("p"), hash=sa.bindparam("h")),
            links,
        )


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.add_column("audit_log", sa.Column("seq", sa.Integer, nullable=True))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(64), nullable=True))
    # the back-fill is the one UPDATE the log ever gets: the refusal is lifted for it, in this transaction
    if sqlite:
        op.execute("DROP TRIGGER audit_log_no_update")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    _back_fill(bind)
    op.create_index("ix_audit_log_seq", "audit_log", ["seq"], unique=True)
    if sqlite:
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
        for name, (when, message) in SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} BEFORE INSERT ON audit_log {when} BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        for column in CHAIN:
            op.alter_column("audit_log", column, nullable=False)
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.drop_index("ix_audit_log_seq", table_name="audit_log")
    for column in reversed(CHAIN):
        op.drop_column("audit_log", column)
