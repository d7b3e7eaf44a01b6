"""The service report: volumes, response and resolution times, SLA compliance, backlog,
CSAT and NPS, per period (calendar month or ISO week) and team.

What each figure means:

- **opened**: tickets created in the period.
- **first response** and **resolution** times: wall-clock time (not business
  hours: the figure a customer lives through) from a ticket's creation to its
  first reply or its resolution, for replies and resolutions made in the period.
  The median is the middle value (the mean of the two middle values for an even
  count); ``p90`` is the nearest-rank 90th percentile: the value at rank
  ``ceil(0.9 * n)`` of the sorted times, a time that really occurred.
- **SLA compliance**: of the tickets resolved in the period that had a
  resolution due time, the percentage resolved before it and never marked
  breached by ``tick``.
- **backlog**: tickets not resolved or closed *now* (whatever the report's
  dates), by age since creation: under 1 day, 1-3 days, 3-7 days, 7 days or
  more (a boundary belongs to the older bucket).
- **CSAT**: the average score (1-5) of the answers recorded in the period and
  the percentage satisfied (4 or 5); **NPS**: the percentage of promoters (9-10)
  minus that of detractors (0-6), rounded to the nearest whole number (halves
  away from zero), from -100 to 100.

Tickets count for the team they belong to when the report is made (a ticket an
escalation moved to another team counts for that one). Periods and days are
taken in UTC. Counts are computed by the storage with
grouped aggregates; the times come from a grouped read of only the columns
they need (creation and reply or resolution), never from loading tickets.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.errors import ValidationError
from crmkit.storage.query import Aggregate, AllOf, Cond, Filter, GroupKey, Measure
from crmkit_service.assignment import OPEN_STATUSES
from crmkit_service.feedback import CSAT
from crmkit_service.report_figures import (
    BACKLOG_BUCKETS,
    DEFAULT_SPAN,
    PERIODS,
    Backlog,
    Durations,
    Figures,
    ServiceReport,
    default_since,
    median,
    nearest_rank,
    net_promoter_score,
    period_labels,
    period_of,
    period_start,
)
from crmkit_service.settings import service_settings
from crmkit_service.ticket_records import TICKET

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage.base import StorageReader

__all__ = [
    "BACKLOG_BUCKETS",
    "DEFAULT_SPAN",
    "PERIODS",
    "Backlog",
    "Durations",
    "Figures",
    "Reports",
    "ServiceReport",
    "default_since",
    "median",
    "nearest_rank",
    "net_promoter_score",
    "period_labels",
    "period_of",
    "period_start",
]

CHUNK = 500
"""How many ticket ids one read of tickets' teams asks for."""
ZERO = dt.timedelta(0)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _day_of(value: dt.datetime) -> dt.date:
    return value.astimezone(dt.UTC).date()


# -- reading the figures ------------------------------------------------------------------


def _where(*conds: Filter | None) -> Filter | None:
    present = tuple(c for c in conds if c is not None)
    if not present:
        return None
    return present[0] if len(present) == 1 else AllOf(present)


def _within(field: str, start: dt.datetime, end: dt.datetime) -> Filter:
    return AllOf((Cond(field, "ge", start), Cond(field, "lt", end)))


Key = tuple[str, str | None]
"""(period label, team)."""


class _Tally:
    """The raw material of every :class:`Figures`, per (period, team)."""

    def __init__(self) -> None:
        self.opened: dict[Key, int] = defaultdict(int)
        self.first: dict[Key, list[dt.timedelta]] = defaultdict(list)
        self.resolution: dict[Key, list[dt.timedelta]] = defaultdict(list)
        self.with_sla: dict[Key, int] = defaultdict(int)
        self.met: dict[Key, int] = defaultdict(int)
        self.csat: dict[Key, list[int]] = defaultdict(list)
        self.nps: dict[Key, list[int]] = defaultdict(list)

    def seen(self) -> set[Key]:
        found: set[Key] = set()
        for table in (self.opened, self.first, self.resolution, self.with_sla, self.csat, self.nps):
            found.update(table)
        return found

    def figures(self, keys: Iterable[Key], period: str, team: str | None) -> Figures:
        """The figures of ``keys`` taken together, labelled ``period`` and ``team``."""
        chosen = list(keys)

        def gather(table: dict[Key, list[Any]]) -> list[Any]:
            return [value for key in chosen for value in table.get(key, ())]

        csat = gather(self.csat)
        nps = gather(self.nps)
        return Figures(
            period=period,
            team=team,
            opened=sum(self.opened.get(k, 0) for k in chosen),
            first_response=Durations.of(gather(self.first)),
            resolution=Durations.of(gather(self.resolution)),
            resolved_with_sla=sum(self.with_sla.get(k, 0) for k in chosen),
            sla_met=sum(self.met.get(k, 0) for k in chosen),
            csat_answers=len(csat),
            csat_average=sum(csat) / len(csat) if csat else None,
            csat_satisfied=100 * sum(1 for s in csat if s >= 4) / len(csat) if csat else None,
            nps_answers=len(nps),
            nps=net_promoter_score(nps),
        )


@attrs.frozen
class _Reading:
    """The grouped reads of one report: its period kind, UTC span and team, into a tally."""

    crm: CRM
    reader: StorageReader
    tally: _Tally
    period: str
    start: dt.datetime
    end: dt.datetime
    team: str | None

    def _tickets(self, where: Filter, group_by: Sequence[GroupKey], **kw: Any) -> list[Any]:
        """A grouped read of tickets matching ``where`` (and the report's team)."""
        team = Cond("team", "eq", self.team) if self.team is not None else None
        aggregate = Aggregate(where=_where(where, team), group_by=tuple(group_by), **kw)
        return list(self.reader.aggregate(self.crm.entity_type(TICKET), aggregate))

    def opened(self) -> None:
        rows = self._tickets(
            _within("created_at", self.start, self.end),
            (GroupKey("team"), GroupKey("created_at", "day", "day")),
        )
        for row in rows:
            label = period_of(dt.date.fromisoformat(row["day"]), self.period)
            self.tally.opened[(label, row["team"])] += row["count"]

    def first_responses(self) -> None:
        rows = self._tickets(
            _within("first_responded_at", self.start, self.end),
            (GroupKey("team"), GroupKey("created_at"), GroupKey("first_responded_at")),
        )
        for row in rows:
            answered = row["first_responded_at"]
            key = (period_of(_day_of(answered), self.period), row["team"])
            took = max(answered - row["created_at"], ZERO)
            self.tally.first[key].extend([took] * row["count"])

    def resolutions(self) -> None:
        rows = self._tickets(
            _within("resolved_at", self.start, self.end),
            (
                GroupKey("team"),
                GroupKey("created_at"),
                GroupKey("resolved_at"),
                GroupKey("resolution_due"),
            ),
            measures=(
                Measure("count", "count"),
                Measure("marked", "count", "resolution_breached_at"),
            ),
        )
        for row in rows:
            resolved, due, count = row["resolved_at"], row["resolution_due"], row["count"]
            key = (period_of(_day_of(resolved), self.period), row["team"])
            self.tally.resolution[key].extend([max(resolved - row["created_at"], ZERO)] * count)
            if due is not None:
                self.tally.with_sla[key] += count
                if resolved < due:
                    self.tally.met[key] += count - row["marked"]

    def feedback(self) -> None:
        rows = self.reader.aggregate(
            self.crm.entity_type(CSAT),
            Aggregate(
                where=_within("recorded_at", self.start, self.end),
                group_by=(
                    GroupKey("ticket_id"),
                    GroupKey("recorded_at", "day", "day"),
                    GroupKey("csat"),
                    GroupKey("nps"),
                ),
            ),
        )
        teams = self._teams_of(sorted({row["ticket_id"] for row in rows}))
        for row in rows:
            if row["ticket_id"] not in teams:
                continue  # the ticket is gone
            ticket_team = teams[row["ticket_id"]]
            if self.team is not None and ticket_team != self.team:
                continue
            key = (period_of(dt.date.fromisoformat(row["day"]), self.period), ticket_team)
            if row["csat"] is not None:
                self.tally.csat[key].extend([row["csat"]] * row["count"])
            if row["nps"] is not None:
                self.tally.nps[key].extend([row["nps"]] * row["count"])

    def _teams_of(self, ticket_ids: Sequence[str]) -> dict[str, str | None]:
        """The team of each ticket (two columns read per ticket, a chunk of ids at a time)."""
        teams: dict[str, str | None] = {}
        etype = self.crm.entity_type(TICKET)
        for at in range(0, len(ticket_ids), CHUNK):
            chunk = list(ticket_ids[at : at + CHUNK])
            rows = self.reader.aggregate(
                etype,
                Aggregate(
                    where=Cond("id", "in", chunk),
                    group_by=(GroupKey("id"), GroupKey("team")),
                    measures=(),
                ),
            )
            teams.update((row["id"], row["team"]) for row in rows)
        return teams


def _backlog(
    crm: CRM, reader: StorageReader, now: dt.datetime, team: str | None
) -> tuple[Backlog, ...]:
    """Tickets not resolved or closed at ``now``, per team, by age bucket."""
    counts: dict[str | None, dict[str, int]] = defaultdict(dict)
    etype = crm.entity_type(TICKET)
    for name, low, high in BACKLOG_BUCKETS:
        age: list[Filter] = [Cond("created_at", "le", now - dt.timedelta(days=low))]
        if low == 0:
            age = []
        if high is not None:
            age.append(Cond("created_at", "gt", now - dt.timedelta(days=high)))
        rows = reader.aggregate(
            etype,
            Aggregate(
                where=_where(
                    Cond("status", "in", list(OPEN_STATUSES)),
                    Cond("team", "eq", team) if team is not None else None,
                    *age,
                ),
                group_by=(GroupKey("team"),),
            ),
        )
        for row in rows:
            counts[row["team"]][name] = row["count"]
    return tuple(
        Backlog(team_name, **buckets)
        for team_name, buckets in sorted(counts.items(), key=lambda i: (i[0] is None, i[0] or ""))
    )


class Reports:
    """The service report of one CRM (read only)."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    def report(
        self,
        *,
        period: str = "month",
        since: dt.date | None = None,
        until: dt.date | None = None,
        team: str | None = None,
    ) -> ServiceReport:
        """The report from ``since`` to ``until`` (inclusive UTC days; default: the last
        :data:`DEFAULT_SPAN` periods up to today) for ``team`` or every team."""
        if period not in PERIODS:
            raise ValidationError(
                "service.report", "period", f"{period!r} is not a period; use month or week"
            )
        if team is not None:
            team = service_settings(self.crm).team(team).name
        now = utcnow()
        last = until if until is not None else now.date()
        first = since if since is not None else default_since(last, period)
        if first > last:
            raise ValidationError(
                "service.report",
                "since",
                f"{first.isoformat()} is after {last.isoformat()}; give a since before until",
            )
        start, end = _midnight(first), _midnight(last + dt.timedelta(days=1))
        tally = _Tally()
        with self.crm.backend.read() as reader:
            reading = _Reading(self.crm, reader, tally, period, start, end, team)
            reading.opened()
            reading.first_responses()
            reading.resolutions()
            reading.feedback()
            backlog = _backlog(self.crm, reader, now, team)
        labels = period_labels(first, last, period)
        order = {label: i for i, label in enumerate(labels)}
        keys = sorted(
            (k for k in tally.seen() if k[0] in order),
            key=lambda k: (order[k[0]], k[1] is None, k[1] or ""),
        )
        rows = tuple(tally.figures([k], k[0], k[1]) for k in keys)
        totals = tuple(
            tally.figures([k for k in keys if k[0] == label], label, None) for label in labels
        )
        return ServiceReport(
            period=period,
            since=first,
            until=last,
            team=team,
            as_of=now,
            rows=rows,
            totals=totals,
            backlog=backlog,
        )
