"""Tasks: follow-ups on leads and deals, completing them, and what is overdue."""

from __future__ import annotations

import datetime as dt

import pytest
from crmkit_sales.deals import Deals
from crmkit_sales.entities import Lead
from crmkit_sales.tasks import Tasks

from crmkit import Event
from crmkit.crm import CRM
from crmkit.errors import NotFound, PolicyDenied, ValidationError
from crmkit.testing.clock import Clock


def count(crm: CRM, entity: str) -> int:
    with crm.backend.read() as reader:
        return reader.count(crm.entity_type(entity))


def capture(crm: CRM) -> list[Event]:
    seen: list[Event] = []
    crm.events.subscribe("sales.task.*", seen.append)
    return seen


def add_lead(crm: CRM, contact_id: str | None = None) -> str:
    """A lead stored directly (as conversion leaves it when ``contact_id`` is given)."""
    etype = crm.entity_type("sales.lead")
    lead = Lead(first_name="Grace", contact_id=contact_id)
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(lead))
    return lead.id


def test_a_plain_task(crm: CRM) -> None:
    events = capture(crm)
    task = Tasks(crm).add("  Call the printer ", due="2026-02-03", owner="alice", notes="toner")
    stored = Tasks(crm).get(task.id)
    assert (stored.title, stored.due, stored.owner, stored.notes) == (
        "Call the printer",
        dt.date(2026, 2, 3),
        "alice",
        "toner",
    )
    assert (stored.lead_id, stored.deal_id, stored.done_at) == (None, None, None)
    assert [(e.name, e.subject_id) for e in events] == [("sales.task.created", None)]
    assert events[0].payload["due"] == "2026-02-03"


def test_a_task_on_a_deal_lands_on_the_contacts_timeline(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    deal = Deals(crm).add(title="Engine", amount="100", contact=ada.id)
    events = capture(crm)
    task = Tasks(crm).add("Send proposal", due=dt.date(2026, 2, 1), deal=deal.id)
    Tasks(crm).complete(task.id)
    assert [(e.name, e.subject_id) for e in events] == [
        ("sales.task.created", ada.id),
        ("sales.task.completed", ada.id),
    ]
    kinds = [i.kind for i in crm.interactions.timeline(ada.id)]
    assert kinds[:2] == ["task.completed", "task.created"]


def test_a_task_on_a_converted_lead_concerns_its_contact(crm: CRM) -> None:
    grace = crm.contacts.add(first_name="Grace", email="grace@example.com")
    lead = add_lead(crm, grace.id)
    events = capture(crm)
    Tasks(crm).add("Follow up", due="2026-02-01", lead=lead)
    assert events[0].subject_id == grace.id
    assert events[0].payload["lead_id"] == lead


def test_unknown_lead_or_deal_is_refused(crm: CRM) -> None:
    with pytest.raises(NotFound) as missing:
        Tasks(crm).add("Call", due="2026-02-01", deal="no-such-deal")
    assert missing.value.entity == "sales.deal"
    with pytest.raises(NotFound) as missing:
        Tasks(crm).add("Call", due="2026-02-01", lead="no-such-lead")
    assert missing.value.entity == "sales.lead"
    assert count(crm, "sales.task") == 0


@pytest.mark.parametrize(
    ("title", "due", "field"),
    [("", "2026-02-01", "title"), ("Call", "tomorrow", "due"), ("Call", "2026-02-30", "due")],
)
def test_bad_values_are_refused(crm: CRM, title: str, due: str, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Tasks(crm).add(title, due=due)
    assert (refused.value.entity, refused.value.field) == ("sales.task", field)
    assert count(crm, "sales.task") == 0


def test_completing_twice_is_refused(crm: CRM, crmkit_clock: Clock) -> None:
    task = Tasks(crm).add("Call", due="2026-01-02")
    done = Tasks(crm).complete(task.id)
    assert done.done_at == dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    crmkit_clock.advance(days=1)
    with pytest.raises(ValidationError, match="already done on 2026-01-01 12:00") as refused:
        Tasks(crm).complete(task.id)
    assert refused.value.field == "done_at"
    assert Tasks(crm).get(task.id).done_at == done.done_at
    with pytest.raises(NotFound):
        Tasks(crm).complete("no-such-task")


def test_a_task_about_a_restricted_person_is_refused(crm: CRM) -> None:
    grace = crm.contacts.add(first_name="Grace", email="grace@example.com")
    lead = add_lead(crm, grace.id)
    crm.privacy.restrict(grace.id, reason="objection")
    with pytest.raises(PolicyDenied, match="restricted"):
        Tasks(crm).add("Call", due="2026-02-01", lead=lead)
    assert count(crm, "sales.task") == 0


def test_lists_and_overdue(crm: CRM, crmkit_clock: Clock) -> None:
    tasks = Tasks(crm)
    deal = Deals(crm).add(title="Engine", amount="1")
    late = tasks.add("Late", due="2025-12-20", owner="alice")
    later = tasks.add("Later", due="2025-12-30", owner="bob", deal=deal.id)
    today = tasks.add("Today", due="2026-01-01", owner="alice")
    done = tasks.add("Done", due="2025-12-01", owner="alice")
    tasks.complete(done.id)
    assert [t.id for t in tasks.list()] == [late.id, later.id, today.id]
    assert [t.id for t in tasks.list(open_only=False)] == [done.id, late.id, later.id, today.id]
    assert [t.id for t in tasks.list(owner="alice")] == [late.id, today.id]
    assert [t.id for t in tasks.list(deal=deal.id)] == [later.id]
    assert [t.id for t in tasks.overdue()] == [late.id, later.id]
    assert [t.id for t in tasks.overdue(owner="bob")] == [later.id]
    assert [t.id for t in tasks.overdue(today=dt.date(2025, 12, 25))] == [late.id]
    crmkit_clock.advance(days=1)
    assert [t.id for t in tasks.overdue()] == [late.id, later.id, today.id]
