"""Who takes a ticket: choosing an agent of a team, and agents going away and coming back.

A team (``[plugins.service.teams.<name>]``) lists its agents and how work is shared:

- ``round_robin``: the available agent who was given a ticket longest ago (an agent
  never given one first; ties in the order the team lists its agents);
- ``least_open``: the available agent with the fewest tickets not yet resolved or
  closed; ties are broken by round robin.

An agent is available unless a ``service.agent`` record says otherwise, so a team
works from its settings alone; ``crmkit service agents away NAME`` marks someone as
away and ``back NAME`` returns them. When nobody in the team is available the ticket
stays unassigned in the team's queue (:func:`choose_agent` returns ``None``).

Both rules are answered by the storage with one grouped query over tickets, never by
loading them.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.errors import ValidationError
from crmkit.storage.query import Aggregate, AllOf, Cond, GroupKey, Measure, Query
from crmkit_service.entities import Agent, Ticket
from crmkit_service.settings import Team, service_settings
from crmkit_service.ticket_records import TICKET, save_ticket, ticket_ref

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.types import EntityType
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork
    from crmkit_service.settings import ServiceSettings

AGENT = "service.agent"
OPEN_STATUSES = ("new", "open", "waiting", "reopened")
"""Statuses in which a ticket counts as an agent's open work (not resolved or closed)."""

_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@attrs.frozen
class AgentStatus:
    """An agent as the desk sees them: teams, availability and open tickets."""

    name: str
    teams: tuple[str, ...]
    available: bool
    open_tickets: int


def agent_type(crm: CRM) -> EntityType:
    return crm.entity_type(AGENT)


def agent_rows(reader: StorageReader, crm: CRM) -> dict[str, dict[str, Any]]:
    """Every stored ``service.agent`` row, by agent name."""
    rows = reader.query(agent_type(crm), Query(order_by=("name",)))
    return {row["name"]: row for row in rows}


def team_members(team: Team, rows: dict[str, dict[str, Any]]) -> list[str]:
    """The team's agents: those its settings list, then agents recorded with this team."""
    members = list(team.agents)
    members += sorted(
        name for name, row in rows.items() if row.get("team") == team.name and name not in members
    )
    return members


def _available(names: Sequence[str], rows: dict[str, dict[str, Any]]) -> list[str]:
    return [name for name in names if rows.get(name, {}).get("available", True)]


def last_assigned(reader: StorageReader, crm: CRM, names: Sequence[str]) -> dict[str, dt.datetime]:
    """When each of ``names`` was last given a ticket (agents never given one are absent)."""
    if not names:
        return {}
    rows = reader.aggregate(
        crm.entity_type(TICKET),
        Aggregate(
            where=Cond("assignee", "in", list(names)),
            group_by=(GroupKey("assignee"),),
            measures=(Measure("last", "max", "assigned_at"),),
        ),
    )
    return {row["assignee"]: row["last"] for row in rows if row["last"] is not None}


def open_counts(reader: StorageReader, crm: CRM, names: Sequence[str]) -> dict[str, int]:
    """How many tickets not resolved or closed each of ``names`` holds (0 when none)."""
    counts = dict.fromkeys(names, 0)
    if not names:
        return counts
    rows = reader.aggregate(
        crm.entity_type(TICKET),
        Aggregate(
            where=AllOf(
                (
                    Cond("assignee", "in", list(names)),
                    Cond("status", "in", list(OPEN_STATUSES)),
                )
            ),
            group_by=(GroupKey("assignee"),),
        ),
    )
    for row in rows:
        counts[row["assignee"]] = int(row["count"])
    return counts


def _round_robin(candidates: Sequence[str], last: dict[str, dt.datetime]) -> str:
    order = {name: index for index, name in enumerate(candidates)}
    return min(candidates, key=lambda name: (last.get(name, _NEVER), order[name]))


def choose_agent(uow: UnitOfWork, team: Team) -> str | None:
    """The available agent of ``team`` who should take the next ticket, or ``None``.

    ``None`` means nobody in the team is available: the ticket waits unassigned in
    the team's queue. See the module docstring for the two rules.
    """
    crm = uow.crm
    rows = agent_rows(uow.tx, crm)
    candidates = _available(team_members(team, rows), rows)
    if not candidates:
        return None
    if team.assignment == "least_open":
        counts = open_counts(uow.tx, crm, candidates)
        fewest = min(counts.values())
        candidates = [name for name in candidates if counts[name] == fewest]
    return _round_robin(candidates, last_assigned(uow.tx, crm, candidates))


def known_agents(
    settings: ServiceSettings, rows: dict[str, dict[str, Any]]
) -> dict[str, tuple[str, ...]]:
    """Every agent the desk knows (from the teams' settings and agent records) with teams."""
    teams: dict[str, list[str]] = {}
    for team in settings.teams.values():
        for name in team_members(team, rows):
            teams.setdefault(name, []).append(team.name)
    for name, row in rows.items():
        listed = teams.setdefault(name, [])
        if row.get("team") and row["team"] not in listed:
            listed.append(row["team"])
    return {name: tuple(found) for name, found in sorted(teams.items())}


def require_agent(name: str, known: dict[str, tuple[str, ...]]) -> str:
    """``name`` stripped, checked to be a known agent; ValidationError naming the known ones."""
    cleaned = name.strip()
    if cleaned not in known:
        choices = ", ".join(known) or "none yet: list agents under [plugins.service.teams]"
        raise ValidationError(
            AGENT, "name", f"{cleaned!r} is not an agent of any team; use one of {choices}"
        )
    return cleaned


class Agents:
    """The agents of the desk's teams and whether they take new tickets."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    def set_available(
        self,
        name: str,
        available: bool,
        *,
        team: str | None = None,
        actor: str | None = None,
    ) -> AgentStatus:
        """Mark agent ``name`` as available or away (``team`` records a new agent's team).

        An agent must belong to a team in the settings or have been recorded
        before; naming an existing ``team`` records a new agent with it. An
        unknown agent or team is refused with :class:`ValidationError`.
        """
        crm = self.crm
        etype = agent_type(crm)
        settings = service_settings(crm)
        if team is not None:
            team = settings.team(team).name
        with crm.unit_of_work(actor) as uow:
            rows = agent_rows(uow.tx, crm)
            known = known_agents(settings, rows)
            cleaned = name.strip()
            if team is None or not cleaned:
                cleaned = require_agent(name, known)
            row = rows.get(cleaned)
            if row is None:
                agent = Agent(name=cleaned, team=team, available=available)
                uow.tx.add(etype, etype.to_row(agent))
            else:
                changes: dict[str, Any] = {"available": available, "updated_at": utcnow()}
                if team is not None:
                    changes["team"] = team
                uow.tx.update(etype, row["id"], changes)
            rows = agent_rows(uow.tx, crm)
            return self._status(uow.tx, cleaned, known_agents(settings, rows), rows)

    def list(self) -> builtins.list[AgentStatus]:
        """Every agent with their teams, availability and open tickets, by name."""
        with self.crm.backend.read() as reader:
            rows = agent_rows(reader, self.crm)
            known = known_agents(service_settings(self.crm), rows)
            counts = open_counts(reader, self.crm, builtins.list(known))
        return [
            AgentStatus(
                name=name,
                teams=teams,
                available=bool(rows.get(name, {}).get("available", True)),
                open_tickets=counts.get(name, 0),
            )
            for name, teams in known.items()
        ]

    def _status(
        self,
        reader: StorageReader,
        name: str,
        known: dict[str, tuple[str, ...]],
        rows: dict[str, dict[str, Any]],
    ) -> AgentStatus:
        return AgentStatus(
            name=name,
            teams=known.get(name, ()),
            available=bool(rows.get(name, {}).get("available", True)),
            open_tickets=open_counts(reader, self.crm, [name])[name],
        )


# -- giving a ticket to someone ---------------------------------------------------------


def _check_assignee(
    uow: UnitOfWork, settings: ServiceSettings, name: str, team: Team | None, record: str
) -> str:
    """``name`` checked to be an agent (of ``team`` when one is set)."""
    rows = agent_rows(uow.tx, uow.crm)
    cleaned = name.strip()
    if team is None:
        known = known_agents(settings, rows)
        if cleaned not in known:
            raise ValidationError(
                TICKET,
                "assignee",
                f"{cleaned!r} is not an agent of any team; use one of "
                f"{', '.join(known) or 'the agents listed under [plugins.service.teams]'}",
                record=record,
            )
        return cleaned
    members = team_members(team, rows)
    if cleaned not in members:
        raise ValidationError(
            TICKET,
            "assignee",
            f"{cleaned!r} is not an agent of team {team.name}; use one of "
            f"{', '.join(members) or '(none: the team lists no agents)'}",
            record=record,
        )
    return cleaned


def assign_ticket(
    uow: UnitOfWork,
    ticket: Ticket,
    *,
    assignee: str | None = None,
    team: str | None = None,
) -> Ticket:
    """Give ``ticket`` to ``assignee`` and/or ``team``, inside ``uow``.

    A team without an assignee chooses the agent by the team's rule; when nobody
    in the team is available the ticket waits unassigned in the team's queue
    (event ``method`` ``queued``). An explicit assignee must be an agent of the
    ticket's team (the given one, else the ticket's own), or of some team when
    the ticket has none. Raises :class:`ValidationError` for an unknown team or
    agent, or when neither is given for a ticket without a team.
    """
    settings = service_settings(uow.crm)
    chosen_team = (
        settings.team(team)
        if team is not None
        else (settings.team(ticket.team) if ticket.team else None)
    )
    if assignee is not None:
        name: str | None = _check_assignee(uow, settings, assignee, chosen_team, ticket.key)
        method = "manual"
    elif chosen_team is not None:
        name = choose_agent(uow, chosen_team)
        method = chosen_team.assignment if name is not None else "queued"
    else:
        raise ValidationError(
            TICKET,
            "assignee",
            f"{ticket.key} has no team: name an agent, or a team to choose one from "
            f"({', '.join(settings.teams) or 'none defined under [plugins.service.teams]'})",
            record=ticket.key,
        )
    previous = ticket.assignee
    now = utcnow()
    save_ticket(
        uow,
        ticket,
        {
            "team": chosen_team.name if chosen_team is not None else None,
            "assignee": name,
            "assigned_at": now if name is not None else ticket.assigned_at,
        },
    )
    if name is not None:
        summary = f"{ticket.key} assigned to {name}"
    else:
        summary = f"{ticket.key} waits in team {ticket.team}'s queue: no agent is available"
    uow.record_activity(
        "service.ticket.assigned",
        ticket_ref(
            ticket, team=ticket.team, assignee=name, previous_assignee=previous, method=method
        ),
        contact_id=ticket.contact_id,
        summary=summary,
    )
    return ticket
