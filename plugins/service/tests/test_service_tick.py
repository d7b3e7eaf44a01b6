"""The SLA watch: warnings, breaches, escalation, idempotence (on SQLite and PostgreSQL).

Office calendar (London, UTC in winter): Mon-Thu 09:00-17:30, Fri 09:00-13:00 and
14:00-17:00. Standard urgent: first response 1h, resolution 8h; high: 4h/16h;
warnings 60 minutes of business time ahead. Escalation: a resolution breach of a
high or urgent ticket raises its priority, reassigns it to team-leads and notifies
the duty manager; a first response about to be missed notifies the duty manager.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from crmkit_service.tick import tick
from crmkit_service.tickets import Tickets

from crmkit.crm import CRM
from crmkit.errors import ValidationError
from crmkit.testing.clock import Clock


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment in January 2026, UTC (London time in winter)."""
    return dt.datetime(2026, 1, day, hour, minute, second, tzinfo=dt.UTC)


def sla_events(crm: CRM) -> list[tuple[str, str, Any]]:
    """(event name, ticket key, target or action) of the SLA and escalation events so far."""
    found = []
    for event in crm.events.read():
        if event.name in ("service.sla.warning", "service.sla.breached"):
            found.append(
                (event.name.rsplit(".", 1)[1], event.payload["key"], event.payload["target"])
            )
        elif event.name == "service.escalation.applied":
            found.append(("escalation", event.payload["key"], event.payload["action"]))
    return found


@pytest.fixture
def friday(crm: CRM, crmkit_clock: Clock) -> Tickets:
    """The clock on Friday 2026-01-02 16:30, half an hour before the office closes."""
    crmkit_clock.set(at(2, 16, 30))
    return Tickets(crm)


def test_a_breach_falls_at_the_exact_due_instant_across_the_weekend(
    crm: CRM, crmkit_clock: Clock, friday: Tickets
) -> None:
    ticket = friday.add("Server down", priority="urgent")
    # 30 minutes left on Friday, then Monday 09:00-09:30.
    assert ticket.first_response_due == at(5, 9, 30)

    first = tick(crm)
    assert (first.checked, first.warned, first.breached) == (1, 1, 0)
    assert sla_events(crm) == [
        ("warning", "T-1", "first_response"),
        ("escalation", "T-1", "notify:duty-manager"),
    ]

    crmkit_clock.set(at(3, 12))  # Saturday: closed, nothing new
    assert tick(crm).warned == 0
    crmkit_clock.set(at(5, 9, 29, 59))
    assert (tick(crm).breached, len(sla_events(crm))) == (0, 2)

    crmkit_clock.set(at(5, 9, 30))
    due = tick(crm)
    assert (due.warned, due.breached, due.escalations) == (0, 1, 0)
    assert sla_events(crm)[-1] == ("breached", "T-1", "first_response")
    stored = friday.get("T-1")
    assert stored.first_response_breached_at == at(5, 9, 30)
    assert stored.first_response_warned_at == at(2, 16, 30)
    assert stored.resolution_breached_at is None


def test_a_second_tick_raises_nothing_new_for_the_same_due(
    crm: CRM, crmkit_clock: Clock, friday: Tickets
) -> None:
    friday.add("Server down", priority="urgent")
    crmkit_clock.set(at(5, 9, 30))
    tick(crm)
    before = sla_events(crm)
    assert [e[0] for e in before] == ["breached"]  # no warning first: it was already due

    again = tick(crm)
    crmkit_clock.set(at(5, 11))
    later = tick(crm)
    assert (again.warned, again.breached, again.escalations) == (0, 0, 0)
    assert (later.warned, later.breached, later.escalations) == (0, 0, 0)
    assert sla_events(crm) == before


def test_warnings_then_breach_then_escalation_of_the_resolution(
    crm: CRM, crmkit_clock: Clock, friday: Tickets
) -> None:
    ticket = friday.add("Server down", priority="urgent", team="support")
    assert ticket.assignee == "ana"
    friday.reply("T-1", "Looking into it", author="ana")  # first response met
    # 8 business hours: 30 minutes on Friday, 7.5 on Monday.
    assert ticket.resolution_due == at(5, 16, 30)

    crmkit_clock.set(at(5, 15, 29))
    assert tick(crm).warned == 0  # 61 minutes left
    crmkit_clock.set(at(5, 15, 30))
    warned = tick(crm)
    assert (warned.warned, warned.escalations) == (1, 0)  # no rule for resolution warnings

    crmkit_clock.set(at(5, 16, 30))
    breached = tick(crm)
    assert (breached.breached, breached.escalations) == (1, 2)
    # Already urgent: raising the priority does nothing; it is reassigned and notified.
    assert sla_events(crm) == [
        ("warning", "T-1", "resolution"),
        ("breached", "T-1", "resolution"),
        ("escalation", "T-1", "reassign:team-leads"),
        ("escalation", "T-1", "notify:duty-manager"),
    ]
    stored = friday.get("T-1")
    assert (stored.team, stored.assignee, stored.priority) == ("team-leads", "lee", "urgent")
    assert breached.notices[0].escalations == ("reassign:team-leads", "notify:duty-manager")


def test_raise_priority_moves_one_step_and_keeps_the_due_times(
    crm: CRM, crmkit_clock: Clock
) -> None:
    crmkit_clock.set(at(5, 9))
    tickets = Tickets(crm)
    ticket = tickets.add("Slow pages", priority="high")
    tickets.reply(ticket.key, "On it", author="ben")
    # 16 business hours: Monday 8.5, Tuesday 7.5.
    assert ticket.resolution_due == at(6, 16, 30)

    crmkit_clock.set(at(6, 16, 30))
    report = tick(crm)
    assert report.escalations == 3
    stored = tickets.get(ticket.key)
    assert (stored.priority, stored.team, stored.assignee) == ("urgent", "team-leads", "lee")
    assert stored.sla_policy == "standard/high"
    assert stored.resolution_due == at(6, 16, 30)
    changed = [
        e.payload["changed"] for e in crm.events.read() if e.name == "service.ticket.updated"
    ]
    assert changed == [{"priority": ["high", "urgent"]}]


def test_low_and_normal_tickets_are_not_escalated_on_breach(crm: CRM, crmkit_clock: Clock) -> None:
    crmkit_clock.set(at(5, 9))
    tickets = Tickets(crm)
    tickets.add("Typo", priority="low")
    tickets.reply("T-1", "Thanks", author="ana")
    crmkit_clock.set(at(30, 9))
    report = tick(crm)
    assert (report.breached, report.escalations) == (1, 0)
    assert tickets.get("T-1").priority == "low"


def test_paused_tickets_never_breach_while_waiting(crm: CRM, crmkit_clock: Clock) -> None:
    crmkit_clock.set(at(5, 9))
    tickets = Tickets(crm)
    ticket = tickets.add("Need logs", priority="urgent")
    tickets.reply(ticket.key, "Please send the logs", author="ana")
    crmkit_clock.set(at(5, 10))
    tickets.set_status(ticket.key, "waiting")  # 7 business hours left

    crmkit_clock.set(at(20, 12))  # weeks later
    report = tick(crm)
    assert (report.checked, report.warned, report.breached) == (0, 0, 0)
    assert tickets.get(ticket.key).resolution_breached_at is None

    tickets.receive(ticket.key, "Here they are")  # resumes: due 7 business hours later
    resumed = tickets.get(ticket.key)
    assert resumed.resolution_due == at(21, 10, 30)
    assert tick(crm).checked == 1
    assert sla_events(crm) == []


def test_a_warning_stands_for_its_due_time_and_is_given_again_when_it_moved_away(
    crm: CRM, crmkit_clock: Clock
) -> None:
    crmkit_clock.set(at(5, 9))
    tickets = Tickets(crm)
    ticket = tickets.add("Flaky", priority="urgent")  # resolution due Monday 17:00
    tickets.reply(ticket.key, "Checking", author="ana")
    crmkit_clock.set(at(5, 16, 30))
    assert tick(crm).warned == 1  # 30 minutes left

    crmkit_clock.set(at(5, 16, 40))
    tickets.set_status(ticket.key, "waiting")  # 20 minutes left
    crmkit_clock.set(at(5, 16, 50))
    tickets.set_status(ticket.key, "open")
    assert tickets.get(ticket.key).resolution_due == at(5, 17, 10)
    assert tick(crm).warned == 0  # 40 minutes after the warning: it still stands

    crmkit_clock.set(at(5, 16, 55))
    tickets.set_status(ticket.key, "waiting")  # 15 minutes left
    crmkit_clock.set(at(6, 10))
    tickets.set_status(ticket.key, "open")
    assert tickets.get(ticket.key).resolution_due == at(6, 10, 15)
    again = tick(crm)  # the due time moved more than the window past the warning
    assert (again.warned, again.notices[0].target) == (1, "resolution")
    assert tickets.get(ticket.key).resolution_warned_at == at(6, 10)
    assert tick(crm).warned == 0


def test_one_failing_ticket_does_not_undo_the_others(
    sqlite_crm: CRM,
    service_crm_factory: Any,
    crmkit_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = copy.deepcopy(dict(sqlite_crm.settings.plugin("service")))
    settings["escalation"] = [
        {
            "when": "breach",
            "target": "first_response",
            "priorities": ["low"],
            "actions": ["reassign:team-leads"],
        },
    ]
    crm: CRM = service_crm_factory("sqlite", settings=settings)

    def refuse(*_: Any, **__: Any) -> None:
        raise ValidationError("service.ticket", "team", "team-leads is closed (nowhere to go)")

    monkeypatch.setattr("crmkit_service.tick.assign_ticket", refuse)
    crmkit_clock.set(at(5, 9))
    tickets = Tickets(crm)
    tickets.add("Will fail", priority="low")
    tickets.add("Will be marked", priority="normal")
    crmkit_clock.set(at(30, 9))

    report = tick(crm)
    assert (report.failed, report.breached) == (1, 2)  # T-2: first response and resolution
    assert report.failures[0].key == "T-1"
    assert "nowhere" in report.failures[0].error
    assert tickets.get("T-1").first_response_breached_at is None
    assert tickets.get("T-2").first_response_breached_at == at(30, 9)
    assert {key for _, key, _ in sla_events(crm)} == {"T-2"}
    assert tick(crm).failed == 1  # tried again next time


def test_tickets_without_an_sla_or_resolved_are_left_alone(crm: CRM, crmkit_clock: Clock) -> None:
    crmkit_clock.set(at(5, 9))
    tickets = Tickets(crm)
    tickets.add("No SLA", priority="low", tier="gold")  # gold has no low target
    done = tickets.add("Done", priority="urgent")
    tickets.set_status(done.key, "resolved")
    crmkit_clock.set(at(30, 9))
    report = tick(crm)
    assert (report.checked, report.warned, report.breached, report.failed) == (0, 0, 0, 0)


def test_sla_events_name_the_contact_but_stay_off_the_timeline(
    crm: CRM, crmkit_clock: Clock
) -> None:
    crmkit_clock.set(at(5, 9))
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    Tickets(crm).add("Help", contact=ada.id, priority="urgent")
    crmkit_clock.set(at(5, 10))
    tick(crm)
    [breach] = [e for e in crm.events.read() if e.name == "service.sla.breached"]
    assert breach.subject_id == ada.id
    assert breach.payload["due"] == at(5, 10).isoformat()
    kinds = [i.kind for i in crm.interactions.timeline(ada.id)]
    assert "sla.breached" not in kinds and "ticket.created" in kinds
