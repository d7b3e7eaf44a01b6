"""Business-hours arithmetic: how much opening time lies between two instants, and when a
given amount of it has passed.

A :class:`Calendar` says when the desk is open: for each weekday, one or more
local wall-clock ranges (``09:00-13:00,14:00-17:00``), in one time zone, minus
holidays (local dates). SLA targets are amounts of that business time, so a
ticket opened on Friday at 16:00 with four business hours to go is due on
Monday at noon, and a day on which the clocks change is as long as its ranges
really are: a calendar open 00:00-04:00 on the Sunday of a spring-forward
change gives three hours of business time, on the autumn change five.

How local times become instants. Each range is laid on each date in the
calendar's zone and converted to UTC with :mod:`zoneinfo`'s rules for
``fold=0`` (PEP 495): a local time that does not exist (skipped by a
spring-forward change, such as 02:30 in New York on 2026-03-08) is read with
the offset in force before the change, so it lands as far after the change as
it was after the last valid time (02:30 becomes 03:30 daylight time); a local
time that happens twice (on the autumn change) means its first occurrence. A
range whose end is ``24:00`` (stored as ``time(0)`` in the end position) runs
to the following midnight. Ranges that would overlap once converted (possible
only around a change) are clipped so business time is never counted twice.

The arithmetic walks the open periods day by day, never minute by minute: a
target of hundreds of business hours costs a few hundred small steps.
:meth:`Calendar.add` and :meth:`Calendar.between` are exact inverses,
``between(s, add(s, d)) == d``, to the microsecond.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping
from zoneinfo import ZoneInfo

import attrs

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = dt.time(0)
UTC = dt.UTC
MAX_CLOSED_DAYS = 800
"""How many days in a row a calendar may be closed before arithmetic gives up on it."""

OpeningRange = tuple[dt.time, dt.time]
"""A local ``(start, end)``; an end of ``time(0)`` means midnight at the end of the day."""


def _require_aware(value: dt.datetime, what: str) -> dt.datetime:
    """``value`` in UTC; a naive datetime is refused (its instant would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{what} must be a timezone-aware datetime, not {value!r}; add tzinfo=datetime.UTC"
        )
    return value.astimezone(UTC)


def _range_is_valid(start: dt.time, end: dt.time) -> bool:
    return end == MIDNIGHT or start < end


@attrs.frozen
class Calendar:
    """When a desk is open: weekly local ranges in a time zone, minus holiday dates.

    ``week`` maps a weekday (0 Monday ... 6 Sunday) to its opening ranges;
    a weekday absent from it is closed. ``holidays`` are local dates on which
    the desk is closed all day.
    """

    name: str
    tz: ZoneInfo
    week: Mapping[int, tuple[OpeningRange, ...]]
    holidays: frozenset[dt.date] = frozenset()

    def __attrs_post_init__(self) -> None:
        for day, ranges in self.week.items():
            if day not in range(7):
                raise ValueError(f"calendar {self.name}: weekday {day} is not 0 (Mon) to 6 (Sun)")
            for start, end in ranges:
                if not _range_is_valid(start, end):
                    raise ValueError(
                        f"calendar {self.name}: range {start:%H:%M}-{end:%H:%M} on "
                        f"{WEEKDAYS[day]} ends before it starts; write ranges as HH:MM-HH:MM "
                        "within one day (24:00 for midnight at the end)"
                    )
        if not any(self.week.values()):
            raise ValueError(
                f"calendar {self.name} is never open; give at least one weekday some hours"
            )

    # -- open periods -------------------------------------------------------------------

    def periods_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open periods of local date ``day`` as UTC ``[start, end)`` pairs, in order."""
        if day in self.holidays:
            return []
        periods = []
        for start, end in sorted(self.week.get(day.weekday(), ())):
            begin = dt.datetime.combine(day, start, tzinfo=self.tz).astimezone(UTC)
            end_day = day + dt.timedelta(days=1) if end == MIDNIGHT else day
            finish = dt.datetime.combine(end_day, end, tzinfo=self.tz).astimezone(UTC)
            if finish > begin:
                periods.append((begin, finish))
        return periods

    def _periods_from(self, at: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open periods ending after ``at`` (UTC), clipped to start no earlier than ``at``.

        Periods come in time order and never overlap. Raises ``ValueError``
        when the calendar stays closed for :data:`MAX_CLOSED_DAYS` days (say,
        every remaining open day listed as a holiday).
        """
        day = at.astimezone(self.tz).date() - dt.timedelta(days=1)
        floor = at
        closed_days = 0
        while True:
            found = False
            for begin, finish in self.periods_on(day):
                begin = max(begin, floor)
                if finish > begin:
                    found = True
                    floor = finish
                    yield begin, finish
            closed_days = 0 if found else closed_days + 1
            if closed_days > MAX_CLOSED_DAYS:
                raise ValueError(
                    f"calendar {self.name} has no business hours in the {MAX_CLOSED_DAYS} days "
                    f"after {day - dt.timedelta(days=closed_days)}; check its hours and holidays"
                )
            day += dt.timedelta(days=1)

    # -- the arithmetic -----------------------------------------------------------------

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The instant (aware UTC) at which ``duration`` of business time has passed after
        ``start``.

        A zero duration gives ``start`` itself (in UTC), whether or not the
        desk is open then: no business time needs to pass. A positive
        duration that runs out exactly at the end of an open period gives that
        end, not the start of the next period. Raises ``ValueError`` for a
        naive ``start`` or a negative duration.
        """
        at = _require_aware(start, "start")
        if duration < dt.timedelta(0):
            raise ValueError(f"business time to add must not be negative, not {duration}")
        if not duration:
            return at
        left = duration
        for begin, finish in self._periods_from(at):
            span = finish - begin
            if left <= span:
                return begin + left
            left -= span
        raise AssertionError("unreachable: _periods_from never ends")  # pragma: no cover

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """The business time in ``[start, end)``; zero when ``end`` is not after ``start``."""
        begin_at = _require_aware(start, "start")
        end_at = _require_aware(end, "end")
        total = dt.timedelta(0)
        if end_at <= begin_at:
            return total
        for begin, finish in self._periods_from(begin_at):
            if begin >= end_at:
                break
            total += min(finish, end_at) - begin
        return total

    def is_open(self, at: dt.datetime) -> bool:
        """Whether the desk is open at instant ``at`` (periods include their start only)."""
        moment = _require_aware(at, "at")
        begin, _ = next(self._periods_from(moment))
        return begin == moment

    def next_open(self, at: dt.datetime) -> dt.datetime:
        """``at`` (in UTC) if the desk is open then, else the start of its next open period."""
        moment = _require_aware(at, "at")
        begin, _ = next(self._periods_from(moment))
        return begin


def always_open(name: str = "24x7") -> Calendar:
    """The built-in ``24x7`` calendar: open every hour of every day, in UTC."""
    whole_day: tuple[OpeningRange, ...] = ((MIDNIGHT, MIDNIGHT),)
    return Calendar(name, ZoneInfo("UTC"), dict.fromkeys(range(7), whole_day))


def parse_ranges(text: str) -> tuple[OpeningRange, ...]:
    """``"09:00-13:00,14:00-17:00"`` as ranges; ``24:00`` as an end means midnight.

    Raises ``ValueError`` naming the part that is wrong and the expected form.
    Ranges of one day must not overlap.
    """
    ranges: list[OpeningRange] = []
    for part in text.split(","):
        start_text, sep, end_text = part.strip().partition("-")
        if not sep:
            raise ValueError(f"{part.strip()!r} is not a range; write HH:MM-HH:MM")
        start = _clock_time(start_text, end=False)
        end = _clock_time(end_text, end=True)
        if not _range_is_valid(start, end):
            raise ValueError(f"{part.strip()!r} ends before it starts")
        ranges.append((start, end))
    ranges.sort()
    for (_, first_end), (second_start, _) in itertools.pairwise(ranges):
        if first_end == MIDNIGHT or second_start < first_end:
            raise ValueError(f"ranges in {text!r} overlap; list each opening hour once")
    return tuple(ranges)


def _clock_time(text: str, *, end: bool) -> dt.time:
    text = text.strip()
    if end and text == "24:00":
        return MIDNIGHT
    try:
        hours, minutes = text.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(text)
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time of day; write HH:MM (00:00 to 23:59, or 24:00 as an end)"
        ) from None
