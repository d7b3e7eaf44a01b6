"""The service report's arithmetic and shape: percentiles, NPS, periods, figures.

No storage here: :mod:`crmkit_service.report` reads the numbers and these turn
them into the figures the report shows (what each one means is told there).
Times are :class:`datetime.timedelta`; periods are calendar months (``2026-03``)
or ISO weeks (``2026-W09``) of UTC days.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs

PERIODS: tuple[str, ...] = ("month", "week")
DEFAULT_SPAN = {"month": 6, "week": 8}
"""How many periods (the current one included) a report covers without ``since``."""
BACKLOG_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("under_1d", 0, 1),
    ("days_1_3", 1, 3),
    ("days_3_7", 3, 7),
    ("over_7d", 7, None),
)
"""Backlog buckets: (name, from days, to days); an age equal to a bound is in the later one."""


# -- statistics ---------------------------------------------------------------------------


def nearest_rank(values: Sequence[dt.timedelta], percent: float) -> dt.timedelta | None:
    """The nearest-rank ``percent`` percentile of ``values``: the value at rank
    ``ceil(percent / 100 * n)`` once sorted (``None`` for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[dt.timedelta]) -> dt.timedelta | None:
    """The middle of ``values`` once sorted; the mean of the two middle ones for an even count."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


@attrs.frozen
class Durations:
    """How long something took over a set of tickets: count, median and p90."""

    count: int = 0
    median: dt.timedelta | None = None
    p90: dt.timedelta | None = None

    @classmethod
    def of(cls, values: Sequence[dt.timedelta]) -> Durations:
        if not values:
            return cls()
        return cls(len(values), median(values), nearest_rank(values, 90))

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, times in hours (two decimals)."""
        return {
            "count": self.count,
            "median_hours": _hours(self.median),
            "p90_hours": _hours(self.p90),
        }


def _hours(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def net_promoter_score(scores: Iterable[int]) -> int | None:
    """% promoters (9-10) minus % detractors (0-6), to the nearest whole number; ``None``
    without answers."""
    given = list(scores)
    if not given:
        return None
    promoters = sum(1 for s in given if s >= 9)
    detractors = sum(1 for s in given if s <= 6)
    score = Decimal(100 * (promoters - detractors)) / Decimal(len(given))
    return int(score.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# -- the report's shape ---------------------------------------------------------------------


@attrs.frozen
class Figures:
    """The figures of one period for one team (``team`` ``None``: tickets without a team;
    in :attr:`ServiceReport.totals`, every team together)."""

    period: str
    team: str | None
    opened: int = 0
    first_response: Durations = Durations()
    resolution: Durations = Durations()
    resolved_with_sla: int = 0
    sla_met: int = 0
    csat_answers: int = 0
    csat_average: float | None = None
    csat_satisfied: float | None = None
    """Percentage of CSAT answers that were 4 or 5."""
    nps_answers: int = 0
    nps: int | None = None

    @property
    def sla_compliance(self) -> float | None:
        """Percentage of resolved tickets with an SLA that met it (``None`` without any)."""
        if not self.resolved_with_sla:
            return None
        return 100 * self.sla_met / self.resolved_with_sla

    def as_dict(self) -> dict[str, Any]:
        """JSON-able; percentages and averages to one or two decimals."""
        return {
            "period": self.period,
            "team": self.team,
            "opened": self.opened,
            "first_response": self.first_response.as_dict(),
            "resolution": self.resolution.as_dict(),
            "resolved_with_sla": self.resolved_with_sla,
            "sla_met": self.sla_met,
            "sla_compliance": _round(self.sla_compliance, 1),
            "csat_answers": self.csat_answers,
            "csat_average": _round(self.csat_average, 2),
            "csat_satisfied": _round(self.csat_satisfied, 1),
            "nps_answers": self.nps_answers,
            "nps": self.nps,
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@attrs.frozen
class Backlog:
    """Tickets of one team not resolved or closed, by age (see :data:`BACKLOG_BUCKETS`)."""

    team: str | None
    under_1d: int = 0
    days_1_3: int = 0
    days_3_7: int = 0
    over_7d: int = 0

    @property
    def total(self) -> int:
        return self.under_1d + self.days_1_3 + self.days_3_7 + self.over_7d

    def as_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "total": self.total}


@attrs.frozen
class ServiceReport:
    """The report: figures per period and team, totals per period, and today's backlog."""

    period: str
    since: dt.date
    until: dt.date
    """The last day covered (inclusive)."""
    team: str | None
    """The one team reported on, or ``None`` for every team."""
    as_of: dt.datetime
    """When it was made: the backlog's ages are counted to this instant."""
    rows: tuple[Figures, ...]
    """One per period and team with anything to show, by period then team."""
    totals: tuple[Figures, ...]
    """One per period of the report (every team together; ``team`` is ``None``)."""
    backlog: tuple[Backlog, ...]

    def as_dict(self) -> dict[str, Any]:
        """All of it as JSON-able data."""
        return {
            "period": self.period,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "team": self.team,
            "as_of": self.as_of.isoformat(),
            "rows": [r.as_dict() for r in self.rows],
            "totals": [t.as_dict() for t in self.totals],
            "backlog": [b.as_dict() for b in self.backlog],
        }


# -- periods ------------------------------------------------------------------------------


def period_of(day: dt.date, period: str) -> str:
    """The label of the period holding ``day``: ``2026-03`` or ISO week ``2026-W09``."""
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_start(day: dt.date, period: str) -> dt.date:
    """The first day of the period holding ``day`` (the 1st, or the Monday)."""
    if period == "month":
        return day.replace(day=1)
    return day - dt.timedelta(days=day.weekday())


def default_since(today: dt.date, period: str) -> dt.date:
    """The first day of the period :data:`DEFAULT_SPAN` periods back (this one included)."""
    start = period_start(today, period)
    back = DEFAULT_SPAN[period] - 1
    if period == "week":
        return start - dt.timedelta(weeks=back)
    months = start.year * 12 + start.month - 1 - back
    return dt.date(months // 12, months % 12 + 1, 1)


def period_labels(since: dt.date, until: dt.date, period: str) -> list[str]:
    """Every period label from ``since`` to ``until`` (inclusive), in order."""
    labels: list[str] = []
    day = since
    while day <= until:
        label = period_of(day, period)
        if not labels or labels[-1] != label:
            labels.append(label)
        start = period_start(day, period)
        if period == "week":
            day = start + dt.timedelta(weeks=1)
        else:
            months = start.year * 12 + start.month
            day = dt.date(months // 12, months % 12 + 1, 1)
    return labels
