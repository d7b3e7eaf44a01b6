"""Campaign tables: segments and members, campaigns and steps, deliveries, exclusions,
responses and blocked addresses.

Revision ID: campaign_0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from crmkit.storage.sql.types import UTCDateTime, json_type

revision = "campaign_0001"
down_revision = None
branch_labels = ("campaign",)
depends_on = "crmkit_0001"

TABLES = (
    "campaign_segment",
    "campaign_segment_member",
    "campaign_campaign",
    "campaign_step",
    "campaign_delivery",
    "campaign_exclusion",
    "campaign_response",
    "campaign_blocked_address",
)


def _base() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _text(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Text(), nullable=nullable)


def _int(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _when(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def _json(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, json_type(), nullable=False)


def _contact() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("contact_id", sa.String(36), nullable=False)


def _index(table: str, column: str, *, unique: bool = False) -> None:
    op.create_index(f"ix_{table}_{column}", table, [column], unique=unique)


def upgrade() -> None:
    op.create_table(
        "campaign_segment",
        *_base(),
        _text("name"),
        _text("description", nullable=True),
        _json("rules"),
        _text("kind"),
        _when("snapshot_at", nullable=True),
    )
    _index("campaign_segment", "name", unique=True)

    op.create_table(
        "campaign_segment_member",
        *_base(),
        _text("segment_id"),
        _contact(),
        _text("key"),
    )
    _index("campaign_segment_member", "segment_id")
    _index("campaign_segment_member", "contact_id")
    _index("campaign_segment_member", "key", unique=True)

    op.create_table(
        "campaign_campaign",
        *_base(),
        _text("name"),
        _text("purpose"),
        _text("channel"),
        _text("segment_id"),
        _text("status"),
        _text("sender", nullable=True),
        _int("throttle_per_minute", nullable=True),
        _when("started_at", nullable=True),
        _text("ab_metric", nullable=True),
    )
    _index("campaign_campaign", "name", unique=True)

    op.create_table(
        "campaign_step",
        *_base(),
        _text("campaign_id"),
        _int("position"),
        _int("wait_days"),
        _text("subject", nullable=True),
        _text("body"),
        _text("variant_b_subject", nullable=True),
        _text("variant_b_body", nullable=True),
        _int("split_b"),
        _json("stop_on"),
    )
    _index("campaign_step", "campaign_id")

    op.create_table(
        "campaign_delivery",
        *_base(),
        _text("key"),
        _text("campaign_id"),
        _text("step_id"),
        _contact(),
        _text("variant"),
        _text("status"),
        _text("address", nullable=True),
        _text("message_id"),
        _text("provider_id", nullable=True),
        _when("intended_at"),
        _when("sent_at", nullable=True),
        _text("error", nullable=True),
    )
    _index("campaign_delivery", "key", unique=True)
    for column in ("campaign_id", "step_id", "contact_id", "status"):
        _index("campaign_delivery", column)
    _index("campaign_delivery", "message_id", unique=True)

    op.create_table(
        "campaign_exclusion",
        *_base(),
        _text("campaign_id"),
        _text("step_id"),
        _contact(),
        _text("reason"),
        _when("at"),
        _text("key"),
    )
    for column in ("campaign_id", "step_id", "contact_id"):
        _index("campaign_exclusion", column)
    _index("campaign_exclusion", "key", unique=True)

    op.create_table(
        "campaign_response",
        *_base(),
        _text("delivery_id", nullable=True),
        _text("campaign_id"),
        _contact(),
        _text("kind"),
        _when("at"),
        _text("detail", nullable=True),
        _text("deal_id", nullable=True),
        _text("touch", nullable=True),
    )
    for column in ("delivery_id", "campaign_id", "contact_id", "kind", "at"):
        _index("campaign_response", column)

    op.create_table(
        "campaign_blocked_address",
        *_base(),
        _text("address"),
        _contact(),
        _text("channel"),
        _text("reason"),
        _when("at"),
    )
    _index("campaign_blocked_address", "address", unique=True)
    _index("campaign_blocked_address", "contact_id")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
