"""Prior-authorization requests kept in the database, so `$inquire` survives a restart.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prior_auths",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("assessment_id", sa.String(32), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("prior_auths")
