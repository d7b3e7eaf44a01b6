"""Business-hours arithmetic on concrete dates: weekends, lunch breaks, holidays, time zones,
daylight-saving changes and long targets."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from crmkit_service.calendar import Calendar, always_open, parse_ranges

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
H = dt.timedelta(hours=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def office() -> Calendar:
    """A London office: Mon-Thu 09:00-17:30, Friday with a lunch break, closed at Christmas."""
    long_day = parse_ranges("09:00-17:30")
    week = {0: long_day, 1: long_day, 2: long_day, 3: long_day}
    week[4] = parse_ranges("09:00-13:00,14:00-17:00")
    holidays = frozenset({dt.date(2026, 12, 25), dt.date(2026, 12, 26)})
    return Calendar("office", LONDON, week, holidays)


def weekdays(tz: ZoneInfo, hours: str, *, name: str = "cal", sunday: str | None = None) -> Calendar:
    ranges = parse_ranges(hours)
    week = dict.fromkeys(range(5), ranges)
    if sunday is not None:
        week[6] = parse_ranges(sunday)
    return Calendar(name, tz, week)


def sundays_only(tz: ZoneInfo, hours: str = "00:00-04:00") -> Calendar:
    return Calendar("night", tz, {6: parse_ranges(hours)})


# -- weekends, breaks, holidays ----------------------------------------------------------


def test_time_left_on_friday_carries_over_the_weekend() -> None:
    # Friday 2026-01-02 16:00 GMT: one hour left that day, three more on Monday.
    assert office().add(utc(2026, 1, 2, 16), 4 * H) == utc(2026, 1, 5, 12)


def test_the_friday_lunch_break_is_not_business_time() -> None:
    cal = office()
    assert cal.add(utc(2026, 1, 2, 12, 30), H) == utc(2026, 1, 2, 14, 30)
    assert cal.between(utc(2026, 1, 2, 12), utc(2026, 1, 2, 15)) == 2 * H
    assert not cal.is_open(utc(2026, 1, 2, 13, 30))
    assert cal.next_open(utc(2026, 1, 2, 13, 30)) == utc(2026, 1, 2, 14)


def test_holidays_are_closed_all_day() -> None:
    # Thursday 2026-12-24 17:00: half an hour left; Friday 25th is a holiday; Monday 28th.
    cal = office()
    assert cal.add(utc(2026, 12, 24, 17), H) == utc(2026, 12, 28, 9, 30)
    assert cal.between(utc(2026, 12, 25), utc(2026, 12, 28)) == dt.timedelta(0)
    assert not cal.is_open(utc(2026, 12, 25, 11))


def test_a_start_before_opening_counts_from_opening() -> None:
    assert office().add(utc(2026, 1, 5, 7), dt.timedelta(minutes=30)) == utc(2026, 1, 5, 9, 30)


def test_a_target_ending_at_closing_time_is_due_at_closing_not_next_morning() -> None:
    cal = office()
    assert cal.add(utc(2026, 1, 5, 9), dt.timedelta(hours=8, minutes=30)) == utc(2026, 1, 5, 17, 30)


def test_zero_business_time_is_the_start_itself_even_when_closed() -> None:
    saturday = utc(2026, 1, 3, 10, 15)
    assert office().add(saturday, dt.timedelta(0)) == saturday
    assert office().add(saturday, dt.timedelta(seconds=1)) == utc(2026, 1, 5, 9, 0, 1)


def test_between_counts_business_time_only_and_never_negative() -> None:
    cal = office()
    assert cal.between(utc(2026, 1, 2, 16), utc(2026, 1, 5, 10)) == 2 * H
    assert cal.between(utc(2026, 1, 5, 10), utc(2026, 1, 2, 16)) == dt.timedelta(0)
    assert cal.between(utc(2026, 1, 3), utc(2026, 1, 4, 23)) == dt.timedelta(0)


def test_a_target_longer_than_a_week() -> None:
    # The office has 41 business hours a week: 400 h is nine weeks and 31 h.
    cal = office()
    start = utc(2026, 1, 5, 9)
    due = cal.add(start, 400 * H)
    assert due == utc(2026, 3, 12, 14, 30)
    assert cal.between(start, due) == 400 * H


def test_the_built_in_calendar_is_always_open() -> None:
    cal = always_open()
    start = utc(2026, 1, 3, 22, 17, 5)
    assert cal.add(start, 400 * H) == start + 400 * H
    assert cal.between(start, start + 400 * H) == 400 * H
    assert cal.is_open(start)


# -- time zones ------------------------------------------------------------------------------


def test_hours_are_local_to_the_calendar_time_zone() -> None:
    # New York 09:00-17:00 in January is 14:00-22:00 UTC.
    cal = weekdays(NEW_YORK, "09:00-17:00")
    assert cal.next_open(utc(2026, 1, 5, 9)) == utc(2026, 1, 5, 14)
    assert cal.add(utc(2026, 1, 5, 21), 2 * H) == utc(2026, 1, 6, 15)


def test_a_half_hour_offset_zone() -> None:
    # Kolkata is UTC+05:30 all year: 09:30 IST is 04:00 UTC.
    cal = weekdays(KOLKATA, "09:30-18:00")
    assert cal.add(utc(2026, 1, 5, 3), H) == utc(2026, 1, 5, 5)
    # Friday 17:00 IST (11:30 UTC), two hours: one on Friday, one on Monday until 10:30 IST.
    assert cal.add(utc(2026, 1, 9, 11, 30), 2 * H) == utc(2026, 1, 12, 5)
    assert cal.between(utc(2026, 1, 9, 11, 30), utc(2026, 1, 12, 5)) == 2 * H


# -- daylight saving -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        (LONDON, dt.date(2026, 3, 29), 3),  # clocks go forward 01:00 -> 02:00
        (LONDON, dt.date(2026, 10, 25), 5),  # clocks go back 02:00 -> 01:00
        (NEW_YORK, dt.date(2026, 3, 8), 3),  # 02:00 -> 03:00
        (NEW_YORK, dt.date(2026, 11, 1), 5),  # 02:00 -> 01:00
        (NEW_YORK, dt.date(2026, 3, 15), 4),  # an ordinary Sunday
    ],
)
def test_a_business_day_spanning_a_clock_change_has_its_real_length(
    tz: ZoneInfo, day: dt.date, hours: int
) -> None:
    cal = sundays_only(tz)
    opens = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(UTC)
    assert cal.between(opens - 24 * H, opens + 48 * H) == hours * H
    assert cal.add(opens - 24 * H, hours * H) == opens + hours * H


def test_spring_forward_in_new_york_keeps_local_hours() -> None:
    # Friday 2026-03-06 16:00 EST (21:00 UTC) plus 2 h: one hour on Friday, then Monday
    # 09:00-10:00 EDT, which is 13:00-14:00 UTC after the change.
    cal = weekdays(NEW_YORK, "09:00-17:00")
    assert cal.add(utc(2026, 3, 6, 21), 2 * H) == utc(2026, 3, 9, 14)


def test_autumn_change_in_london_keeps_local_hours() -> None:
    # Friday 2026-10-23 16:00 BST (15:00 UTC) plus 2 h: one hour Friday, Monday 09:00-10:00 GMT.
    assert office().add(utc(2026, 10, 23, 15), 2 * H) == utc(2026, 10, 26, 10)


def test_a_range_starting_at_a_skipped_local_time_starts_after_the_change() -> None:
    # 02:30 does not exist in New York on 2026-03-08; read with the offset before the
    # change it is 07:30 UTC (03:30 EDT), so 02:30-04:00 holds half an hour.
    cal = sundays_only(NEW_YORK, "02:30-04:00")
    assert cal.next_open(utc(2026, 3, 8)) == utc(2026, 3, 8, 7, 30)
    assert cal.between(utc(2026, 3, 8), utc(2026, 3, 9)) == dt.timedelta(minutes=30)


def test_a_repeated_local_time_means_its_first_occurrence() -> None:
    # 01:30 happens twice in New York on 2026-11-01; the range opens at the first (EDT).
    cal = sundays_only(NEW_YORK, "01:30-02:00")
    assert cal.next_open(utc(2026, 11, 1)) == utc(2026, 11, 1, 5, 30)
    assert cal.between(utc(2026, 11, 1), utc(2026, 11, 2)) == dt.timedelta(hours=1, minutes=30)


def test_a_range_to_midnight() -> None:
    cal = sundays_only(LONDON, "20:00-24:00")
    assert cal.add(utc(2026, 1, 4, 12), 4 * H) == utc(2026, 1, 5)
    assert cal.between(utc(2026, 1, 4), utc(2026, 1, 5, 12)) == 4 * H


# -- bad input ---------------------------------------------------------------------------------


def test_naive_datetimes_and_negative_durations_are_refused() -> None:
    cal = office()
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add(dt.datetime(2026, 1, 5, 9), H)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.between(utc(2026, 1, 5), dt.datetime(2026, 1, 6))
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.is_open(dt.datetime(2026, 1, 5))
    with pytest.raises(ValueError, match="negative"):
        cal.add(utc(2026, 1, 5), -H)


def test_a_calendar_with_no_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="never open"):
        Calendar("closed", LONDON, {})


def test_a_calendar_closed_for_years_stops_instead_of_searching_forever() -> None:
    # Open on Sundays only, and every Sunday from here on is a holiday.
    first = dt.date(2026, 1, 4)
    holidays = frozenset(first + dt.timedelta(weeks=n) for n in range(200))
    cal = Calendar("gone", LONDON, {6: parse_ranges("09:00-10:00")}, holidays)
    with pytest.raises(ValueError, match="no business hours"):
        cal.add(utc(2026, 1, 1), H)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:00-08:00", "ends before it starts"),
        ("09:00-12:00,11:00-13:00", "overlap"),
        ("9-17", "not a range|not a time"),
        ("09:00", "not a range"),
        ("25:00-26:00", "not a time"),
    ],
)
def test_bad_opening_ranges_are_explained(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ranges(text)


def test_ranges_parse_in_order_with_midnight_as_end() -> None:
    assert parse_ranges("14:00-17:00, 09:00-13:00") == (
        (dt.time(9), dt.time(13)),
        (dt.time(14), dt.time(17)),
    )
    assert parse_ranges("20:00-24:00") == ((dt.time(20), dt.time(0)),)
