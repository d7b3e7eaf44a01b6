"""The "Service" section of the single customer view, on SQLite and PostgreSQL.

The office calendar of the test settings is London (UTC in winter), open
09:00-17:30 Monday to Thursday and 09:00-13:00, 14:00-17:00 on Friday; the
standard tier gives normal tickets 8h/40h and high ones 4h/16h of business time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from crmkit_service import ServiceDesk

from crmkit.crm import CRM
from crmkit.testing.clock import Clock

UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of the week the tests play in: 2025-12-29 (Monday) to 2026-01-02 (Friday)."""
    start = dt.date(2025, 12, 29)
    return dt.datetime.combine(start + dt.timedelta(days=day), dt.time(hour, minute), UTC)


MON, TUE, WED, THU = 0, 1, 2, 3


def service_section(crm: CRM, contact: str, actor: str | None = None) -> dict[str, Any] | None:
    """The data of the contact's Service section (``None`` if the view has none)."""
    sections = crm.view(contact, actor=actor).as_dict()["sections"]
    found = [s for s in sections if s["title"] == "Service"]
    assert len(found) <= 1, sections
    if not found:
        return None
    assert found[0]["plugin"] == "service"
    data: dict[str, Any] = found[0]["data"]
    return data


def make_history(crm: CRM, clock: Clock) -> None:
    """Ada: two tickets resolved and rated, one new, one waiting; Bob: one open ticket."""
    desk = ServiceDesk(crm)
    crm.contacts.add(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    crm.contacts.add(first_name="Bob", last_name="Byron", email="bob@example.com")

    clock.set(at(MON, 10))
    desk.tickets.add("Printer jams", contact="ada@example.com", team="support")  # T-1 -> ana
    clock.set(at(MON, 11))
    desk.tickets.reply("T-1", "Try the rear tray.")
    clock.set(at(TUE, 10))
    desk.tickets.add("Invoice shows the wrong address", contact="ada@example.com", priority="low")
    desk.tickets.reply("T-2", "We are correcting it.", author="ben")
    clock.set(at(TUE, 15))
    desk.tickets.set_status("T-1", "resolved")
    clock.set(at(TUE, 16))
    desk.feedback.record("T-1", csat=3, nps=6, comment="Took a while")
    clock.set(at(WED, 11))
    desk.tickets.set_status("T-2", "resolved")
    desk.tickets.set_status("T-1", "closed")
    clock.set(at(WED, 12))
    desk.feedback.record("T-2", csat=5, nps=10)
    desk.tickets.add("Bob's laptop is slow", contact="bob@example.com")  # T-3

    clock.set(at(THU, 12))
    desk.tickets.add("Cannot log in", contact="ada@example.com")  # T-4, normal
    desk.tickets.add("Export fails", contact="ada@example.com", priority="high")  # T-5
    clock.set(at(THU, 12, 30))
    desk.tickets.reply("T-5", "Which file do you export?", author="cy")
    desk.tickets.set_status("T-5", "waiting")
    clock.set(at(THU, 13))


def test_the_section_shows_open_tickets_with_their_sla_counts_and_the_last_answer(
    crm: CRM, crmkit_clock: Clock
) -> None:
    make_history(crm, crmkit_clock)

    data = service_section(crm, "ada@example.com")

    assert data is not None
    assert (data["open"], data["resolved"]) == (2, 2)
    login, export = data["open_tickets"]
    assert login == {
        "key": "T-4",
        "subject": "Cannot log in",
        "status": "new",
        "priority": "normal",
        "assignee": None,
        # 8h of office time from Thursday 12:00: 5h30 on Thursday, 2h30 on Friday.
        "first_response": {
            "state": "running",
            "due": at(THU + 1, 11, 30).isoformat(),
            "remaining_seconds": 7 * 3600,
            "remaining": "7h 00m",
        },
        # 40h: Thu 5h30, Fri 7h, Mon-Wed 8h30 each, then 2h on the next Thursday.
        "resolution": {
            "state": "running",
            "due": dt.datetime(2026, 1, 8, 11, 0, tzinfo=UTC).isoformat(),
            "remaining_seconds": 39 * 3600,
            "remaining": "39h 00m",
        },
    }
    assert (export["key"], export["status"], export["priority"]) == ("T-5", "waiting", "high")
    assert export["first_response"]["state"] == "met"
    assert export["resolution"] == {
        "state": "paused",
        "due": None,
        "remaining_seconds": (16 * 60 - 30) * 60,
        "remaining": "15h 30m",
    }
    assert data["last_feedback"] == {
        "ticket": "T-2",
        "csat": 5,
        "nps": 10,
        "comment": None,
        "recorded_at": at(WED, 12).isoformat(),
    }
    assert data["last_resolved"] == {
        "key": "T-2",
        "subject": "Invoice shows the wrong address",
        "status": "resolved",
        "resolved_at": at(WED, 11).isoformat(),
    }
    assert "masked" not in data


def test_the_sla_figures_follow_the_clock_and_breaches_show(crm: CRM, crmkit_clock: Clock) -> None:
    make_history(crm, crmkit_clock)
    crmkit_clock.set(at(THU + 1, 12, 30))  # Friday, an hour after T-4's first response was due

    data = service_section(crm, "ada@example.com")

    assert data is not None
    [login, _] = data["open_tickets"]

    assert login["first_response"]["state"] == "breached"
    assert login["first_response"]["remaining_seconds"] == -3600
    assert login["first_response"]["remaining"] == "-1h 00m"


def test_only_the_contacts_own_tickets_count(crm: CRM, crmkit_clock: Clock) -> None:
    make_history(crm, crmkit_clock)

    data = service_section(crm, "bob@example.com")

    assert data is not None
    assert (data["open"], data["resolved"]) == (1, 0)
    assert [t["key"] for t in data["open_tickets"]] == ["T-3"]
    assert data["last_feedback"] is None and data["last_resolved"] is None


def test_a_contact_without_tickets_has_no_service_section(crm: CRM) -> None:
    crm.contacts.add(first_name="Cleo", email="cleo@example.com")

    assert service_section(crm, "cleo@example.com") is None


@pytest.mark.parametrize("url", ["sqlite", "postgresql"])
def test_an_actor_who_may_not_see_personal_data_gets_the_subjects_masked(
    url: str, service_crm_factory: Callable[..., CRM], crmkit_clock: Clock
) -> None:
    privacy = {
        "roles": {"desk-viewer": {"actions": ["read"], "see": []}},
        "actors": {"vic": ["desk-viewer"]},
    }
    crm = service_crm_factory(url, privacy=privacy)
    make_history(crm, crmkit_clock)

    data = service_section(crm, "ada@example.com", actor="vic")

    assert data is not None
    assert [t["key"] for t in data["open_tickets"]] == ["T-4", "T-5"]
    assert {t["subject"] for t in data["open_tickets"]} == {"[masked: personal]"}
    assert data["last_resolved"]["subject"] == "[masked: personal]"
    assert data["last_feedback"]["csat"] == 5
    assert "subject" in data["masked"]
    as_admin = service_section(crm, "ada@example.com")
    assert as_admin is not None
    assert as_admin["open_tickets"][0]["subject"] == "Cannot log in"
