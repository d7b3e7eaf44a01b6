"""Sales tables: leads, deals, deal contacts, stage changes, quotes, quote lines, tasks.

Revision ID: sales_0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from crmkit.storage.sql.types import UTCDateTime, json_type

revision = "sales_0001"
down_revision = None
branch_labels = ("sales",)
depends_on = "crmkit_0001"

TABLES = (
    "sales_lead",
    "sales_deal",
    "sales_deal_contact",
    "sales_stage_change",
    "sales_quote",
    "sales_quote_line",
    "sales_task",
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


def _index(table: str, *columns: str, unique: bool = False) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns), unique=unique)


def upgrade() -> None:
    op.create_table(
        "sales_lead",
        *_base(),
        *(_text(n) for n in ("first_name", "last_name", "email", "phone", "company", "title")),
        _text("source", nullable=False),
        _text("status", nullable=False),
        _text("owner"),
        _text("notes"),
        *(
            sa.Column(n, sa.Boolean(), nullable=True)
            for n in ("budget", "authority", "need", "timeline")
        ),
        _int("score"),
        _ref("contact_id"),
        _text("organization_id"),
        _text("deal_id"),
        _when("converted_at"),
        sa.Column("custom_fields", json_type(), nullable=False),
    )
    for column in ("email", "phone", "status", "owner", "score", "contact_id"):
        _index("sales_lead", column)

    op.create_table(
        "sales_deal",
        *_base(),
        _text("title", nullable=False),
        _text("pipeline", nullable=False),
        _text("stage", nullable=False),
        _text("status", nullable=False),
        _int("amount_minor"),
        _text("currency", nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        _text("owner"),
        _ref("contact_id"),
        _text("organization_id"),
        _text("lead_id"),
        sa.Column("products", json_type(), nullable=False),
        _when("stage_entered_at", nullable=False),
        _when("closed_at"),
        _text("close_reason"),
        _int("days_to_close", nullable=True),
    )
    for column in (
        "pipeline",
        "stage",
        "status",
        "expected_close",
        "owner",
        "contact_id",
        "organization_id",
    ):
        _index("sales_deal", column)
    _index("sales_deal", "lead_id", unique=True)

    op.create_table(
        "sales_deal_contact",
        *_base(),
        _text("deal_id", nullable=False),
        _ref("contact_id", nullable=False),
        _text("role"),
    )
    _index("sales_deal_contact", "deal_id")
    _index("sales_deal_contact", "contact_id")

    op.create_table(
        "sales_stage_change",
        *_base(),
        _text("deal_id", nullable=False),
        _text("pipeline", nullable=False),
        _text("from_stage"),
        _text("to_stage", nullable=False),
        _when("changed_at", nullable=False),
        _text("actor"),
    )
    for column in ("deal_id", "to_stage", "changed_at"):
        _index("sales_stage_change", column)

    op.create_table(
        "sales_quote",
        *_base(),
        _text("deal_id", nullable=False),
        _text("number", nullable=False),
        _int("version"),
        _text("label", nullable=False),
        _text("status", nullable=False),
        _text("currency", nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        *(_int(n) for n in ("subtotal_minor", "discount_minor", "tax_minor", "total_minor")),
        _when("sent_at"),
        _when("decided_at"),
        _text("notes"),
    )
    _index("sales_quote", "deal_id")
    _index("sales_quote", "number")
    _index("sales_quote", "label", unique=True)

    op.create_table(
        "sales_quote_line",
        *_base(),
        _text("quote_id", nullable=False),
        _int("position"),
        _text("product", nullable=False),
        _text("description"),
        sa.Column("quantity", sa.Numeric(24, 6), nullable=False),
        _int("unit_price_minor"),
        sa.Column("discount_pct", sa.Numeric(24, 6), nullable=False),
        sa.Column("tax_pct", sa.Numeric(24, 6), nullable=False),
        _int("total_minor"),
    )
    _index("sales_quote_line", "quote_id")

    op.create_table(
        "sales_task",
        *_base(),
        _text("title", nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        _text("lead_id"),
        _text("deal_id"),
        _text("owner"),
        _when("done_at"),
        _text("notes"),
    )
    for column in ("due", "lead_id", "deal_id", "owner"):
        _index("sales_task", column)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
