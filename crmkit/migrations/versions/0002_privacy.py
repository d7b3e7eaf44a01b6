"""Privacy: the consent ledger, processing state, suppression keys, audit log, secrets.

Revision ID: crmkit_0002
Revises: crmkit_0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from crmkit.storage.sql.types import UTCDateTime, json_type

revision = "crmkit_0002"
down_revision = "crmkit_0001"
branch_labels = None
depends_on = None


def _base() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _text(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Text(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "privacy_consent",
        *_base(),
        sa.Column("contact_id", sa.String(36), nullable=False),
        _text("purpose", False),
        _text("channel", False),
        _text("status", False),
        _text("lawful_basis", False),
        _text("source"),
        _text("evidence"),
        _text("ip_address"),
        _text("form_version"),
        _text("actor"),
        _text("confirms"),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_privacy_consent_contact_id", "privacy_consent", ["contact_id"])
    op.create_index("ix_privacy_consent_confirms", "privacy_consent", ["confirms"], unique=True)

    op.create_table(
        "privacy_subject",
        *_base(),
        sa.Column("contact_id", sa.String(36), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        _text("restricted_reason"),
        sa.Column("erased_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_privacy_subject_contact_id", "privacy_subject", ["contact_id"], unique=True)

    op.create_table(
        "privacy_suppression",
        *_base(),
        _text("key", False),
        _text("kind", False),
        _text("reason", False),
    )
    op.create_index("ix_privacy_suppression_key", "privacy_suppression", ["key"], unique=True)

    op.create_table(
        "privacy_audit",
        *_base(),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        _text("actor", False),
        _text("action", False),
        sa.Column("subject_id", sa.String(36), nullable=True),
        _text("purpose"),
        _text("channel"),
        _text("outcome", False),
        _text("reason", False),
        sa.Column("details", json_type(), nullable=False),
        _text("prev_hash", False),
        _text("hash", False),
    )
    op.create_index("ix_privacy_audit_seq", "privacy_audit", ["seq"], unique=True)
    op.create_index("ix_privacy_audit_subject_id", "privacy_audit", ["subject_id"])

    op.create_table(
        "privacy_key",
        *_base(),
        _text("name", False),
        _text("value", False),
    )
    op.create_index("ix_privacy_key_name", "privacy_key", ["name"], unique=True)


def downgrade() -> None:
    for table in (
        "privacy_key",
        "privacy_audit",
        "privacy_suppression",
        "privacy_subject",
        "privacy_consent",
    ):
        op.drop_table(table)
