"""Sales metrics: win rate, average won amount, days to close, velocity, stage conversion.

Read in three grouped aggregates on one snapshot: the closed deals by outcome
and currency, the open deals, and the distinct deals that entered each stage.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from crmkit.storage import Aggregate, Cond, GroupKey, Measure
from crmkit_sales.deal_aggregates import (
    DAY_PLACES,
    DEAL,
    RATE_PLACES,
    STAGE_CHANGE,
    all_present,
    check_window,
    closed_between,
    equals,
    target_currency,
)
from crmkit_sales.forecast_figures import Converter, Metrics, StageConversion
from crmkit_sales.money import Money
from crmkit_sales.settings import Pipeline, sales_settings

if TYPE_CHECKING:
    from crmkit.crm import CRM


def sales_metrics(
    crm: CRM,
    *,
    pipeline: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    owner: str | None = None,
    currency: str | None = None,
) -> Metrics:
    """Win rate, average won amount and days to close, velocity and stage conversion.

    ``pipeline`` defaults to the default pipeline. ``since``/``until``
    (inclusive days) narrow the closed deals by their close date and the
    stage changes by the day they were made; the open count is of today.
    ``owner`` narrows the deal figures; stage conversion always covers the
    whole pipeline, as stage changes do not record the deal's owner.

    Stage conversion counts, per stage, the distinct deals that entered it;
    the rate from stage n to stage n+1 is the ratio of those counts (a deal
    that skipped stage n still counts for n+1). The last open stage leads to
    ``won``.
    """
    check_window(DEAL, "closed_at", since, until)
    settings = sales_settings(crm)
    chosen = settings.pipeline(pipeline)
    convert = Converter(target_currency(settings, currency), settings.rates)
    deal_type = crm.entity_type(DEAL)
    change_type = crm.entity_type(STAGE_CHANGE)
    in_pipeline = Cond("pipeline", "eq", chosen.name)
    with crm.backend.read() as reader:
        closed = reader.aggregate(
            deal_type,
            Aggregate(
                where=all_present(
                    in_pipeline,
                    Cond("status", "in", ["won", "lost"]),
                    equals("owner", owner),
                    *closed_between("closed_at", since, until),
                ),
                group_by=(GroupKey("status"), GroupKey("currency")),
                measures=(
                    Measure("deals", "count"),
                    Measure("amount", "sum", "amount_minor"),
                    Measure("timed", "count", "days_to_close"),
                    Measure("days", "sum", "days_to_close"),
                ),
            ),
        )
        (opened,) = reader.aggregate(
            deal_type,
            Aggregate(
                where=all_present(in_pipeline, Cond("status", "eq", "open"), equals("owner", owner))
            ),
        )
        reached_rows = reader.aggregate(
            change_type,
            Aggregate(
                where=all_present(in_pipeline, *closed_between("changed_at", since, until)),
                group_by=(GroupKey("to_stage"),),
                measures=(Measure("deals", "count_distinct", "deal_id"),),
            ),
        )
    won_count = lost_count = timed = days = 0
    won_amounts: dict[str, int] = {}
    for row in closed:
        if row["status"] == "won":
            won_count += row["deals"]
            timed += row["timed"]
            days += row["days"] or 0
            cur = row["currency"]
            won_amounts[cur] = won_amounts.get(cur, 0) + (row["amount"] or 0)
        else:
            lost_count += row["deals"]
    closed_count = won_count + lost_count
    win_rate = Decimal(won_count) / closed_count if closed_count else None
    won_total = convert.money(won_amounts)
    average = won_total.amount / won_count if won_count else None
    average_days = Decimal(days) / timed if timed else None
    velocity = None
    if average is not None and win_rate is not None and average_days is not None:
        per_day = opened["count"] * average * win_rate / max(average_days, Decimal(1))
        velocity = Money(per_day, convert.currency).rounded()
    reached = {row["to_stage"]: row["deals"] for row in reached_rows}
    days_shown = None if average_days is None else average_days.quantize(DAY_PLACES)
    return Metrics(
        pipeline=chosen.name,
        owner=owner,
        since=since,
        until=until,
        currency=convert.currency,
        open_count=opened["count"],
        won_count=won_count,
        lost_count=lost_count,
        win_rate=None if win_rate is None else win_rate.quantize(RATE_PLACES),
        average_won=None if average is None else Money(average, convert.currency).rounded(),
        average_days_to_close=days_shown,
        velocity=velocity,
        conversion=conversion_steps(chosen, reached),
    )


def conversion_steps(pipeline: Pipeline, reached: Mapping[str, int]) -> tuple[StageConversion, ...]:
    """Stage-to-stage conversion along ``pipeline`` (its open stages, then ``won``)."""
    stages = [*pipeline.open_stages, "won"]
    steps = []
    for before, after in itertools.pairwise(stages):
        entered, advanced = reached.get(before, 0), reached.get(after, 0)
        rate = (Decimal(advanced) / entered).quantize(RATE_PLACES) if entered else None
        steps.append(StageConversion(before, after, entered, advanced, rate))
    return tuple(steps)
