"""The stamps plugin's records: notes kept on contacts.

Revision ID: stamps_0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from crmkit.storage.sql.types import UTCDateTime

revision = "stamps_0001"
down_revision = None
branch_labels = ("stamps",)
depends_on = "crmkit_0001"


def upgrade() -> None:
    op.create_table(
        "stamps_record",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("contact_id", sa.String(36), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_stamps_record_contact_id",
        "stamps_record",
        ["contact_id"],
    )


def downgrade() -> None:
    op.drop_table("stamps_record")
