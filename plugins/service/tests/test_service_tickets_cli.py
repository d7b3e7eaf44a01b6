"""``crmkit service tickets`` and ``crmkit service agents`` as a user runs them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crmkit.testing.clock import Clock

RUN = ("service", "tickets")


@pytest.fixture
def desk(service_project: Any, crmkit_clock: Clock) -> Any:
    """The project, with Ada as a contact; the clock frozen on Thursday 2026-01-01 12:00 UTC."""
    added = service_project.run(
        "contacts", "add", "--first-name", "Ada", "--email", "ada@example.com"
    )
    assert added.exit_code == 0, added.output
    return service_project


def test_add_list_and_show_with_json(desk: Any) -> None:
    added = desk.run(
        *RUN,
        "add",
        "Printer on fire",
        "--contact",
        "ada@example.com",
        "--priority",
        "urgent",
        "--team",
        "support",
        "--tag",
        "hardware",
    )
    assert added.exit_code == 0, added.output
    assert "Opened T-1: Printer on fire (urgent, assigned to ana" in added.output
    as_json = desk.run(*RUN, "add", "Second", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert as_json.json()["key"] == "T-2"

    listed = desk.run(*RUN, "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [t["key"] for t in listed.json()] == ["T-2", "T-1"]
    table = desk.run(*RUN, "list", "--team", "support")
    assert "T-1" in table.output and "T-2" not in table.output

    shown = desk.run(*RUN, "show", "T-1", "--json")
    assert shown.exit_code == 0, shown.output
    data = shown.json()
    assert data["ticket"]["assignee"] == "ana"
    assert data["sla"]["first_response"] == {
        "state": "running",
        "due": "2026-01-01T13:00:00+00:00",
        "remaining_seconds": 3600,
    }
    assert data["messages"] == []


def test_reply_note_and_show_the_thread(desk: Any, crmkit_clock: Clock) -> None:
    desk.run(*RUN, "add", "Where is my order?", "--contact", "ada@example.com")
    crmkit_clock.set(dt.datetime(2026, 1, 1, 12, 30, tzinfo=dt.UTC))
    replied = desk.run(*RUN, "reply", "T-1", "-m", "It ships today.", "--author", "ana")
    assert replied.exit_code == 0, replied.output
    noted = desk.run(*RUN, "note", "T-1", "--author", "ben", input="Warehouse confirmed.\n")
    assert noted.exit_code == 0, noted.output
    shown = desk.run(*RUN, "show", "T-1")
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert out.index("It ships today.") < out.index("Warehouse confirmed.")
    assert "reply ana" in out and "note ben" in out
    assert "first response" in out and "met" in out
    data = desk.run(*RUN, "show", "T-1", "--json").json()
    assert [m["direction"] for m in data["messages"]] == ["outbound", "note"]
    assert data["ticket"]["status"] == "open"


def test_status_moves_and_illegal_moves_exit_4(desk: Any) -> None:
    desk.run(*RUN, "add", "Help")
    refused = desk.run(*RUN, "status", "T-1", "closed")
    assert refused.exit_code == 4
    assert "open, waiting, resolved" in refused.output
    assert desk.run(*RUN, "show", "T-1", "--json").json()["ticket"]["status"] == "new"
    moved = desk.run(*RUN, "status", "T-1", "waiting")
    assert moved.exit_code == 0, moved.output
    assert "T-1 is waiting." in moved.output
    assert desk.run(*RUN, "list", "--status", "waiting", "--json").json()[0]["key"] == "T-1"


def test_unknown_ticket_exits_3(desk: Any) -> None:
    for args in (
        ("show", "T-99"),
        ("reply", "T-99", "-m", "Hi"),
        ("status", "T-99", "open"),
        ("assign", "T-99", "--to", "ana"),
    ):
        result = desk.run(*RUN, *args)
        assert result.exit_code == 3, (args, result.output)
        assert "T-99" in result.output


def test_assign_to_unknown_team_or_agent_exits_4(desk: Any) -> None:
    desk.run(*RUN, "add", "Invoice wrong", "--team", "billing")
    no_team = desk.run(*RUN, "assign", "T-1", "--team", "nowhere")
    assert no_team.exit_code == 4
    assert "use one of billing, support, team-leads" in no_team.output
    no_agent = desk.run(*RUN, "assign", "T-1", "--to", "zed")
    assert no_agent.exit_code == 4
    assert "zed" in no_agent.output
    moved = desk.run(*RUN, "assign", "T-1", "--team", "support", "--to", "cy", "--json")
    assert moved.exit_code == 0, moved.output
    assert (moved.json()["team"], moved.json()["assignee"]) == ("support", "cy")


def test_agents_away_and_back(desk: Any) -> None:
    away = desk.run("service", "agents", "away", "ana")
    assert away.exit_code == 0, away.output
    assert "ana is away" in away.output
    added = desk.run(*RUN, "add", "Question", "--team", "support", "--json")
    assert added.json()["assignee"] == "ben"
    listed = desk.run("service", "agents", "list", "--json")
    assert listed.exit_code == 0, listed.output
    by_name = {a["name"]: a for a in listed.json()}
    assert by_name["ana"]["available"] is False
    assert by_name["ben"] == {
        "name": "ben",
        "teams": ["support"],
        "available": True,
        "open_tickets": 1,
    }
    assert desk.run("service", "agents", "back", "ana").exit_code == 0
    assert "ana" in desk.run("service", "agents", "list").output
    unknown = desk.run("service", "agents", "away", "zed")
    assert unknown.exit_code == 4
    assert "zed" in unknown.output
