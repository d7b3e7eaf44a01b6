"""The SLA clock: due times from the policy, pausing while waiting on the customer, what is
left, and a ticket's clock surviving a round trip through SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from crmkit_service.entities import Ticket
from crmkit_service.settings import ServiceSettings, service_settings
from crmkit_service.sla import calendar_of, pause, policy_of, remaining, resume, start_clock

from crmkit.crm import CRM
from crmkit.testing.clock import Clock

UTC = dt.UTC
H = dt.timedelta(hours=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def ticket(**fields: Any) -> Ticket:
    return Ticket(key="T-1", subject="Printer on fire", **fields)


def started(settings: ServiceSettings, at: dt.datetime, **fields: Any) -> Ticket:
    opened = ticket(**fields)
    policy = settings.policy(opened.tier, opened.priority)
    return attrs.evolve(opened, **start_clock(opened, policy, at))


def test_due_times_count_office_hours_of_the_tier_and_priority(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    # Friday 2026-01-02 16:00 GMT, urgent: 1 h first response (Friday 17:00), 8 h resolution
    # (1 h Friday, 7 h Monday until 16:00).
    urgent = started(settings, utc(2026, 1, 2, 16), priority="urgent")
    assert urgent.sla_policy == "standard/urgent"
    assert urgent.first_response_due == utc(2026, 1, 2, 17)
    assert urgent.resolution_due == utc(2026, 1, 5, 16)


def test_the_gold_tier_runs_around_the_clock(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    gold = started(settings, utc(2026, 1, 3, 22), tier="gold", priority="urgent")
    assert gold.sla_policy == "gold/urgent"
    assert gold.first_response_due == utc(2026, 1, 3, 22, 30)
    assert gold.resolution_due == utc(2026, 1, 4, 2)


def test_an_unknown_tier_uses_standard_and_a_missing_priority_has_no_sla(
    sqlite_crm: CRM,
) -> None:
    settings = service_settings(sqlite_crm)
    platinum = started(settings, utc(2026, 1, 5, 9), tier="platinum", priority="high")
    assert platinum.sla_policy == "standard/high"
    low_gold = started(settings, utc(2026, 1, 5, 9), tier="gold", priority="low")
    assert (low_gold.sla_policy, low_gold.first_response_due, low_gold.resolution_due) == (
        None,
        None,
        None,
    )
    state = remaining(low_gold, calendar_of(settings, low_gold), utc(2026, 1, 6))
    assert (state.first_response.state, state.resolution.state) == ("none", "none")


def test_instants_are_counted_in_whole_seconds(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    opened = started(settings, dt.datetime(2026, 1, 5, 9, 0, 0, 999_999, tzinfo=UTC))
    assert opened.first_response_due == utc(2026, 1, 5, 17)


def test_waiting_on_the_customer_pauses_the_resolution_clock(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    cal = settings.calendar("office")
    opened = started(settings, utc(2026, 1, 5, 9), priority="high")  # 16 h: Tue 16:30
    assert opened.resolution_due == utc(2026, 1, 6, 16, 30)
    # Paused Monday 10:00 with 15 h left; resumed Wednesday 09:00: due Thursday 15:30.
    paused = attrs.evolve(opened, **pause(opened, cal, utc(2026, 1, 5, 10)))
    assert paused.paused_at == utc(2026, 1, 5, 10)
    assert paused.resolution_remaining == 15 * 3600
    assert paused.resolution_due is None
    state = remaining(paused, cal, utc(2026, 1, 5, 11))
    assert (state.resolution.state, state.resolution.due) == ("paused", None)
    assert state.resolution.remaining == 15 * H
    assert (state.first_response.state, state.first_response.remaining) == ("running", 2 * H)
    assert remaining(paused, cal, utc(2026, 1, 7, 12)).resolution.remaining == 15 * H
    resumed = attrs.evolve(paused, **resume(paused, cal, utc(2026, 1, 7, 9)))
    assert resumed.resolution_due == utc(2026, 1, 8, 15, 30)
    assert (resumed.paused_at, resumed.resolution_remaining) == (None, None)


def test_a_pause_outside_office_hours_gives_back_the_same_deadline(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    cal = settings.calendar("office")
    opened = started(settings, utc(2026, 1, 2, 16), priority="high")
    paused = attrs.evolve(opened, **pause(opened, cal, utc(2026, 1, 2, 18)))
    resumed = attrs.evolve(paused, **resume(paused, cal, utc(2026, 1, 5, 8, 59)))
    assert resumed.resolution_due == opened.resolution_due


def test_pausing_twice_or_resuming_a_running_clock_changes_nothing(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    cal = settings.calendar("office")
    opened = started(settings, utc(2026, 1, 5, 9))
    assert resume(opened, cal, utc(2026, 1, 5, 10)) == {}
    paused = attrs.evolve(opened, **pause(opened, cal, utc(2026, 1, 5, 10)))
    assert pause(paused, cal, utc(2026, 1, 5, 11)) == {}


def test_a_ticket_paused_after_its_deadline_has_nothing_left(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    cal = settings.calendar("office")
    opened = started(settings, utc(2026, 1, 5, 9), priority="urgent")  # due 17:00
    paused = attrs.evolve(opened, **pause(opened, cal, utc(2026, 1, 6, 12)))
    assert paused.resolution_remaining == 0
    resumed = attrs.evolve(paused, **resume(paused, cal, utc(2026, 1, 7, 12)))
    assert resumed.resolution_due == utc(2026, 1, 7, 12)


def test_remaining_business_time_running_met_and_breached(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    cal = settings.calendar("office")
    opened = started(settings, utc(2026, 1, 5, 9), priority="urgent")  # 10:00 / 17:00
    early = remaining(opened, cal, utc(2026, 1, 5, 9, 20))
    assert (early.first_response.state, early.first_response.remaining) == (
        "running",
        dt.timedelta(minutes=40),
    )
    assert early.first_response.near_breach(H)
    assert not early.resolution.near_breach(H)
    at_due = remaining(opened, cal, utc(2026, 1, 5, 10))
    assert (at_due.first_response.state, at_due.first_response.remaining) == ("running", 0 * H)
    # Tuesday 10:00: the resolution is 90 business minutes late (17:00-17:30, 09:00-10:00).
    late = remaining(opened, cal, utc(2026, 1, 6, 10))
    assert late.resolution.state == "breached"
    assert late.resolution.remaining == -(dt.timedelta(minutes=30) + H)
    answered = attrs.evolve(opened, first_responded_at=utc(2026, 1, 5, 9, 45))
    met = remaining(answered, cal, utc(2026, 1, 6, 10)).first_response
    assert (met.state, met.remaining) == ("met", dt.timedelta(minutes=15))
    slow = attrs.evolve(opened, first_responded_at=utc(2026, 1, 5, 11))
    assert remaining(slow, cal, utc(2026, 1, 5, 12)).first_response.state == "breached"
    resolved = attrs.evolve(opened, resolved_at=utc(2026, 1, 5, 16))
    assert remaining(resolved, cal, utc(2026, 1, 9)).resolution.as_dict() == {
        "state": "met",
        "due": "2026-01-05T17:00:00+00:00",
        "remaining_seconds": 3600,
    }


def test_a_breach_stamped_by_tick_stays_a_breach(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    cal = settings.calendar("office")
    opened = started(settings, utc(2026, 1, 5, 9), priority="urgent")
    stamped = attrs.evolve(opened, resolution_breached_at=utc(2026, 1, 5, 17))
    later = attrs.evolve(stamped, resolved_at=utc(2026, 1, 5, 16))
    assert remaining(later, cal, utc(2026, 1, 6)).resolution.state == "breached"
    paused = attrs.evolve(stamped, **pause(stamped, cal, utc(2026, 1, 6, 10)))
    assert remaining(paused, cal, utc(2026, 1, 6, 11)).resolution.state == "breached"


def test_restarting_the_clock_keeps_a_first_response_already_made(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    opened = started(settings, utc(2026, 1, 5, 9), priority="normal")
    answered = attrs.evolve(opened, first_responded_at=utc(2026, 1, 5, 9, 30), priority="urgent")
    changes = start_clock(answered, settings.policy("standard", "urgent"), utc(2026, 1, 5, 11))
    assert changes["first_response_due"] == opened.first_response_due
    assert changes["resolution_due"] == utc(2026, 1, 6, 10, 30)
    assert changes["sla_policy"] == "standard/urgent"
    waiting = attrs.evolve(answered, paused_at=utc(2026, 1, 5, 10))
    paused = start_clock(waiting, settings.policy("standard", "urgent"), utc(2026, 1, 5, 11))
    assert (paused["resolution_due"], paused["resolution_remaining"]) == (None, 8 * 3600)


def test_the_policy_named_on_the_ticket_wins_over_its_current_priority(sqlite_crm: CRM) -> None:
    settings = service_settings(sqlite_crm)
    opened = started(settings, utc(2026, 1, 5, 9), tier="gold", priority="urgent")
    moved = attrs.evolve(opened, priority="normal")
    found = policy_of(settings, moved)
    assert found is not None and found.name == "gold/urgent"
    assert calendar_of(settings, moved).name == "24x7"
    assert calendar_of(settings, ticket(tier="gold", priority="low")).name == "24x7"
    assert calendar_of(settings, ticket(priority="low")).name == "office"


def test_a_ticket_clock_survives_the_database(crm: CRM, crmkit_clock: Clock) -> None:
    settings = service_settings(crm)
    etype = crm.entity_type("service.ticket")
    crmkit_clock.set(utc(2026, 1, 2, 16, 0, 0))
    opened = started(settings, crmkit_clock.now, priority="high")
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(opened))
    cal = settings.calendar("office")
    changes = pause(opened, cal, crmkit_clock.advance(hours=17, minutes=30))  # Sat 09:30
    with crm.unit_of_work() as uow:
        uow.tx.update(etype, opened.id, changes)
    with crm.unit_of_work() as uow:
        row = uow.tx.get(etype, opened.id)
    assert row is not None
    stored = Ticket(**row)
    assert stored.paused_at == utc(2026, 1, 3, 9, 30)
    assert stored.resolution_remaining == 15 * 3600
    state = remaining(stored, cal, crmkit_clock.advance(days=2))
    assert (state.resolution.state, state.resolution.remaining) == ("paused", 15 * H)
    resumed = resume(stored, cal, crmkit_clock.now)  # Monday 09:30: due Tuesday 16:00
    with crm.unit_of_work() as uow:
        uow.tx.update(etype, opened.id, resumed)
        row = uow.tx.get(etype, opened.id)
    assert row is not None
    again = Ticket(**row)
    assert again.resolution_due == utc(2026, 1, 6, 16)
    assert again.resolution_due == cal.add(utc(2026, 1, 5, 9, 30), 15 * H)
