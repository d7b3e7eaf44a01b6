"""Properties of the SLA clock for any ticket and calendar: a longer target is never due
earlier, and waiting on the customer never brings a deadline forward."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import attrs
from crmkit_service.calendar import Calendar, always_open, parse_ranges
from crmkit_service.entities import Ticket
from crmkit_service.settings import SlaPolicy
from crmkit_service.sla import clock_time, pause, remaining, resume, start_clock
from hypothesis import assume, given, settings
from hypothesis import strategies as st

UTC = dt.UTC


def _office(zone: str) -> Calendar:
    day = parse_ranges("09:00-12:30,13:30-17:30")
    week = dict.fromkeys(range(5), day)
    week[6] = parse_ranges("00:00-04:00")  # a Sunday night shift across the clock changes
    return Calendar(zone, ZoneInfo(zone), week, frozenset({dt.date(2026, 12, 25)}))


CALENDARS = [
    _office("Europe/London"),
    _office("America/New_York"),
    _office("Asia/Kolkata"),
    always_open(),
]
instants = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 20), timezones=st.just(UTC)
)
targets = st.timedeltas(min_value=dt.timedelta(minutes=1), max_value=dt.timedelta(hours=90))
gaps = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=9))

EXAMPLES = settings(max_examples=120, deadline=None)


def policy(calendar: Calendar, resolution: dt.timedelta) -> SlaPolicy:
    return SlaPolicy("standard/normal", calendar, dt.timedelta(minutes=30), resolution)


def opened(calendar: Calendar, at: dt.datetime, resolution: dt.timedelta) -> Ticket:
    fresh = Ticket(key="T-1", subject="Printer on fire")
    return attrs.evolve(fresh, **start_clock(fresh, policy(calendar, resolution), at))


@EXAMPLES
@given(st.sampled_from(CALENDARS), instants, targets, targets)
def test_a_longer_target_is_never_due_earlier(
    calendar: Calendar, at: dt.datetime, first: dt.timedelta, second: dt.timedelta
) -> None:
    shorter, longer = sorted((first, second))
    early, late = opened(calendar, at, shorter), opened(calendar, at, longer)
    assert early.resolution_due is not None and late.resolution_due is not None
    assert early.resolution_due <= late.resolution_due


@EXAMPLES
@given(st.sampled_from(CALENDARS), instants, targets, gaps, gaps)
def test_pausing_never_shortens_the_deadline(
    calendar: Calendar,
    at: dt.datetime,
    target: dt.timedelta,
    before_pause: dt.timedelta,
    paused_for: dt.timedelta,
) -> None:
    ticket = opened(calendar, at, target)
    due = ticket.resolution_due
    assert due is not None
    paused_at, resumed_at = at + before_pause, at + before_pause + paused_for
    paused = attrs.evolve(ticket, **pause(ticket, calendar, paused_at))
    state = remaining(paused, calendar, resumed_at).resolution
    assert state.state == "paused" and state.remaining is not None
    assert state.remaining >= dt.timedelta(0)
    resumed = attrs.evolve(paused, **resume(paused, calendar, resumed_at))
    assert resumed.resolution_due is not None
    assert resumed.resolution_due >= due
    if clock_time(paused_at) <= due and calendar.between(paused_at, resumed_at) == dt.timedelta(0):
        assert resumed.resolution_due == due


@EXAMPLES
@given(st.sampled_from(CALENDARS), instants, targets, gaps)
def test_a_pause_with_no_business_time_in_it_changes_nothing(
    calendar: Calendar, at: dt.datetime, target: dt.timedelta, before_pause: dt.timedelta
) -> None:
    # Pause and resume inside one closed stretch (or at one instant): the same deadline.
    ticket = opened(calendar, at, target)
    paused_at = at + before_pause
    assume(ticket.resolution_due is not None and clock_time(paused_at) <= ticket.resolution_due)
    resumed_at = calendar.next_open(paused_at)
    paused = attrs.evolve(ticket, **pause(ticket, calendar, paused_at))
    resumed = attrs.evolve(paused, **resume(paused, calendar, resumed_at))
    assert resumed.resolution_due == ticket.resolution_due


@EXAMPLES
@given(st.sampled_from(CALENDARS), instants, targets, gaps)
def test_time_left_plus_time_used_is_the_target(
    calendar: Calendar, at: dt.datetime, target: dt.timedelta, later: dt.timedelta
) -> None:
    whole = dt.timedelta(seconds=int(target.total_seconds()))
    ticket = opened(calendar, at, whole)
    now = at + later
    state = remaining(ticket, calendar, now).resolution
    assert state.remaining is not None
    used = calendar.between(clock_time(at), clock_time(now))
    assert state.remaining + used == whole
    assert (state.state == "breached") == (state.remaining < dt.timedelta(0))
