"""Reading and writing one quote version: finding it, its lines, its number, its events.

The pieces that drafting, pricing, revising and deciding quotes share. A quote
version is named by its id, by its number (``Q-00001``: the latest version) or
as ``Q-00001v2``. The functions work inside a unit of work or a read snapshot
the caller owns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.errors import DuplicateError, NotFound, ValidationError
from crmkit.storage.query import AllOf, Cond, Filter, Query
from crmkit_sales.entities import Deal, Quote, QuoteLine
from crmkit_sales.quote_figures import quote_label, quote_money, quote_totals

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.types import EntityType
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork

QUOTE = "sales.quote"
LINE = "sales.quote_line"
STATUSES: tuple[str, ...] = ("draft", "sent", "accepted", "rejected", "expired")
NUMBER_PREFIX = "Q-"
NUMBER_DIGITS = 5

_REF = re.compile(r"^(Q-\d+)(?:V(\d+))?$")


def quote_type(crm: CRM) -> EntityType:
    return crm.entity_type(QUOTE)


def line_type(crm: CRM) -> EntityType:
    return crm.entity_type(LINE)


def find_quote(reader: StorageReader, crm: CRM, ref: str) -> Quote:
    """The quote named by id, number (its latest version) or ``Q-00001v2``; else NotFound."""
    qtype = quote_type(crm)
    key = ref.strip() if isinstance(ref, str) else ""
    match = _REF.match(key.upper())
    if match is None:
        row = reader.get(qtype, key) if key else None
    else:
        number, version = match.groups()
        where: Filter = Cond("number", "eq", number)
        if version is not None:
            where = AllOf((where, Cond("version", "eq", int(version))))
        rows = reader.query(qtype, Query(where=where, order_by=("-version",), limit=1))
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(QUOTE, ref)
    return Quote(**row)


def read_lines(reader: StorageReader, crm: CRM, quote_id: str) -> list[QuoteLine]:
    """The lines of one quote version, by position."""
    rows = reader.query(
        line_type(crm), Query(where=Cond("quote_id", "eq", quote_id), order_by=("position",))
    )
    return [QuoteLine(**row) for row in rows]


def newer_version(reader: StorageReader, crm: CRM, quote: Quote) -> Quote | None:
    """The latest version of ``quote``'s number after ``quote``, if there is one."""
    where = AllOf((Cond("number", "eq", quote.number), Cond("version", "gt", quote.version)))
    rows = reader.query(quote_type(crm), Query(where=where, order_by=("-version",), limit=1))
    return Quote(**rows[0]) if rows else None


def _number_value(number: str) -> int:
    return int(number.removeprefix(NUMBER_PREFIX))


def next_number(reader: StorageReader, crm: CRM) -> str:
    """The next free quote number: the highest number stored, plus one.

    Two indexed queries find the highest: the number that sorts last (numbers
    of equal width sort as numbers) and the number of the newest first version
    (ids grow with creation time, and numbers with them), which stays right
    once numbers outgrow five digits and stop sorting as text.
    """
    qtype = quote_type(crm)
    last = reader.query(qtype, Query(order_by=("-number",), limit=1))
    newest = reader.query(qtype, Query(where=Cond("version", "eq", 1), order_by=("-id",), limit=1))
    highest = max((_number_value(row["number"]) for row in (*last, *newest)), default=0)
    return f"{NUMBER_PREFIX}{highest + 1:0{NUMBER_DIGITS}d}"


def quote_payload(quote: Quote, **extra: Any) -> dict[str, Any]:
    """What every quote event carries: ids, number, version, status, total."""
    money = quote_money(quote)
    return {
        "quote_id": quote.id,
        "deal_id": quote.deal_id,
        "number": quote.number,
        "version": quote.version,
        "status": quote.status,
        "currency": quote.currency,
        "total": str(money.total.amount),
        **extra,
    }


def record_quote_event(
    uow: UnitOfWork, name: str, quote: Quote, deal: Deal, what: str, **extra: Any
) -> None:
    """Raise ``name`` about ``quote`` and put it on the deal's contact's timeline."""
    total = quote_money(quote).total
    uow.record_activity(
        name,
        quote_payload(quote, **extra),
        contact_id=deal.contact_id,
        summary=f"Quote {quote_label(quote)} {what} ({total.amount:,} {total.currency})",
    )


def version_label(number: str, version: int) -> str:
    """``Q-00001v2``: what a new version of ``number`` stores as its unique ``label``."""
    return f"{number}v{version}"


def add_quote_version(uow: UnitOfWork, quote: Quote) -> None:
    """Store a new quote version, refused if its number and version are already taken.

    The database holds each ``label`` once, so when another writer stored the
    same version of the same number at the same moment, this write is refused
    (and the caller's unit of work rolls back) instead of making a second
    ``Q-00001v2``.
    """
    qtype = quote_type(uow.crm)
    try:
        uow.tx.add(qtype, qtype.to_row(quote))
    except DuplicateError as exc:
        if exc.field != "label":
            raise
        raise DuplicateError(
            QUOTE,
            "number",
            f"someone else numbered a quote {quote.label} at the same moment; try again",
            record=quote.label,
        ) from None


def save_quote(uow: UnitOfWork, quote: Quote, changes: Mapping[str, Any]) -> Quote:
    """Store ``changes`` to ``quote`` (stamping ``updated_at``); the changed quote."""
    updated = attrs.evolve(quote, **changes, updated_at=utcnow())
    uow.tx.update(quote_type(uow.crm), quote.id, {**changes, "updated_at": updated.updated_at})
    return updated


def refresh_totals(uow: UnitOfWork, quote: Quote) -> Quote:
    """Store the quote's totals recomputed from its lines."""
    totals = quote_totals(read_lines(uow.tx, uow.crm, quote.id))
    return save_quote(
        uow,
        quote,
        {
            "subtotal_minor": totals.subtotal_minor,
            "discount_minor": totals.discount_minor,
            "tax_minor": totals.tax_minor,
            "total_minor": totals.total_minor,
        },
    )


def require_open_deal(deal: Deal, doing: str) -> None:
    """Refuse ``doing`` on a won or lost deal, pointing at reopening it."""
    if deal.status != "open":
        raise ValidationError(
            "sales.deal",
            "status",
            f"the deal is {deal.status}; {doing} needs an open deal "
            f"(reopen it with 'crmkit sales deals reopen {deal.id} --reason ...')",
            record=deal.id,
        )


def require_draft(quote: Quote, doing: str) -> None:
    """Refuse ``doing`` on a version that is no longer a draft, pointing at revising it."""
    if quote.status != "draft":
        raise ValidationError(
            QUOTE,
            "status",
            f"the quote is {quote.status}; {doing} only on a draft. Revise it "
            f"('crmkit sales quotes revise {quote.number}') for a new draft version",
            record=quote_label(quote),
        )
