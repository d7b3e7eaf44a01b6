"""Quote figures: line amounts and quote totals in minor units, and how they round.

Rounding rule
-------------
Amounts are kept in whole minor units of the quote's currency (cents for EUR,
yen for JPY) and every rounding is half-even (banker's rounding) to one minor
unit. Each line is rounded on its own, once, and the quote adds up the rounded
line figures, so the printed lines always sum to the printed totals:

- line gross = quantity x unit price, rounded;
- line total = quantity x unit price x (1 - discount/100), rounded once (not
  the rounded gross less a rounded discount);
- line discount = line gross - line total;
- line tax = line total x tax/100, rounded;
- quote subtotal = sum of line gross; discount = sum of line discounts;
  tax = sum of line taxes; total = subtotal - discount + tax.

Rounding per line can differ by a minor unit or two from rounding the sum
once: three lines of 0.5 x 0.05 EUR are 0.02 each (0.025 rounded half-even),
so the quote is 0.06 EUR, not 0.08 EUR.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

import attrs

from crmkit_sales.entities import Quote, QuoteLine
from crmkit_sales.money import Money, from_minor

HUNDRED = Decimal(100)


def round_minor(value: Decimal) -> int:
    """``value`` (in minor units) rounded half-even to a whole minor unit."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@attrs.frozen
class LineAmounts:
    """The rounded figures of one line, in minor units (see the module's rounding rule)."""

    gross_minor: int
    total_minor: int
    tax_minor: int

    @property
    def discount_minor(self) -> int:
        return self.gross_minor - self.total_minor


def line_amounts(
    quantity: Decimal, unit_price_minor: int, discount_pct: Decimal, tax_pct: Decimal
) -> LineAmounts:
    """Gross, total (after discount, before tax) and tax of one line, each rounded once."""
    exact = quantity * unit_price_minor
    total = round_minor(exact * (HUNDRED - discount_pct) / HUNDRED)
    return LineAmounts(round_minor(exact), total, round_minor(Decimal(total) * tax_pct / HUNDRED))


@attrs.frozen
class QuoteTotals:
    """A quote's subtotal (before discount), discount, tax and total, in minor units."""

    subtotal_minor: int = 0
    discount_minor: int = 0
    tax_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor + self.tax_minor


def quote_totals(lines: Iterable[QuoteLine]) -> QuoteTotals:
    """The sums of the rounded line figures of ``lines``."""
    subtotal = discount = tax = 0
    for line in lines:
        amounts = line_amounts(
            line.quantity, line.unit_price_minor, line.discount_pct, line.tax_pct
        )
        subtotal += amounts.gross_minor
        discount += amounts.discount_minor
        tax += amounts.tax_minor
    return QuoteTotals(subtotal, discount, tax)


@attrs.frozen
class QuoteMoney:
    """A quote's stored totals as :class:`~crmkit_sales.money.Money`."""

    subtotal: Money
    discount: Money
    tax: Money
    total: Money


def quote_money(quote: Quote) -> QuoteMoney:
    """The subtotal, discount, tax and total of ``quote`` in its currency."""
    return QuoteMoney(
        subtotal=from_minor(quote.subtotal_minor, quote.currency),
        discount=from_minor(quote.discount_minor, quote.currency),
        tax=from_minor(quote.tax_minor, quote.currency),
        total=from_minor(quote.total_minor, quote.currency),
    )


def quote_label(quote: Quote) -> str:
    """``Q-00001v2``: the number and version, the way users name a version."""
    return f"{quote.number}v{quote.version}"
