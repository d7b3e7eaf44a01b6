"""Loyalty accounts: one per contact, with a points balance and a tier.

Revision ID: loyalty_0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from crmkit.storage.sql.types import UTCDateTime

revision = "loyalty_0001"
down_revision = None
branch_labels = ("loyalty",)
depends_on = "crmkit_0001"


def upgrade() -> None:
    op.create_table(
        "loyalty_account",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("contact_id", sa.String(36), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_loyalty_account_contact_id", "loyalty_account", ["contact_id"], unique=True
    )


def downgrade() -> None:
    op.drop_table("loyalty_account")
