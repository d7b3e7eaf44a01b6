"""Properties of business-hours arithmetic that must hold for every calendar, start and
duration: ``add`` and ``between`` are inverse, and ``add`` never goes back in time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from crmkit_service.calendar import Calendar, OpeningRange, always_open
from hypothesis import given, settings
from hypothesis import strategies as st

UTC = dt.UTC
ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]
# Instants near the 2026 clock changes of London and New York, where mistakes hide.
CHANGES = [
    dt.datetime(2026, 3, 8, 7, tzinfo=UTC),
    dt.datetime(2026, 3, 29, 1, tzinfo=UTC),
    dt.datetime(2026, 10, 25, 1, tzinfo=UTC),
    dt.datetime(2026, 11, 1, 6, tzinfo=UTC),
]


@st.composite
def day_ranges(draw: st.DrawFn) -> tuple[OpeningRange, ...]:
    """One to three non-overlapping local ranges on a quarter-hour grid (maybe to 24:00)."""
    marks = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=6)))
    if len(marks) % 2:
        marks = marks[:-1]
    ranges = []
    for start, end in zip(marks[::2], marks[1::2], strict=True):
        ranges.append((_quarter(start), _quarter(end)))
    return tuple(ranges)


def _quarter(n: int) -> dt.time:
    return dt.time(0) if n == 96 else dt.time(n // 4, n % 4 * 15)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    """The always-open calendar, or some weekdays with random hours in a real zone."""
    if draw(st.booleans()) and draw(st.booleans()):
        return always_open()
    days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    week = {day: draw(day_ranges()) for day in days}
    holidays = draw(
        st.frozensets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), max_size=20)
    )
    return Calendar("drawn", ZoneInfo(draw(st.sampled_from(ZONES))), week, holidays)


plain_instants = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 31), timezones=st.just(UTC)
)
near_changes = st.builds(
    lambda at, shift: at + shift,
    st.sampled_from(CHANGES),
    st.timedeltas(min_value=dt.timedelta(days=-2), max_value=dt.timedelta(days=2)),
)
instants = st.one_of(plain_instants, near_changes)
durations = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=120))

EXAMPLES = settings(max_examples=150, deadline=None)


@EXAMPLES
@given(calendars(), instants, durations)
def test_between_undoes_add(cal: Calendar, start: dt.datetime, duration: dt.timedelta) -> None:
    due = cal.add(start, duration)
    assert due >= start
    assert cal.between(start, due) == duration


@EXAMPLES
@given(calendars(), instants, durations, durations)
def test_add_is_monotonic_in_the_duration(
    cal: Calendar, start: dt.datetime, first: dt.timedelta, second: dt.timedelta
) -> None:
    shorter, longer = sorted((first, second))
    assert cal.add(start, shorter) <= cal.add(start, longer)


@EXAMPLES
@given(calendars(), instants, instants, durations)
def test_add_is_monotonic_in_the_start(
    cal: Calendar, first: dt.datetime, second: dt.datetime, duration: dt.timedelta
) -> None:
    earlier, later = sorted((first, second))
    assert cal.add(earlier, duration) <= cal.add(later, duration)


@EXAMPLES
@given(calendars(), instants, instants, instants)
def test_between_adds_up_over_consecutive_spans(
    cal: Calendar, a: dt.datetime, b: dt.datetime, c: dt.datetime
) -> None:
    first, middle, last = sorted((a, b, c))
    assert cal.between(first, middle) + cal.between(middle, last) == cal.between(first, last)


@EXAMPLES
@given(calendars(), instants, durations)
def test_a_positive_target_falls_due_inside_or_at_the_end_of_opening_hours(
    cal: Calendar, start: dt.datetime, duration: dt.timedelta
) -> None:
    due = cal.add(start, duration + dt.timedelta(microseconds=1))
    just_before = due - dt.timedelta(microseconds=1)
    assert cal.is_open(just_before)
    assert cal.next_open(just_before) == just_before
