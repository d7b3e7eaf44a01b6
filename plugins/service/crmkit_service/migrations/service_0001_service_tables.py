"""Service desk tables: tickets, messages, rejected intake, agents, feedback, knowledge.

Revision ID: service_0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from crmkit.storage.sql.types import UTCDateTime, json_type

revision = "service_0001"
down_revision = None
branch_labels = ("service",)
depends_on = "crmkit_0001"

TABLES = (
    "service_ticket",
    "service_message",
    "service_rejected_intake",
    "service_agent",
    "service_csat",
    "service_canned_reply",
    "service_article",
    "service_ticket_article",
)


def _base() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _text(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Text(), nullable=nullable)


def _int(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _ref(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(36), nullable=nullable)


def _when(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def _json(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, json_type(), nullable=False)


def _index(table: str, column: str, *, unique: bool = False) -> None:
    op.create_index(f"ix_{table}_{column}", table, [column], unique=unique)


def _tickets() -> None:
    op.create_table(
        "service_ticket",
        *_base(),
        _text("key", nullable=False),
        _text("subject", nullable=False),
        _text("description"),
        _ref("contact_id"),
        _text("organization_id"),
        _text("channel", nullable=False),
        _text("priority", nullable=False),
        _text("status", nullable=False),
        _text("team"),
        _text("assignee"),
        _when("assigned_at"),
        _json("tags"),
        _text("tier", nullable=False),
        _text("sla_policy"),
        _when("first_response_due"),
        _when("resolution_due"),
        _when("first_responded_at"),
        _when("resolved_at"),
        _when("closed_at"),
        _when("paused_at"),
        _int("resolution_remaining", nullable=True),
        _when("first_response_breached_at"),
        _when("resolution_breached_at"),
        _when("first_response_warned_at"),
        _when("resolution_warned_at"),
        _text("message_id"),
        _int("reopened_count"),
    )
    _index("service_ticket", "key", unique=True)
    for column in (
        "contact_id",
        "organization_id",
        "priority",
        "status",
        "team",
        "assignee",
        "first_response_due",
        "resolution_due",
        "message_id",
    ):
        _index("service_ticket", column)


def _messages() -> None:
    op.create_table(
        "service_message",
        *_base(),
        _text("ticket_id", nullable=False),
        _ref("contact_id"),
        _text("direction", nullable=False),
        _text("author"),
        _text("body", nullable=False),
        _text("message_id"),
        _text("in_reply_to"),
        _json("attachments"),
        _when("occurred_at", nullable=False),
    )
    for column in ("ticket_id", "contact_id"):
        _index("service_message", column)
    _index("service_message", "message_id", unique=True)
    op.create_table(
        "service_rejected_intake",
        *_base(),
        _when("received_at", nullable=False),
        _text("reason", nullable=False),
        _ref("contact_id"),
        _text("sender"),
        _text("subject"),
        _text("raw", nullable=False),
        _text("source", nullable=False),
    )
    for column in ("received_at", "contact_id"):
        _index("service_rejected_intake", column)


def _desk() -> None:
    op.create_table(
        "service_agent",
        *_base(),
        _text("name", nullable=False),
        _text("team"),
        sa.Column("available", sa.Boolean(), nullable=False),
    )
    _index("service_agent", "name", unique=True)
    _index("service_agent", "team")
    op.create_table(
        "service_csat",
        *_base(),
        _text("ticket_id", nullable=False),
        _ref("contact_id"),
        _int("csat", nullable=True),
        _int("nps", nullable=True),
        _text("comment"),
        _when("recorded_at", nullable=False),
    )
    _index("service_csat", "ticket_id", unique=True)
    _index("service_csat", "contact_id")


def _knowledge() -> None:
    op.create_table(
        "service_canned_reply",
        *_base(),
        _text("name", nullable=False),
        _text("body", nullable=False),
    )
    _index("service_canned_reply", "name", unique=True)
    op.create_table(
        "service_article",
        *_base(),
        _text("slug", nullable=False),
        _text("title", nullable=False),
        _text("body", nullable=False),
        _json("tags"),
    )
    _index("service_article", "slug", unique=True)
    op.create_table(
        "service_ticket_article",
        *_base(),
        _text("ticket_id", nullable=False),
        _text("article_id", nullable=False),
    )
    _index("service_ticket_article", "ticket_id")
    _index("service_ticket_article", "article_id")


def upgrade() -> None:
    _tickets()
    _messages()
    _desk()
    _knowledge()


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
