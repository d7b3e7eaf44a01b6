"""The priced lines of a draft quote: checking what is given, adding and removing lines.

Quantities and percentages are Decimals given as Decimal, text or int (floats
are refused: they cannot hold 0.1 exactly), with at most six decimals; unit
prices are money in the quote's currency. Lines change only while a version is
a draft, and every change stores the quote's totals again from its lines.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import attrs

from crmkit.entities import utcnow
from crmkit.errors import NotFound, ValidationError
from crmkit.storage.query import Cond, Query
from crmkit_sales.deal_records import load_deal
from crmkit_sales.entities import Quote, QuoteLine
from crmkit_sales.money import from_minor, parse_money, to_minor
from crmkit_sales.quote_figures import HUNDRED, line_amounts, quote_label
from crmkit_sales.quote_records import (
    LINE,
    QUOTE,
    find_quote,
    line_type,
    read_lines,
    record_quote_event,
    refresh_totals,
    require_draft,
)
from crmkit_sales.records import require_contact_write

if TYPE_CHECKING:
    from crmkit.uow import UnitOfWork

QUANTITY_PLACES = 6
"""Decimals a quantity or percentage may have (what the database column keeps)."""
MAX_LINE_MINOR = 10**15
"""The largest line amount in minor units (keeps sums within the stored integers)."""

_MAX_QUANTITY = Decimal(10) ** 9


def _decimal(
    value: Decimal | str | int, *, field: str, record: str, high: Decimal, bounds: str
) -> Decimal:
    """A quantity or percentage (0 to ``high``) from Decimal, text or int; floats refused."""
    if isinstance(value, bool | float) or not isinstance(value, Decimal | str | int):
        raise ValidationError(
            LINE,
            field,
            f'{value!r} is a {type(value).__name__}; give a decimal string like "1.5" '
            "(floats cannot hold it exactly)",
            record=record,
        )
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise ValidationError(
            LINE, field, f"{value!r} is not a number; write it like 1.5", record=record
        ) from None
    if not number.is_finite():
        raise ValidationError(LINE, field, f"{value!r} is not a finite number", record=record)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -QUANTITY_PLACES:
        raise ValidationError(
            LINE,
            field,
            f"{value} has more than {QUANTITY_PLACES} decimal places; round it",
            record=record,
        )
    if number < 0 or number > high:
        raise ValidationError(LINE, field, f"{value} is out of range; give {bounds}", record=record)
    return number


def _quantity(value: Decimal | str | int, record: str) -> Decimal:
    bounds = f"more than 0 and at most {_MAX_QUANTITY:,}"
    quantity = _decimal(value, field="quantity", record=record, high=_MAX_QUANTITY, bounds=bounds)
    if quantity == 0:
        raise ValidationError(
            LINE, "quantity", f"0 is not a quantity; give {bounds}", record=record
        )
    return quantity


def _percent(value: Decimal | str | int, field: str, record: str) -> Decimal:
    return _decimal(value, field=field, record=record, high=HUNDRED, bounds="from 0 to 100")


def _unit_price(value: Decimal | str | int, currency: str, record: str) -> int:
    try:
        return to_minor(parse_money(value, currency, entity=LINE, field="unit_price"))
    except ValidationError as exc:
        raise ValidationError(LINE, "unit_price", exc.reason, record=record) from None


def _text(value: str | None, field: str, record: str, *, required: bool) -> str | None:
    text = value.strip() if isinstance(value, str) else None
    if required and not text:
        raise ValidationError(LINE, field, f"a line needs a {field}", record=record)
    return text or None


def add_line(
    uow: UnitOfWork,
    quote_ref: str,
    *,
    product: str,
    quantity: Decimal | str | int,
    unit_price: Decimal | str | int,
    discount_pct: Decimal | str | int = 0,
    tax_pct: Decimal | str | int = 0,
    description: str | None = None,
) -> QuoteLine:
    """Add a line at the end of a draft quote and recompute the quote's totals."""
    quote = find_quote(uow.tx, uow.crm, quote_ref)
    ltype = line_type(uow.crm)
    last = uow.tx.query(
        ltype, Query(where=Cond("quote_id", "eq", quote.id), order_by=("-position",), limit=1)
    )
    position = last[0]["position"] + 1 if last else 1
    record = f"{quote_label(quote)} line {position}"
    require_draft(quote, "lines are added")
    line = QuoteLine(
        quote_id=quote.id,
        position=position,
        product=str(_text(product, "product", record, required=True)),
        description=_text(description, "description", record, required=False),
        quantity=_quantity(quantity, record),
        unit_price_minor=_unit_price(unit_price, quote.currency, record),
        discount_pct=_percent(discount_pct, "discount_pct", record),
        tax_pct=_percent(tax_pct, "tax_pct", record),
    )
    amounts = line_amounts(line.quantity, line.unit_price_minor, line.discount_pct, line.tax_pct)
    if amounts.gross_minor > MAX_LINE_MINOR:
        limit = from_minor(MAX_LINE_MINOR, quote.currency)
        raise ValidationError(
            LINE, "quantity", f"the line comes to more than {limit}; split it", record=record
        )
    line = attrs.evolve(line, total_minor=amounts.total_minor)
    deal = load_deal(uow.tx, uow.crm, quote.deal_id)
    require_contact_write(uow, deal.contact_id, QUOTE)
    uow.tx.add(ltype, ltype.to_row(line))
    quote = refresh_totals(uow, quote)
    record_quote_event(
        uow,
        "sales.quote.line_added",
        quote,
        deal,
        f"got line {position} ({line.product})",
        position=position,
        product=line.product,
        quantity=str(line.quantity),
        line_total=str(from_minor(line.total_minor, quote.currency).amount),
    )
    return line


def remove_line(uow: UnitOfWork, quote_ref: str, position: int) -> Quote:
    """Remove the line at ``position`` of a draft; later lines move up one place."""
    quote = find_quote(uow.tx, uow.crm, quote_ref)
    require_draft(quote, "lines are removed")
    lines = read_lines(uow.tx, uow.crm, quote.id)
    doomed = [line for line in lines if line.position == position]
    if not doomed:
        raise NotFound(LINE, f"{quote_label(quote)} line {position}")
    require_contact_write(uow, load_deal(uow.tx, uow.crm, quote.deal_id).contact_id, QUOTE)
    ltype = line_type(uow.crm)
    uow.tx.delete(ltype, doomed[0].id)
    for line in lines:
        if line.position > position:
            uow.tx.update(ltype, line.id, {"position": line.position - 1, "updated_at": utcnow()})
    return refresh_totals(uow, quote)
