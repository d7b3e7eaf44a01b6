"""Core tables: contacts, organizations, affiliations, interactions, the outbox.

Revision ID: crmkit_0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from crmkit.storage.sql.types import UTCDateTime, json_type

revision = "crmkit_0001"
down_revision = None
branch_labels = ("crmkit",)
depends_on = None


def _base() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _address() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column(name, sa.Text(), nullable=True)
        for name in ("street", "city", "postal_code", "region", "country")
    ]


def upgrade() -> None:
    op.create_table(
        "contact",
        *_base(),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        *_address(),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("job_title", sa.Text(), nullable=True),
        sa.Column("tags", json_type(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("custom", json_type(), nullable=False),
    )
    op.create_index("ix_contact_last_name", "contact", ["last_name"])
    op.create_index("ix_contact_email", "contact", ["email"], unique=True)
    op.create_index("ix_contact_phone", "contact", ["phone"])
    op.create_index("ix_contact_owner", "contact", ["owner"])

    op.create_table(
        "organization",
        *_base(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("domain", sa.Text(), nullable=True),
        sa.Column("industry", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        *_address(),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("custom", json_type(), nullable=False),
    )
    op.create_index("ix_organization_name", "organization", ["name"])
    op.create_index("ix_organization_domain", "organization", ["domain"])

    op.create_table(
        "affiliation",
        *_base(),
        sa.Column("contact_id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
    )
    op.create_index("ix_affiliation_contact_id", "affiliation", ["contact_id"])
    op.create_index("ix_affiliation_organization_id", "affiliation", ["organization_id"])

    op.create_table(
        "interaction",
        *_base(),
        sa.Column("contact_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("payload", json_type(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
    )
    op.create_index("ix_interaction_contact_id", "interaction", ["contact_id"])
    op.create_index("ix_interaction_timeline", "interaction", ["contact_id", "occurred_at"])

    op.create_table(
        "crmkit_outbox",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("subject_id", sa.String(36), nullable=True),
        sa.Column("payload", json_type(), nullable=False),
    )
    op.create_index("ix_crmkit_outbox_name", "crmkit_outbox", ["name"])
    op.create_index("ix_crmkit_outbox_subject_id", "crmkit_outbox", ["subject_id"])

    op.create_table(
        "crmkit_delivery_failure",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("subscriber", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_crmkit_delivery_failure_event_id", "crmkit_delivery_failure", ["event_id"]
    )


def downgrade() -> None:
    for table in (
        "crmkit_delivery_failure",
        "crmkit_outbox",
        "interaction",
        "affiliation",
        "organization",
        "contact",
    ):
        op.drop_table(table)
