"""Pieces every aggregate over deals shares: filters, day windows, currency, stages.

The forecast, the board and the metrics narrow deals the same way and look up
stage probabilities the same way; deals left at a pipeline or stage the
settings no longer list are refused by name rather than counted with a guessed
probability.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from crmkit.errors import ValidationError
from crmkit.storage import Cond, Filter
from crmkit_sales.money import check_currency
from crmkit_sales.records import all_of
from crmkit_sales.settings import Pipeline, SalesSettings

DEAL = "sales.deal"
STAGE_CHANGE = "sales.stage_change"
RATE_PLACES = Decimal("0.0001")
DAY_PLACES = Decimal("0.1")


def all_present(*conds: Filter | None) -> Filter | None:
    """The conditions given joined with AND, the ``None`` ones (filters not asked for) left out."""
    return all_of([c for c in conds if c is not None])


def equals(field: str, value: str | None) -> Cond | None:
    return None if value is None else Cond(field, "eq", value)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def closed_between(
    field: str, since: dt.date | None, until: dt.date | None
) -> tuple[Cond | None, Cond | None]:
    """``field`` (a datetime) on or after ``since`` and on or before ``until`` (whole days)."""
    low = None if since is None else Cond(field, "ge", day_start(since))
    high = None if until is None else Cond(field, "lt", day_start(until + dt.timedelta(days=1)))
    return low, high


def check_window(entity: str, field: str, since: dt.date | None, until: dt.date | None) -> None:
    if since is not None and until is not None and since > until:
        raise ValidationError(
            entity, field, f"the window starts {since} after it ends {until}; swap the dates"
        )


def target_currency(settings: SalesSettings, currency: str | None) -> str:
    if currency is None:
        return settings.default_currency
    return check_currency(currency, entity=DEAL)


def stage_of(
    settings: SalesSettings, pipeline: str, stage: str, deals: int
) -> tuple[Pipeline, int]:
    """The pipeline of open deals and their stage's probability, from the settings.

    Deals left at a pipeline or stage the settings no longer list are refused by
    name rather than counted with a guessed probability.
    """
    known = settings.pipelines.get(pipeline)
    if known is None:
        raise ValidationError(
            DEAL,
            "pipeline",
            f"{deals} open deal(s) are in pipeline {pipeline!r}, which [plugins.sales.pipelines] "
            f"does not list ({', '.join(sorted(settings.pipelines))}); add it back to the "
            "settings or move the deals",
        )
    if stage not in known.open_stages:
        raise ValidationError(
            DEAL,
            "stage",
            f"{deals} open deal(s) of pipeline {pipeline!r} are at stage {stage!r}, which the "
            f"settings do not list ({', '.join(known.open_stages)}); add it back to "
            f"[plugins.sales.pipelines.{pipeline}] or move the deals with "
            "'crmkit sales deals move'",
        )
    return known, known.stage(stage).probability
