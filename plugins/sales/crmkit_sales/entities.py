"""What the sales plugin stores: leads, deals, their contacts and stage history, quotes, tasks.

Money is kept as whole minor units (``amount_minor``: cents for EUR, yen for
JPY) next to its ``currency``, so sums in the database are exact; the services
take and return :class:`~crmkit_sales.money.Money` (Decimal) through
:mod:`crmkit_sales.money`. Percentages and quantities are Decimal fields.

Privacy: a lead is about a person (its contact details are anonymised when the
person is erased, and a lead converted for a contact is deleted with that
contact). A deal, its stage history and its quotes are business records of the
seller: erasing the primary contact blanks the deal's link to them and keeps
the deal. Tasks, stage changes and quotes carry no link to a person, so their
free text is declared non-personal; personal details belong on the lead or the
contact.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

import crmkit
from crmkit.entities import utcnow

LEAD_STATUSES: tuple[str, ...] = ("new", "working", "qualified", "unqualified", "converted")
DEAL_STATUSES: tuple[str, ...] = ("open", "won", "lost")
QUOTE_STATUSES: tuple[str, ...] = ("draft", "sent", "accepted", "rejected", "expired")


def _personal(*, indexed: bool = False) -> Any:
    """An optional personal value, blanked when its person is erased."""
    return crmkit.field(default=None, privacy="personal", erase="anonymise", indexed=indexed)


@crmkit.entity("sales.lead", description="A person who may buy, before they are a customer.")
@attrs.define(kw_only=True)
class Lead(crmkit.Entity):
    """A prospective buyer: contact details, BANT answers, status, score and conversion."""

    first_name: str | None = _personal()
    last_name: str | None = _personal()
    email: str | None = _personal(indexed=True)
    phone: str | None = _personal(indexed=True)
    company: str | None = _personal()
    title: str | None = _personal()
    source: str = crmkit.field(default="manual", privacy="none", erase="keep")
    status: str = crmkit.field(default="new", privacy="none", erase="keep", indexed=True)
    owner: str | None = crmkit.field(default=None, privacy="none", erase="keep", indexed=True)
    notes: str | None = _personal()
    budget: bool | None = crmkit.field(default=None, privacy="none", erase="keep")
    authority: bool | None = crmkit.field(default=None, privacy="none", erase="keep")
    need: bool | None = crmkit.field(default=None, privacy="none", erase="keep")
    timeline: bool | None = crmkit.field(default=None, privacy="none", erase="keep")
    score: int = crmkit.field(default=0, privacy="none", erase="keep", indexed=True)
    contact_id: str | None = crmkit.field(
        default=None, ref="contact", privacy="personal", erase="delete"
    )
    organization_id: str | None = crmkit.field(default=None, privacy="none", erase="keep")
    deal_id: str | None = crmkit.field(default=None, privacy="none", erase="keep")
    converted_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")
    custom_fields: dict[str, Any] = crmkit.field(
        factory=dict, privacy="personal", erase="anonymise"
    )


@crmkit.entity("sales.deal", description="An opportunity moving through a sales pipeline.")
@attrs.define(kw_only=True)
class Deal(crmkit.Entity):
    """A possible sale: its pipeline stage, amount, expected close and outcome."""

    title: str = crmkit.field(privacy="none", erase="keep")
    pipeline: str = crmkit.field(privacy="none", erase="keep", indexed=True)
    stage: str = crmkit.field(privacy="none", erase="keep", indexed=True)
    status: str = crmkit.field(default="open", privacy="none", erase="keep", indexed=True)
    amount_minor: int = crmkit.field(default=0, privacy="none", erase="keep")
    currency: str = crmkit.field(privacy="none", erase="keep")
    expected_close: dt.date | None = crmkit.field(
        default=None, privacy="none", erase="keep", indexed=True
    )
    owner: str | None = crmkit.field(default=None, privacy="none", erase="keep", indexed=True)
    contact_id: str | None = crmkit.field(
        default=None, ref="contact", privacy="personal", erase="anonymise"
    )
    organization_id: str | None = crmkit.field(
        default=None, privacy="none", erase="keep", indexed=True
    )
    lead_id: str | None = crmkit.field(default=None, privacy="none", erase="keep", unique=True)
    products: list[str] = crmkit.field(factory=list, privacy="none", erase="keep")
    stage_entered_at: dt.datetime = crmkit.field(factory=utcnow, privacy="none", erase="keep")
    closed_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")
    close_reason: str | None = crmkit.field(default=None, privacy="none", erase="keep")
    days_to_close: int | None = crmkit.field(default=None, privacy="none", erase="keep")


@crmkit.entity("sales.deal_contact", description="A person involved in a deal, with a role.")
@attrs.define(kw_only=True)
class DealContact(crmkit.Entity):
    """One contact taking part in a deal (one row per deal and contact)."""

    deal_id: str = crmkit.field(privacy="none", erase="keep", indexed=True)
    contact_id: str = crmkit.field(ref="contact", privacy="personal", erase="delete")
    role: str | None = _personal()


@crmkit.entity("sales.stage_change", description="A deal moving from one stage to another.")
@attrs.define(kw_only=True)
class StageChange(crmkit.Entity):
    """One step of a deal's history through its pipeline (``from_stage`` None when opened)."""

    deal_id: str = crmkit.field(privacy="none", erase="keep", indexed=True)
    pipeline: str = crmkit.field(privacy="none", erase="keep")
    from_stage: str | None = crmkit.field(default=None, privacy="none", erase="keep")
    to_stage: str = crmkit.field(privacy="none", erase="keep", indexed=True)
    changed_at: dt.datetime = crmkit.field(
        factory=utcnow, privacy="none", erase="keep", indexed=True
    )
    actor: str | None = crmkit.field(default=None, privacy="none", erase="keep")


@crmkit.entity("sales.quote", description="A priced offer for a deal, in numbered versions.")
@attrs.define(kw_only=True)
class Quote(crmkit.Entity):
    """One version of a quote; revisions keep the number and raise the version.

    ``label`` is the number and version together (``Q-00001v2``). It is unique
    in the database, so two writers cannot both store the same version of a
    number, even at the same moment.
    """

    deal_id: str = crmkit.field(privacy="none", erase="keep", indexed=True)
    number: str = crmkit.field(privacy="none", erase="keep", indexed=True)
    version: int = crmkit.field(default=1, privacy="none", erase="keep")
    label: str = crmkit.field(privacy="none", erase="keep", unique=True)
    status: str = crmkit.field(default="draft", privacy="none", erase="keep")
    currency: str = crmkit.field(privacy="none", erase="keep")
    valid_until: dt.date | None = crmkit.field(default=None, privacy="none", erase="keep")
    subtotal_minor: int = crmkit.field(default=0, privacy="none", erase="keep")
    discount_minor: int = crmkit.field(default=0, privacy="none", erase="keep")
    tax_minor: int = crmkit.field(default=0, privacy="none", erase="keep")
    total_minor: int = crmkit.field(default=0, privacy="none", erase="keep")
    sent_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")
    decided_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")
    notes: str | None = crmkit.field(default=None, privacy="none", erase="keep")


@crmkit.entity("sales.quote_line", description="One priced product line of a quote.")
@attrs.define(kw_only=True)
class QuoteLine(crmkit.Entity):
    """A product on a quote: quantity, unit price, discount and tax (line total before tax)."""

    quote_id: str = crmkit.field(privacy="none", erase="keep", indexed=True)
    position: int = crmkit.field(privacy="none", erase="keep")
    product: str = crmkit.field(privacy="none", erase="keep")
    description: str | None = crmkit.field(default=None, privacy="none", erase="keep")
    quantity: Decimal = crmkit.field(default=Decimal(1), privacy="none", erase="keep")
    unit_price_minor: int = crmkit.field(privacy="none", erase="keep")
    discount_pct: Decimal = crmkit.field(default=Decimal(0), privacy="none", erase="keep")
    tax_pct: Decimal = crmkit.field(default=Decimal(0), privacy="none", erase="keep")
    total_minor: int = crmkit.field(default=0, privacy="none", erase="keep")


@crmkit.entity("sales.task", description="A follow-up due on a date, for a lead or a deal.")
@attrs.define(kw_only=True)
class Task(crmkit.Entity):
    """Something a seller has to do by a date (done when ``done_at`` is set)."""

    title: str = crmkit.field(privacy="none", erase="keep")
    due: dt.date = crmkit.field(privacy="none", erase="keep", indexed=True)
    lead_id: str | None = crmkit.field(default=None, privacy="none", erase="keep", indexed=True)
    deal_id: str | None = crmkit.field(default=None, privacy="none", erase="keep", indexed=True)
    owner: str | None = crmkit.field(default=None, privacy="none", erase="keep", indexed=True)
    done_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")
    notes: str | None = crmkit.field(default=None, privacy="none", erase="keep")


ENTITY_CLASSES: tuple[type, ...] = (
    Lead,
    Deal,
    DealContact,
    StageChange,
    Quote,
    QuoteLine,
    Task,
)
