"""The contract record table: one column of every kind an entity field can have.

Revision ID: crmkit_contract_0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmkit.storage.sql.types import UTCDateTime, json_type

revision = "crmkit_contract_0001"
down_revision = None
branch_labels = ("crmkit_contract",)
depends_on = "crmkit_0001"


def upgrade() -> None:
    op.create_table(
        "contract_record",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("rank", sa.BigInteger(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("amount", sa.Numeric(24, 6), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("seen_at", UTCDateTime(), nullable=True),
        sa.Column("tags", json_type(), nullable=False),
        sa.Column("data", json_type(), nullable=False),
    )
    op.create_index("ix_contract_record_code", "contract_record", ["code"], unique=True)
    op.create_index("ix_contract_record_name", "contract_record", ["name"])


def downgrade() -> None:
    op.drop_table("contract_record")
