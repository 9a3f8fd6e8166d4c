"""API clients (keys and CDS Hooks public keys), the owner of each assessment, and shared secrets.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), unique=True),
        sa.Column("issuer", sa.String(300), unique=True),
        sa.Column("jwks", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    op.add_column("assessments", sa.Column("owner", sa.String(120)))
    op.create_index("ix_assessments_owner", "assessments", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_assessments_owner", "assessments")
    with op.batch_alter_table("assessments") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("owner")
    op.drop_table("service_secrets")
    op.drop_table("api_clients")
