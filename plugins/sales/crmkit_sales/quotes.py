"""Quotes: priced offers for a deal, numbered, versioned and sent to the customer.

A quote belongs to one deal and carries a number (``Q-00001``) that stays the
same across its versions. :meth:`Quotes.add` starts version 1 as a draft;
lines are added and removed only while a version is a draft. :meth:`Quotes.revise`
copies a version (with its lines) into the next version, a new draft, and leaves
the older version exactly as it was. A version is referred to by its id, by its
number (the latest version) or as ``Q-00001v2``. The database stores each
``Q-00001v2`` once, so two users adding or revising quotes at the same moment
cannot make the same version twice: the later one is refused and can try again.

A version goes from draft to sent, then accepted, rejected or expired; the
rules of those steps are told in :mod:`crmkit_sales.quote_decisions`.

A quote is for a deal named by its id or its title. How amounts round is told
in :mod:`crmkit_sales.quote_figures`; lines are priced in
:mod:`crmkit_sales.quote_lines`.

Functions taking a ``uow`` work inside a unit of work the caller owns;
:class:`Quotes` opens one unit of work per call, so a refused call writes
nothing. Every write asks the privacy policy about the deal's primary contact
and reaches that contact's timeline through ``uow.record_activity``.
"""

from __future__ import annotations

import builtins
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from crmkit.entities import utcnow
from crmkit.errors import ValidationError
from crmkit.storage.query import Cond, Filter, Query
from crmkit_sales.deal_records import load_deal
from crmkit_sales.entities import Deal, Quote, QuoteLine
from crmkit_sales.money import check_currency
from crmkit_sales.quote_decisions import decide_quote, expire_due_quotes
from crmkit_sales.quote_figures import (
    LineAmounts,
    QuoteMoney,
    QuoteTotals,
    line_amounts,
    quote_label,
    quote_money,
    quote_totals,
)
from crmkit_sales.quote_lines import MAX_LINE_MINOR, QUANTITY_PLACES, add_line, remove_line
from crmkit_sales.quote_records import (
    LINE,
    NUMBER_DIGITS,
    NUMBER_PREFIX,
    QUOTE,
    STATUSES,
    add_quote_version,
    find_quote,
    line_type,
    newer_version,
    next_number,
    quote_type,
    read_lines,
    record_quote_event,
    require_open_deal,
    version_label,
)
from crmkit_sales.records import all_of, parse_date, require_contact_write

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.uow import UnitOfWork

__all__ = [
    "LINE",
    "MAX_LINE_MINOR",
    "NUMBER_DIGITS",
    "NUMBER_PREFIX",
    "QUANTITY_PLACES",
    "QUOTE",
    "REVISABLE",
    "STATUSES",
    "LineAmounts",
    "QuoteMoney",
    "QuoteTotals",
    "Quotes",
    "add_line",
    "add_quote",
    "decide_quote",
    "expire_due_quotes",
    "find_quote",
    "line_amounts",
    "line_type",
    "next_number",
    "quote_label",
    "quote_money",
    "quote_totals",
    "quote_type",
    "read_lines",
    "remove_line",
    "revise_quote",
]

REVISABLE: tuple[str, ...] = ("sent", "rejected", "expired")


# -- checking input -----------------------------------------------------------


def _valid_until(value: dt.date | str | None, *, record: str | None) -> dt.date | None:
    day = parse_date(value, entity=QUOTE, field="valid_until")
    if day is not None and day < utcnow().date():
        raise ValidationError(
            QUOTE,
            "valid_until",
            f"{day.isoformat()} is in the past; give today or a later day",
            record=record,
        )
    return day


# -- drafting and revising (inside a unit of work) ----------------------------


def add_quote(
    uow: UnitOfWork,
    deal_ref: str,
    *,
    currency: str | None = None,
    valid_until: dt.date | str | None = None,
    notes: str | None = None,
) -> Quote:
    """Start quote version 1, a draft, for an open deal (currency: the deal's)."""
    deal = load_deal(uow.tx, uow.crm, deal_ref)
    require_open_deal(deal, "a new quote")
    code = check_currency(currency if currency is not None else deal.currency, entity=QUOTE)
    until = _valid_until(valid_until, record=None)
    require_contact_write(uow, deal.contact_id, QUOTE)
    number = next_number(uow.tx, uow.crm)
    quote = Quote(
        deal_id=deal.id,
        number=number,
        version=1,
        label=version_label(number, 1),
        status="draft",
        currency=code,
        valid_until=until,
        notes=notes.strip() if notes and notes.strip() else None,
    )
    add_quote_version(uow, quote)
    record_quote_event(uow, "sales.quote.created", quote, deal, "drafted")
    return quote


def revise_quote(
    uow: UnitOfWork,
    quote_ref: str,
    *,
    valid_until: dt.date | str | None = None,
    notes: str | None = None,
) -> Quote:
    """Copy the latest version, with its lines, into the next version: a new draft.

    ``valid_until`` and ``notes`` replace the previous version's when given.
    The previous version is not changed.
    """
    quote = find_quote(uow.tx, uow.crm, quote_ref)
    label = quote_label(quote)
    newer = newer_version(uow.tx, uow.crm, quote)
    if newer is not None:
        raise ValidationError(
            QUOTE,
            "version",
            f"{quote_label(newer)} is newer; revise the latest version ({quote.number})",
            record=label,
        )
    if quote.status not in REVISABLE:
        advice = (
            "change the draft itself" if quote.status == "draft" else "an accepted quote is final"
        )
        raise ValidationError(
            QUOTE,
            "status",
            f"the quote is {quote.status}; only a {', '.join(REVISABLE)} quote can be "
            f"revised ({advice})",
            record=label,
        )
    deal = load_deal(uow.tx, uow.crm, quote.deal_id)
    require_open_deal(deal, "a revised quote")
    until = (
        _valid_until(valid_until, record=label) if valid_until is not None else quote.valid_until
    )
    require_contact_write(uow, deal.contact_id, QUOTE)
    revised = Quote(
        deal_id=quote.deal_id,
        number=quote.number,
        version=quote.version + 1,
        label=version_label(quote.number, quote.version + 1),
        status="draft",
        currency=quote.currency,
        valid_until=until,
        subtotal_minor=quote.subtotal_minor,
        discount_minor=quote.discount_minor,
        tax_minor=quote.tax_minor,
        total_minor=quote.total_minor,
        notes=notes.strip() if notes and notes.strip() else quote.notes,
    )
    ltype = line_type(uow.crm)
    add_quote_version(uow, revised)
    copies = [
        ltype.to_row(
            QuoteLine(
                quote_id=revised.id,
                position=line.position,
                product=line.product,
                description=line.description,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                discount_pct=line.discount_pct,
                tax_pct=line.tax_pct,
                total_minor=line.total_minor,
            )
        )
        for line in read_lines(uow.tx, uow.crm, quote.id)
    ]
    if copies:
        uow.tx.add_many(ltype, copies)
    record_quote_event(uow, "sales.quote.revised", revised, deal, "revised", previous_id=quote.id)
    return revised


# -- the service --------------------------------------------------------------


class Quotes:
    """Quotes of a CRM: ``Quotes(crm).add(deal_id)``; each call is one unit of work."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    def add(
        self,
        deal: str,
        *,
        currency: str | None = None,
        valid_until: dt.date | str | None = None,
        notes: str | None = None,
        actor: str | None = None,
    ) -> Quote:
        """Start a draft quote (version 1, the next number) for ``deal`` (its id or title)."""
        with self.crm.unit_of_work(actor) as uow:
            return add_quote(uow, deal, currency=currency, valid_until=valid_until, notes=notes)

    def add_line(
        self,
        quote: str,
        *,
        product: str,
        quantity: Decimal | str | int,
        unit_price: Decimal | str | int,
        discount_pct: Decimal | str | int = 0,
        tax_pct: Decimal | str | int = 0,
        description: str | None = None,
        actor: str | None = None,
    ) -> QuoteLine:
        """Add a priced line to a draft quote; the quote's totals follow."""
        with self.crm.unit_of_work(actor) as uow:
            return add_line(
                uow,
                quote,
                product=product,
                quantity=quantity,
                unit_price=unit_price,
                discount_pct=discount_pct,
                tax_pct=tax_pct,
                description=description,
            )

    def remove_line(self, quote: str, position: int, *, actor: str | None = None) -> Quote:
        """Remove line ``position`` (1 is the first) of a draft; returns the updated quote."""
        with self.crm.unit_of_work(actor) as uow:
            return remove_line(uow, quote, position)

    def revise(
        self,
        quote: str,
        *,
        valid_until: dt.date | str | None = None,
        notes: str | None = None,
        actor: str | None = None,
    ) -> Quote:
        """A new draft version of the quote with its lines; the old version stays as it was."""
        with self.crm.unit_of_work(actor) as uow:
            return revise_quote(uow, quote, valid_until=valid_until, notes=notes)

    def send(self, quote: str, *, actor: str | None = None) -> Quote:
        """Mark a draft with at least one line sent (stamps ``sent_at``)."""
        with self.crm.unit_of_work(actor) as uow:
            return decide_quote(uow, quote, "send")

    def accept(self, quote: str, *, actor: str | None = None) -> Quote:
        """Record that the customer accepted a sent version (the latest of its quote)."""
        with self.crm.unit_of_work(actor) as uow:
            return decide_quote(uow, quote, "accept")

    def reject(self, quote: str, *, actor: str | None = None) -> Quote:
        """Record that the customer turned a sent version down."""
        with self.crm.unit_of_work(actor) as uow:
            return decide_quote(uow, quote, "reject")

    def expire_due(self, today: dt.date | None = None, *, actor: str | None = None) -> int:
        """Expire sent quotes past their ``valid_until`` (default: today); returns how many."""
        with self.crm.unit_of_work(actor) as uow:
            return len(expire_due_quotes(uow, today))

    def get(self, ref: str) -> Quote:
        """A quote version by id, by number (its latest version) or as ``Q-00001v2``."""
        with self.crm.backend.read() as reader:
            return find_quote(reader, self.crm, ref)

    def lines(self, quote: str) -> builtins.list[QuoteLine]:
        """The lines of a quote version, by position."""
        with self.crm.backend.read() as reader:
            return read_lines(reader, self.crm, find_quote(reader, self.crm, quote).id)

    def deal(self, quote: str) -> Deal:
        """The deal a quote version is for."""
        with self.crm.backend.read() as reader:
            return load_deal(reader, self.crm, find_quote(reader, self.crm, quote).deal_id)

    def list(self, deal: str | None = None, status: str | None = None) -> builtins.list[Quote]:
        """Quote versions, by number and version; only a deal's, or in one status, if given."""
        conds: builtins.list[Filter] = []
        with self.crm.backend.read() as reader:
            if deal is not None:
                conds.append(Cond("deal_id", "eq", load_deal(reader, self.crm, deal).id))
            if status is not None:
                if status not in STATUSES:
                    raise ValidationError(
                        QUOTE,
                        "status",
                        f"{status!r} is not a status; use one of {', '.join(STATUSES)}",
                    )
                conds.append(Cond("status", "eq", status))
            where = all_of(conds)
            rows = reader.query(
                quote_type(self.crm), Query(where=where, order_by=("number", "version"))
            )
        return [Quote(**row) for row in rows]
