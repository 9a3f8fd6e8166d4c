"""Alembic environment: the URL comes from the caller (indicated.service.db.upgrade)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from indicated.service.tables import Base

url = context.config.get_main_option("sqlalchemy.url")
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
