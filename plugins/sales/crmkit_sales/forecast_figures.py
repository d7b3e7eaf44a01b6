"""What the forecast, the board and the metrics return, and how their sums are converted.

Sums are read per currency in integer minor units; :class:`Converter` turns
them into one :class:`~crmkit_sales.money.Money` in the chosen currency through
``[plugins.sales.rates]``, rounding once at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

import attrs

from crmkit_sales.money import Money, RateTable, minor_units, total

Period = Literal["month", "quarter"]
PERIODS: tuple[Period, ...] = ("month", "quarter")
UNDATED = "undated"
"""The period of open deals that have no expected close date."""
TOTAL = "total"
"""The period of a forecast's total row."""


# -- What the figures look like ------------------------------------------------


@attrs.frozen
class ForecastRow:
    """The forecast of one period (and one owner, when split by owner).

    ``commit`` holds open deals at stages whose probability reaches
    ``commit_at``; ``best_case`` holds those plus the deals at or above
    ``best_case_at``; ``pipeline`` holds every open deal; ``weighted`` is the
    sum of each open deal's amount times its stage probability / 100.
    """

    period: str
    owner: str | None
    won: Money
    commit: Money
    best_case: Money
    pipeline: Money
    weighted: Money
    won_count: int
    commit_count: int
    best_case_count: int
    open_count: int


@attrs.frozen
class Forecast:
    """Forecast rows in period order (``"undated"`` last) and their total.

    Every amount is rounded once, half-even, from the exact sum behind it, so
    the total may differ by a minor unit from the sum of the rounded rows.
    """

    period: Period
    currency: str
    pipeline: str | None
    by_owner: bool
    start: dt.date | None
    end: dt.date | None
    rows: tuple[ForecastRow, ...]
    total: ForecastRow


@attrs.frozen
class BoardDeal:
    """One of the largest deals shown in a column of the board."""

    id: str
    title: str
    amount: Money
    owner: str | None
    expected_close: dt.date | None


@attrs.frozen
class BoardColumn:
    """One open stage of a pipeline: its deals counted, summed and weighted."""

    stage: str
    probability: int
    category: str
    count: int
    total: Money
    weighted: Money
    top: tuple[BoardDeal, ...]


@attrs.frozen
class Board:
    """The open deals of one pipeline, one column per open stage in order."""

    pipeline: str
    owner: str | None
    currency: str
    columns: tuple[BoardColumn, ...]
    count: int
    total: Money
    weighted: Money


@attrs.frozen
class StageConversion:
    """Of the deals that reached ``from_stage``, the share that reached ``to_stage``."""

    from_stage: str
    to_stage: str
    reached: int
    advanced: int
    rate: Decimal | None


@attrs.frozen
class Metrics:
    """How a pipeline performs: win rate, deal size, speed and stage conversion.

    ``velocity`` is the amount the pipeline is expected to win per day:
    open deals x average won amount x win rate / average days to close
    (an average below one day counts as one day).
    """

    pipeline: str
    owner: str | None
    since: dt.date | None
    until: dt.date | None
    currency: str
    open_count: int
    won_count: int
    lost_count: int
    win_rate: Decimal | None
    average_won: Money | None
    average_days_to_close: Decimal | None
    velocity: Money | None
    conversion: tuple[StageConversion, ...]


# -- Amounts: minor units in, Money in one currency out ------------------------


def _major(minor: int, currency: str, scale: int = 0) -> Decimal:
    """``minor`` units of ``currency`` (times ``10**scale``) as an exact Decimal amount."""
    return Decimal(minor).scaleb(-minor_units(currency) - scale)


@attrs.frozen
class Converter:
    """Sums amounts held per currency into one currency, through the rate table.

    Sums are integers in minor units; weighted sums are minor units times a
    percentage (``scale=2``), so that nothing is rounded before the end.
    """

    currency: str
    rates: RateTable | None

    def money(self, sums: Mapping[str, int], *, scale: int = 0) -> Money:
        """``{currency: minor units}`` summed in :attr:`currency`, rounded half-even once.

        Other currencies convert through the rates; without rates they are
        refused with :class:`~crmkit_sales.money.CurrencyMismatch`.
        """
        if not sums:
            return Money.zero(self.currency)
        if len(sums) == 1 and self.currency in sums:
            amount = _major(sums[self.currency], self.currency, scale)
            return Money(amount, self.currency).rounded()
        moneys = [Money(_major(value, cur, scale), cur) for cur, value in sorted(sums.items())]
        return total(moneys, currency=self.currency, rates=self.rates).rounded()
