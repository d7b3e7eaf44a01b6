"""``crmkit service agents``: who works tickets, and who is away from new ones.

Agents come from the teams in ``[plugins.service.teams]``; ``away`` stops new
tickets from being given to an agent until ``back``. An unknown agent or team
ends with exit code 4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_table

if TYPE_CHECKING:
    from crmkit_service.assignment import AgentStatus

AGENT_COLUMNS = (
    ("name", "AGENT"),
    ("teams", "TEAMS"),
    ("state", "STATE"),
    ("open_tickets", "OPEN TICKETS"),
)


def agent_json(agent: AgentStatus) -> dict[str, Any]:
    return {
        "name": agent.name,
        "teams": list(agent.teams),
        "available": agent.available,
        "open_tickets": agent.open_tickets,
    }


def _echo_agent(agent: AgentStatus, as_json: bool) -> None:
    if as_json:
        echo_json(agent_json(agent))
        return
    state = "available for new tickets" if agent.available else "away: gets no new tickets"
    click.echo(f"{agent.name} is {state} ({agent.open_tickets} open).")


@click.group("agents")
def agents_group() -> None:
    """The agents of the desk's teams and whether they take new tickets."""


@agents_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_agents(as_json: bool) -> None:
    """List agents with their teams, availability and open tickets."""
    from crmkit_service.assignment import Agents

    agents = Agents(get_crm()).list()
    if as_json:
        echo_json([agent_json(a) for a in agents])
        return
    rows = [{**agent_json(a), "state": "available" if a.available else "away"} for a in agents]
    echo_table(
        rows, AGENT_COLUMNS, empty="No agents; list them under [plugins.service.teams.NAME] agents."
    )


def _set(name: str, available: bool, team: str | None, as_json: bool) -> None:
    from crmkit_service.assignment import Agents

    _echo_agent(Agents(get_crm()).set_available(name, available, team=team), as_json)


_TEAM = click.option("--team", metavar="TEAM", help="Record NAME as an agent of TEAM.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@agents_group.command("away")
@click.argument("name")
@_TEAM
@_JSON
def agent_away(name: str, team: str | None, as_json: bool) -> None:
    """Mark agent NAME as away: no new tickets are given to them."""
    _set(name, False, team, as_json)


@agents_group.command("back")
@click.argument("name")
@_TEAM
@_JSON
def agent_back(name: str, team: str | None, as_json: bool) -> None:
    """Mark agent NAME as back: new tickets may be given to them again."""
    _set(name, True, team, as_json)
