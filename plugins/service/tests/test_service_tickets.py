"""Tickets: keys, SLA clocks, the thread, status moves (on SQLite and PostgreSQL).

The clock starts on Thursday 2026-01-01 12:00 UTC (12:00 in London, inside the
``office`` calendar: Mon-Thu 09:00-17:30, Fri 09:00-13:00 and 14:00-17:00).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from crmkit_service.entities import STATUSES
from crmkit_service.tickets import TRANSITIONS, Tickets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.crm import CRM
from crmkit.errors import NotFound, ValidationError
from crmkit.testing.clock import Clock


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in January 2026, UTC (London time in winter)."""
    return dt.datetime(2026, 1, day, hour, minute, tzinfo=dt.UTC)


def event_names(crm: CRM, prefix: str = "service.") -> list[str]:
    return [e.name for e in crm.events.read() if e.name.startswith(prefix)]


@pytest.fixture
def tickets(crm: CRM, crmkit_clock: Clock) -> Tickets:
    return Tickets(crm)


def test_keys_count_up_from_one_and_find_tickets_by_key_or_id(tickets: Tickets) -> None:
    opened = [tickets.add(f"Question {n}") for n in range(1, 4)]
    assert [t.key for t in opened] == ["T-1", "T-2", "T-3"]
    assert tickets.get("T-2").subject == "Question 2"
    assert tickets.get("t-3").id == opened[2].id
    assert tickets.get(opened[0].id).key == "T-1"
    with pytest.raises(NotFound, match="T-9"):
        tickets.get("T-9")


def test_keys_continue_after_the_tenth_ticket(tickets: Tickets) -> None:
    for n in range(11):
        tickets.add(f"Question {n}")
    assert tickets.add("Twelfth").key == "T-12"


def test_sla_dues_follow_the_policy_and_the_office_calendar(tickets: Tickets) -> None:
    ticket = tickets.add("Login fails", priority="normal")
    assert ticket.sla_policy == "standard/normal"
    # 8 business hours: Thu 12:00-17:30 (5.5h), then Fri 09:00-11:30.
    assert ticket.first_response_due == at(2, 11, 30)
    # 40 business hours: Thu 5.5 + Fri 7 + Mon 8.5 + Tue 8.5 + Wed 8.5 = 38, Thu 09:00 + 2h.
    assert ticket.resolution_due == at(8, 11)
    assert tickets.get(ticket.key).resolution_due == at(8, 11)


def test_gold_tier_runs_around_the_clock_and_a_missing_priority_has_no_sla(
    tickets: Tickets,
) -> None:
    urgent = tickets.add("Outage", priority="urgent", tier="gold")
    assert urgent.sla_policy == "gold/urgent"
    assert (urgent.first_response_due, urgent.resolution_due) == (at(1, 12, 30), at(1, 16))
    low = tickets.add("Typo on website", priority="low", tier="gold")
    assert (low.sla_policy, low.first_response_due, low.resolution_due) == (None, None, None)
    assert tickets.show(low.key).sla.resolution.state == "none"


@pytest.fixture(params=["sqlite", "postgresql"])
def tiered_crm(request: pytest.FixtureRequest, service_crm_factory: Any) -> CRM:
    """A CRM whose contacts have a ``tier`` custom field."""
    schema = {"contact": {"properties": {"tier": {"type": "string"}}}}
    crm: CRM = service_crm_factory(request.param, custom_fields=schema)
    return crm


def test_the_tier_comes_from_the_contact(tiered_crm: CRM, crmkit_clock: Clock) -> None:
    ada = tiered_crm.contacts.add(
        first_name="Ada", email="ada@example.com", custom={"tier": "gold"}
    )
    tiered_crm.contacts.add(first_name="Bob", email="bob@example.com")
    tickets = Tickets(tiered_crm)
    gold = tickets.add("Outage", contact="ada@example.com", priority="urgent")
    assert (gold.contact_id, gold.tier, gold.sla_policy) == (ada.id, "gold", "gold/urgent")
    plain = tickets.add("Outage", contact="bob@example.com", priority="urgent")
    assert (plain.tier, plain.sla_policy) == ("standard", "standard/urgent")
    overridden = tickets.add(
        "Outage", contact="ada@example.com", priority="urgent", tier="standard"
    )
    assert overridden.sla_policy == "standard/urgent"
    assert [t.key for t in tickets.list(contact="ada@example.com")] == [
        overridden.key,
        gold.key,
    ]
    with pytest.raises(NotFound, match="zoe"):
        tickets.list(contact="zoe@example.com")


def test_unknown_contact_is_refused_and_nothing_is_written(tickets: Tickets, crm: CRM) -> None:
    with pytest.raises(NotFound, match=r"nobody@example\.com"):
        tickets.add("Help", contact="nobody@example.com")
    assert tickets.list(status="all") == []
    assert event_names(crm) == []


def test_bad_values_name_the_field(tickets: Tickets) -> None:
    with pytest.raises(ValidationError) as empty:
        tickets.add("   ")
    assert empty.value.field == "subject"
    with pytest.raises(ValidationError) as priority:
        tickets.add("Help", priority="critical")
    assert priority.value.field == "priority"
    assert "low, normal, high, urgent" in str(priority.value)


def test_waiting_pauses_the_resolution_clock_and_a_customer_reply_resumes_it(
    tickets: Tickets, crmkit_clock: Clock
) -> None:
    ticket = tickets.add("Printer jams")
    assert ticket.resolution_due == at(8, 11)
    crmkit_clock.set(at(1, 14))  # 2 business hours used, 38 left
    waiting = tickets.set_status(ticket.key, "waiting")
    assert waiting.paused_at == at(1, 14)
    assert waiting.resolution_remaining == 38 * 3600
    assert tickets.show(ticket.key).sla.resolution.state == "paused"
    crmkit_clock.set(at(5, 9))  # Monday morning: the customer answers
    tickets.receive(ticket.key, "It still jams on tray 2.")
    resumed = tickets.get(ticket.key)
    assert resumed.status == "open"
    assert resumed.paused_at is None
    # 38h from Mon 09:00: Mon-Thu 34h, then Fri 09:00 + 4h.
    assert resumed.resolution_due == at(9, 13)


def test_leaving_waiting_by_status_resumes_and_a_pause_in_closed_hours_moves_nothing(
    tickets: Tickets, crmkit_clock: Clock
) -> None:
    ticket = tickets.add("Printer jams")
    crmkit_clock.set(at(1, 18))  # after hours: no business time passes while paused
    tickets.set_status(ticket.key, "waiting")
    crmkit_clock.set(at(2, 8, 30))
    reopened = tickets.set_status(ticket.key, "open")
    assert reopened.resolution_due == ticket.resolution_due


def test_first_reply_sets_first_response_and_notes_change_nothing(
    tickets: Tickets, crm: CRM, crmkit_clock: Clock
) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    ticket = tickets.add("Where is my order?", contact=ada.id, channel="email")
    crmkit_clock.set(at(1, 13))
    tickets.note(ticket.key, "Checked the warehouse.", author="ana")
    noted = tickets.get(ticket.key)
    assert (noted.status, noted.first_responded_at) == ("new", None)
    crmkit_clock.set(at(1, 14))
    tickets.reply(ticket.key, "It ships today.", author="ana")
    crmkit_clock.set(at(1, 15))
    tickets.reply(ticket.key, "Tracking number: 42.", author="ana")
    answered = tickets.get(ticket.key)
    assert (answered.status, answered.first_responded_at) == ("open", at(1, 14))
    view = tickets.show(ticket.key)
    assert [(m.direction, m.body) for m in view.messages] == [
        ("note", "Checked the warehouse."),
        ("outbound", "It ships today."),
        ("outbound", "Tracking number: 42."),
    ]
    assert view.sla.first_response.state == "met"
    timeline = crm.interactions.timeline(ada.id)
    kinds = {(i.kind, i.channel, i.direction) for i in timeline}
    assert ("message.sent", "email", "outbound") in kinds
    assert ("message.noted", "email", "internal") in kinds
    assert ("ticket.created", "system", "internal") in kinds


def test_a_customer_message_reopens_a_resolved_ticket_and_restarts_resolution(
    tickets: Tickets, crm: CRM, crmkit_clock: Clock
) -> None:
    ticket = tickets.add("Cannot log in")
    crmkit_clock.set(at(1, 15))
    resolved = tickets.set_status(ticket.key, "resolved")
    assert resolved.resolved_at == at(1, 15)
    assert tickets.show(ticket.key).sla.resolution.state == "met"
    crmkit_clock.set(at(5, 9))
    tickets.receive(ticket.key, "It broke again.")
    again = tickets.get(ticket.key)
    assert (again.status, again.reopened_count, again.resolved_at) == ("reopened", 1, None)
    # 40 business hours from Mon 09:00: Mon-Thu 34h, Fri 09:00-13:00 4h, 14:00 + 2h.
    assert again.resolution_due == at(9, 16)
    assert "service.ticket.reopened" in event_names(crm)


@pytest.mark.parametrize(
    ("path", "refused", "allowed"),
    [
        ((), "closed", "open, waiting, resolved"),
        (("open",), "new", "waiting, resolved"),
        (("resolved", "closed"), "open", "reopened"),
        (("open",), "open", "waiting, resolved"),
    ],
)
def test_illegal_moves_are_refused_naming_the_allowed_ones_and_write_nothing(
    tickets: Tickets, crm: CRM, path: tuple[str, ...], refused: str, allowed: str
) -> None:
    ticket = tickets.add("Help")
    for status in path:
        tickets.set_status(ticket.key, status)
    before = tickets.get(ticket.key)
    events_before = event_names(crm)
    with pytest.raises(ValidationError) as refusal:
        tickets.set_status(ticket.key, refused)
    assert refusal.value.field == "status"
    assert f"it can move to {allowed}" in str(refusal.value)
    assert tickets.get(ticket.key) == before
    assert event_names(crm) == events_before


def test_closing_and_reopening_stamps_the_times(tickets: Tickets, crmkit_clock: Clock) -> None:
    ticket = tickets.add("Help")
    tickets.set_status(ticket.key, "resolved")
    crmkit_clock.set(at(2, 10))
    closed = tickets.set_status(ticket.key, "closed")
    assert closed.closed_at == at(2, 10)
    assert tickets.list() == []
    assert [t.key for t in tickets.list(status="closed")] == [ticket.key]
    reopened = tickets.set_status(ticket.key, "reopened")
    assert (reopened.closed_at, reopened.reopened_count) == (None, 1)


def test_list_filters(tickets: Tickets, crmkit_clock: Clock) -> None:
    first = tickets.add("Old", priority="urgent", tags=["vip", "billing"])
    crmkit_clock.set(at(1, 12, 10))
    tickets.add("Newer", priority="low", team="billing")
    crmkit_clock.set(at(1, 12, 20))
    tickets.add("Newest", assignee="ana", tags=["vip"])
    assert [t.subject for t in tickets.list()] == ["Newest", "Newer", "Old"]
    assert [t.subject for t in tickets.list(tag="vip")] == ["Newest", "Old"]
    assert [t.subject for t in tickets.list(priority="urgent")] == ["Old"]
    assert [t.subject for t in tickets.list(team="billing")] == ["Newer"]
    assert [t.subject for t in tickets.list(assignee="ana")] == ["Newest"]
    assert [t.subject for t in tickets.list(limit=1)] == ["Newest"]
    assert [t.subject for t in tickets.list(order_by=("subject",))] == ["Newer", "Newest", "Old"]
    with pytest.raises(ValidationError, match="colour"):
        tickets.list(order_by=("colour",))
    # The urgent ticket's first response (1 business hour) is missed by 13:30.
    crmkit_clock.set(at(1, 13, 30))
    assert [t.key for t in tickets.list(overdue=True)] == [first.key]
    tickets.reply(first.key, "On it.")
    assert tickets.list(overdue=True) == []


def test_show_has_sla_due_times_and_business_time_left(
    tickets: Tickets, crmkit_clock: Clock
) -> None:
    ticket = tickets.add("Printer jams", priority="urgent")
    crmkit_clock.set(at(1, 12, 45))
    state = tickets.show(ticket.key).sla
    assert (state.first_response.due, state.first_response.state) == (at(1, 13), "running")
    assert state.first_response.remaining == dt.timedelta(minutes=15)
    crmkit_clock.set(at(1, 14))
    late = tickets.show(ticket.key).sla.first_response
    assert late.state == "breached"
    assert late.remaining == -dt.timedelta(hours=1)


def test_messages_need_text_and_attachments_are_kept(tickets: Tickets) -> None:
    ticket = tickets.add("Screenshot attached")
    with pytest.raises(ValidationError) as empty:
        tickets.reply(ticket.key, "  ")
    assert empty.value.field == "body"
    tickets.receive(
        ticket.key,
        "",
        attachments=[{"filename": "shot.png", "content_type": "image/png", "size": 2048}],
    )
    (message,) = tickets.show(ticket.key).messages
    assert message.attachments == [
        {"filename": "shot.png", "content_type": "image/png", "size": 2048}
    ]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=st.lists(st.sampled_from(STATUSES), max_size=8))
def test_any_sequence_of_moves_follows_the_transition_table(
    service_crm_factory: Any, moves: list[str]
) -> None:
    """Allowed moves land, refused ones change nothing, and the stamps match the status."""
    crm: CRM = service_crm_factory("memory")
    tickets = Tickets(crm)
    ticket = tickets.add("Help")
    status, reopened = "new", 0
    for move in moves:
        if move in TRANSITIONS[status]:
            tickets.set_status(ticket.key, move)
            status, reopened = move, reopened + (move == "reopened")
        else:
            with pytest.raises(ValidationError):
                tickets.set_status(ticket.key, move)
        now = tickets.get(ticket.key)
        assert (now.status, now.reopened_count) == (status, reopened)
        assert (now.resolved_at is not None) == (status in ("resolved", "closed"))
        assert (now.closed_at is not None) == (status == "closed")
        assert (now.paused_at is not None) == (status == "waiting")
        assert (now.resolution_due is None) == (status == "waiting")
