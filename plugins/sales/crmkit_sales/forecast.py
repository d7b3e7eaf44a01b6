"""Sales forecast, pipeline board and sales metrics, computed in the database.

Every figure comes from a few grouped aggregate statements
(``reader.aggregate``) read on one snapshot (``crm.backend.read()``); the few
result rows are then folded in Python with the stage probabilities and
forecast categories of ``[plugins.sales]``. Deals are never loaded one by one,
except the few largest deals the board shows in each column.

Forecast periods: an open deal counts in the month (or quarter) of its
``expected_close``; a won deal counts in the month of its ``closed_at``, the
time the money was actually won. Open deals without an expected close date
form the ``"undated"`` row. Lost deals are not part of a forecast.

The board is built in :mod:`crmkit_sales.pipeline_board`, the metrics in
:mod:`crmkit_sales.sales_metrics`; what they all return is in
:mod:`crmkit_sales.forecast_figures`.

Amounts in several currencies are converted to one currency (by default the
settings' ``default_currency``) through ``[plugins.sales.rates]`` at today's
rates; without rates, mixed currencies are refused with
:class:`~crmkit_sales.money.CurrencyMismatch`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.errors import ValidationError
from crmkit.storage import Aggregate, Cond, GroupKey, Measure
from crmkit_sales.deal_aggregates import (
    DEAL,
    all_present,
    check_window,
    closed_between,
    equals,
    stage_of,
    target_currency,
)
from crmkit_sales.forecast_figures import (
    PERIODS,
    TOTAL,
    UNDATED,
    Board,
    BoardColumn,
    BoardDeal,
    Converter,
    Forecast,
    ForecastRow,
    Metrics,
    Period,
    StageConversion,
)
from crmkit_sales.pipeline_board import pipeline_board
from crmkit_sales.sales_metrics import conversion_steps, sales_metrics
from crmkit_sales.settings import sales_settings

if TYPE_CHECKING:
    from crmkit.crm import CRM

__all__ = [
    "PERIODS",
    "TOTAL",
    "UNDATED",
    "Board",
    "BoardColumn",
    "BoardDeal",
    "Converter",
    "Forecast",
    "ForecastRow",
    "Forecasts",
    "Metrics",
    "Period",
    "StageConversion",
    "conversion_steps",
    "quarter_of",
]


_AMOUNTS = ("won", "commit", "best_case", "pipeline", "weighted")
_COUNTS = ("won", "commit", "best_case", "open")


@attrs.define
class _Tally:
    """Sums in minor units per measure and currency, and deal counts, of one forecast row.

    ``weighted`` holds minor units times the stage probability (percent).
    """

    sums: dict[str, dict[str, int]] = attrs.Factory(lambda: {name: {} for name in _AMOUNTS})
    counts: dict[str, int] = attrs.Factory(lambda: dict.fromkeys(_COUNTS, 0))

    def add(self, measure: str, currency: str, minor: int) -> None:
        bucket = self.sums[measure]
        bucket[currency] = bucket.get(currency, 0) + minor

    def row(self, period: str, owner: str | None, convert: Converter) -> ForecastRow:
        money = {
            name: convert.money(self.sums[name], scale=2 if name == "weighted" else 0)
            for name in _AMOUNTS
        }
        return ForecastRow(
            period=period,
            owner=owner,
            won=money["won"],
            commit=money["commit"],
            best_case=money["best_case"],
            pipeline=money["pipeline"],
            weighted=money["weighted"],
            won_count=self.counts["won"],
            commit_count=self.counts["commit"],
            best_case_count=self.counts["best_case"],
            open_count=self.counts["open"],
        )


def quarter_of(month: str) -> str:
    """``"2026-02"`` → ``"2026-Q1"``."""
    year, _, number = month.partition("-")
    return f"{year}-Q{(int(number) - 1) // 3 + 1}"


def _period_key(month: str | None, period: Period) -> str:
    if month is None:
        return UNDATED
    return quarter_of(month) if period == "quarter" else month


# -- The service ---------------------------------------------------------------


class Forecasts:
    """Forecast, board and metrics of the deals in one CRM (``Sales(crm).forecast``)."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    def forecast(
        self,
        *,
        period: Period = "month",
        by_owner: bool = False,
        pipeline: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        currency: str | None = None,
    ) -> Forecast:
        """Won, commit, best case, pipeline and weighted amounts per period (and owner).

        ``pipeline`` narrows to one pipeline (default: all of them). ``start`` and
        ``end`` (inclusive days) narrow open deals by expected close and won deals
        by close date; with either of them, undated open deals are left out.
        """
        if period not in PERIODS:
            raise ValidationError(
                DEAL, "expected_close", f"period {period!r}: use one of {', '.join(PERIODS)}"
            )
        check_window(DEAL, "expected_close", start, end)
        settings = sales_settings(self.crm)
        if pipeline is not None:
            settings.pipeline(pipeline)
        convert = Converter(target_currency(settings, currency), settings.rates)
        etype = self.crm.entity_type(DEAL)
        owner_key = (GroupKey("owner"),) if by_owner else ()
        counted = (Measure("deals", "count"), Measure("amount", "sum", "amount_minor"))
        open_where = all_present(
            Cond("status", "eq", "open"),
            equals("pipeline", pipeline),
            None if start is None else Cond("expected_close", "ge", start),
            None if end is None else Cond("expected_close", "le", end),
        )
        won_where = all_present(
            Cond("status", "eq", "won"),
            equals("pipeline", pipeline),
            *closed_between("closed_at", start, end),
        )
        with self.crm.backend.read() as reader:
            open_rows = reader.aggregate(
                etype,
                Aggregate(
                    where=open_where,
                    group_by=(
                        GroupKey("pipeline"),
                        GroupKey("stage"),
                        *owner_key,
                        GroupKey("expected_close", "month", name="month"),
                        GroupKey("currency"),
                    ),
                    measures=counted,
                ),
            )
            won_rows = reader.aggregate(
                etype,
                Aggregate(
                    where=won_where,
                    group_by=(
                        *owner_key,
                        GroupKey("closed_at", "month", name="month"),
                        GroupKey("currency"),
                    ),
                    measures=counted,
                ),
            )
        tallies: dict[tuple[str, str | None], _Tally] = {}
        grand = _Tally()
        periods: dict[str | None, str] = {}
        stages: dict[tuple[str, str], tuple[int, str]] = {}

        def tallies_of(row: Mapping[str, Any]) -> tuple[_Tally, _Tally]:
            month = row["month"]
            name = periods.get(month)
            if name is None:
                name = periods[month] = _period_key(month, period)
            key = (name, row.get("owner"))
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally()
            return tally, grand

        for row in open_rows:
            deals, cur, minor = row["deals"], row["currency"], row["amount"] or 0
            where = (row["pipeline"], row["stage"])
            if where not in stages:
                found, probability = stage_of(settings, *where, deals)
                stages[where] = (probability, found.category(row["stage"]))
            probability, category = stages[where]
            for tally in tallies_of(row):
                tally.counts["open"] += deals
                tally.add("pipeline", cur, minor)
                tally.add("weighted", cur, minor * probability)
                if category in ("commit", "best_case"):
                    tally.counts["best_case"] += deals
                    tally.add("best_case", cur, minor)
                if category == "commit":
                    tally.counts["commit"] += deals
                    tally.add("commit", cur, minor)
        for row in won_rows:
            for tally in tallies_of(row):
                tally.counts["won"] += row["deals"]
                tally.add("won", row["currency"], row["amount"] or 0)

        def order(key: tuple[str, str | None]) -> tuple[bool, str, bool, str]:
            return (key[0] == UNDATED, key[0], key[1] is not None, key[1] or "")

        rows = tuple(tallies[key].row(*key, convert) for key in sorted(tallies, key=order))
        return Forecast(
            period=period,
            currency=convert.currency,
            pipeline=pipeline,
            by_owner=by_owner,
            start=start,
            end=end,
            rows=rows,
            total=grand.row(TOTAL, None, convert),
        )

    def board(
        self,
        pipeline: str | None = None,
        *,
        owner: str | None = None,
        top: int = 5,
        currency: str | None = None,
    ) -> Board:
        """The open deals of ``pipeline`` as a kanban board (see :func:`pipeline_board`)."""
        return pipeline_board(self.crm, pipeline, owner=owner, top=top, currency=currency)

    def metrics(
        self,
        *,
        pipeline: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        owner: str | None = None,
        currency: str | None = None,
    ) -> Metrics:
        """Win rate, average won, days to close, velocity and stage conversion."""
        return sales_metrics(
            self.crm, pipeline=pipeline, since=since, until=until, owner=owner, currency=currency
        )
