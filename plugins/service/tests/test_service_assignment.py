"""Assignment: round robin and least-open choice, agents away, explicit assignment.

Teams (from the test settings): support = ana, ben, cy (round robin);
billing = dee, eli (least open).
"""

from __future__ import annotations

import pytest
from crmkit_service.assignment import Agents
from crmkit_service.tickets import Tickets

from crmkit.crm import CRM
from crmkit.errors import ValidationError
from crmkit.testing.clock import Clock


@pytest.fixture
def tickets(crm: CRM, crmkit_clock: Clock) -> Tickets:
    return Tickets(crm)


def open_in(tickets: Tickets, clock: Clock, team: str, count: int) -> list[str | None]:
    """Open ``count`` tickets for ``team`` a minute apart; who got each."""
    chosen = []
    for n in range(count):
        clock.advance(minutes=1)
        chosen.append(tickets.add(f"Request {n}", team=team).assignee)
    return chosen


def test_round_robin_skips_an_agent_who_is_away(
    tickets: Tickets, crm: CRM, crmkit_clock: Clock
) -> None:
    agents = Agents(crm)
    assert open_in(tickets, crmkit_clock, "support", 4) == ["ana", "ben", "cy", "ana"]
    away = agents.set_available("ben", False)
    assert away.available is False
    assert open_in(tickets, crmkit_clock, "support", 4) == ["cy", "ana", "cy", "ana"]
    agents.set_available("ben", True)
    # ben's last ticket is now the oldest assignment of the team.
    assert open_in(tickets, crmkit_clock, "support", 3) == ["ben", "cy", "ana"]


def test_least_open_picks_the_agent_with_fewest_unresolved_tickets(
    tickets: Tickets, crmkit_clock: Clock
) -> None:
    # Ties go by round robin: dee, then eli, then dee again.
    first = open_in(tickets, crmkit_clock, "billing", 3)
    assert first == ["dee", "eli", "dee"]
    # dee holds 2 open tickets, eli 1: eli is next, then a tie broken by round robin.
    assert open_in(tickets, crmkit_clock, "billing", 2) == ["eli", "dee"]
    # Resolving two of dee's three tickets leaves dee with the fewest.
    dees = [t.key for t in tickets.list(assignee="dee")][:2]
    for key in dees:
        tickets.set_status(key, "resolved")
    assert open_in(tickets, crmkit_clock, "billing", 1) == ["dee"]


def test_nobody_available_leaves_the_ticket_in_the_team_queue(
    tickets: Tickets, crm: CRM, crmkit_clock: Clock
) -> None:
    agents = Agents(crm)
    agents.set_available("dee", False)
    agents.set_available("eli", False)
    queued = tickets.add("Refund", team="billing")
    assert (queued.team, queued.assignee, queued.assigned_at) == ("billing", None, None)
    assigned = [e for e in crm.events.read(names=("service.ticket.assigned",))]
    assert [(e.payload["assignee"], e.payload["method"]) for e in assigned] == [(None, "queued")]
    agents.set_available("eli", True)
    retried = tickets.assign(queued.key)
    assert retried.assignee == "eli"


def test_explicit_assignment_checks_team_and_agent(tickets: Tickets, crm: CRM) -> None:
    ticket = tickets.add("Invoice wrong", team="billing")
    with pytest.raises(ValidationError) as outsider:
        tickets.assign(ticket.key, assignee="ana")
    assert outsider.value.field == "assignee"
    assert "not an agent of team billing; use one of dee, eli" in str(outsider.value)
    with pytest.raises(ValidationError) as no_team:
        tickets.assign(ticket.key, team="sales")
    assert no_team.value.field == "team"
    with pytest.raises(ValidationError, match="zed"):
        tickets.assign(ticket.key, team="support", assignee="zed")
    assert tickets.get(ticket.key).team == "billing"
    moved = tickets.assign(ticket.key, team="support", assignee="cy")
    assert (moved.team, moved.assignee) == ("support", "cy")
    # An agent away may still be given a ticket by name.
    Agents(crm).set_available("ana", False)
    assert tickets.assign(ticket.key, assignee="ana").assignee == "ana"


def test_a_ticket_without_team_needs_an_agent_to_assign(tickets: Tickets) -> None:
    ticket = tickets.add("Loose ticket")
    with pytest.raises(ValidationError, match="has no team"):
        tickets.assign(ticket.key)
    assert tickets.assign(ticket.key, assignee="lee").assignee == "lee"


def test_agents_list_shows_teams_availability_and_open_tickets(
    tickets: Tickets, crm: CRM, crmkit_clock: Clock
) -> None:
    agents = Agents(crm)
    open_in(tickets, crmkit_clock, "support", 2)
    agents.set_available("cy", False)
    listed = {a.name: a for a in agents.list()}
    assert sorted(listed) == ["ana", "ben", "cy", "dee", "eli", "lee"]
    assert (listed["ana"].teams, listed["ana"].open_tickets) == (("support",), 1)
    assert (listed["cy"].available, listed["cy"].open_tickets) == (False, 0)
    newcomer = agents.set_available("fay", True, team="support")
    assert newcomer.teams == ("support",)
    assert "fay" in {a.name for a in agents.list()}


def test_unknown_agents_and_teams_are_refused(crm: CRM) -> None:
    agents = Agents(crm)
    with pytest.raises(ValidationError, match="use one of ana, ben, cy, dee, eli, lee"):
        agents.set_available("zed", False)
    with pytest.raises(ValidationError) as team:
        agents.set_available("zed", False, team="nowhere")
    assert team.value.field == "team"
    assert all(a.name != "zed" for a in agents.list())
