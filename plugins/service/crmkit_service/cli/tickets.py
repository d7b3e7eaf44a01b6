"""``crmkit service tickets``: open tickets, answer them, assign them, move their status.

Tickets are named by key (``T-42``) or id. Every read has ``--json`` for scripts.
Errors end with the core's exit codes: 3 for a ticket or contact not found, 4 for
an unknown team or agent, an illegal status move or a bad value, 7 when the
privacy policy refuses.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_masked, echo_record, echo_table
from crmkit.serialize import to_jsonable
from crmkit_service.entities import CHANNELS, PRIORITIES, STATUSES

if TYPE_CHECKING:
    from crmkit_service.entities import Message, Ticket
    from crmkit_service.sla import SlaState
    from crmkit_service.tickets import TicketView

F = TypeVar("F", bound=Callable[..., Any])

TICKET_COLUMNS = (
    ("key", "KEY"),
    ("status", "STATUS"),
    ("priority", "PRIORITY"),
    ("subject", "SUBJECT"),
    ("team", "TEAM"),
    ("assignee", "ASSIGNEE"),
    ("due", "NEXT DUE (UTC)"),
)
SLA_COLUMNS = (
    ("target", "TARGET"),
    ("state", "STATE"),
    ("due", "DUE (UTC)"),
    ("remaining", "BUSINESS TIME LEFT"),
)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def _next_due(ticket: Ticket) -> dt.datetime | None:
    """The due time a desk works to next: first response until met, then resolution."""
    if ticket.first_responded_at is None and ticket.first_response_due is not None:
        return ticket.first_response_due
    return None if ticket.paused_at is not None else ticket.resolution_due


def ticket_row(ticket: Ticket) -> dict[str, Any]:
    return {**to_jsonable(ticket), "due": _next_due(ticket)}


def sla_rows(state: SlaState) -> list[dict[str, Any]]:
    """One row per SLA target: its state, due time and business time left."""
    from crmkit_service.sla import business_time

    rows = []
    for target, clock in (
        ("first response", state.first_response),
        ("resolution", state.resolution),
    ):
        rows.append(
            {
                "target": target,
                "state": clock.state,
                "due": clock.due,
                "remaining": business_time(clock.remaining),
            }
        )
    return rows


def _message_line(message: Message) -> str:
    who = {"inbound": "customer", "outbound": "reply", "note": "note"}[message.direction]
    by = f" {message.author}" if message.author else ""
    stamp = message.occurred_at.strftime("%Y-%m-%d %H:%M")
    files = f" [{len(message.attachments)} attachment(s)]" if message.attachments else ""
    return f"--- {stamp} {who}{by}{files}\n{message.body}"


def _echo_view(view: TicketView) -> None:
    ticket = view.ticket
    echo_record(
        {
            "key": ticket.key,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "channel": ticket.channel,
            "team": ticket.team,
            "assignee": ticket.assignee,
            "contact": ticket.contact_id,
            "tier": ticket.tier,
            "sla policy": ticket.sla_policy,
            "tags": ticket.tags,
            "opened": ticket.created_at,
            "reopened": ticket.reopened_count or None,
            "description": ticket.description,
        }
    )
    click.echo("")
    if ticket.sla_policy:
        echo_table(sla_rows(view.sla), SLA_COLUMNS)
    else:
        click.echo("No SLA applies to this ticket.")
    if view.articles:
        click.echo("")
        click.echo("Articles: " + ", ".join(f"{a.slug} ({a.title})" for a in view.articles))
    click.echo("")
    if not view.messages:
        click.echo("No messages yet.")
    for message in view.messages:
        click.echo(_message_line(message))
    crm = get_crm()
    echo_masked(crm.privacy.actor().name, view.masked)


def _body(body: str | None) -> str:
    """The message text from ``--body``, else from standard input."""
    if body is not None:
        return body
    return sys.stdin.read()


@click.group("tickets")
def tickets_group() -> None:
    """Open tickets, answer them, assign them and move them through statuses."""


@tickets_group.command("add")
@click.argument("subject")
@click.option("--description", "-d", help="What the customer asked, in full.")
@click.option("--contact", metavar="ID_OR_EMAIL", help="Who asked.")
@click.option("--org", "organization", metavar="NAME_OR_ID", help="Their organization.")
@click.option("--channel", type=click.Choice(CHANNELS), default="web", show_default=True)
@click.option("--priority", type=click.Choice(PRIORITIES), default="normal", show_default=True)
@click.option("--team", metavar="TEAM", help="The team to work it (an agent is chosen).")
@click.option("--assignee", "--to", "assignee", metavar="AGENT", help="The agent to work it.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag (repeatable).")
@click.option("--tier", metavar="TIER", help="Customer tier for the SLA (default: contact's).")
@json_option
def add_ticket(
    subject: str,
    description: str | None,
    contact: str | None,
    organization: str | None,
    channel: str,
    priority: str,
    team: str | None,
    assignee: str | None,
    tags: tuple[str, ...],
    tier: str | None,
    as_json: bool,
) -> None:
    """Open a ticket about SUBJECT.

    \b
    Examples:
      crmkit service tickets add "Printer on fire" --contact ada@example.com --priority urgent
      crmkit service tickets add "Invoice query" --team billing --tag invoice
    """
    from crmkit_service.tickets import Tickets

    ticket = Tickets(get_crm()).add(
        subject,
        description=description,
        contact=contact,
        organization=organization,
        channel=channel,
        priority=priority,
        team=team,
        assignee=assignee,
        tags=tags,
        tier=tier,
    )
    if as_json:
        echo_json(ticket)
        return
    who = (
        f", assigned to {ticket.assignee}"
        if ticket.assignee
        else (f", in team {ticket.team}'s queue" if ticket.team else "")
    )
    due = (
        f", resolution due {ticket.resolution_due:%Y-%m-%d %H:%M} UTC"
        if (ticket.resolution_due)
        else ""
    )
    click.echo(f"Opened {ticket.key}: {ticket.subject} ({ticket.priority}{who}{due})")


@tickets_group.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([*STATUSES, "all"]),
    help="Only this status (repeatable; default: all but closed).",
)
@click.option("--team", metavar="TEAM", help="Only this team's tickets.")
@click.option("--assignee", metavar="AGENT", help="Only this agent's tickets.")
@click.option("--priority", type=click.Choice(PRIORITIES), help="Only this priority.")
@click.option("--contact", metavar="ID_OR_EMAIL", help="Only this contact's tickets.")
@click.option("--tag", metavar="TAG", help="Only tickets with this tag.")
@click.option("--overdue", is_flag=True, help="Only tickets past a due time not yet met.")
@click.option("--limit", default=50, show_default=True, help="At most this many (0: all).")
@json_option
def list_tickets(
    statuses: tuple[str, ...],
    team: str | None,
    assignee: str | None,
    priority: str | None,
    contact: str | None,
    tag: str | None,
    overdue: bool,
    limit: int,
    as_json: bool,
) -> None:
    """List tickets, newest first."""
    from crmkit_service.tickets import Tickets

    if limit < 0:
        raise click.UsageError("--limit may not be negative")
    status: str | tuple[str, ...] | None = statuses or None
    if "all" in statuses:
        status = "all"
    found = Tickets(get_crm()).list(
        status=status,
        team=team,
        assignee=assignee,
        priority=priority,
        contact=contact,
        tag=tag,
        overdue=overdue,
        limit=limit or None,
    )
    if as_json:
        echo_json(found)
        return
    filtered = (
        bool(statuses)
        or overdue
        or any(v is not None for v in (team, assignee, priority, contact, tag))
    )
    echo_table(
        [ticket_row(t) for t in found],
        TICKET_COLUMNS,
        empty="No tickets match."
        if filtered
        else "No open tickets; open one with 'crmkit service tickets add SUBJECT'.",
    )


@tickets_group.command("show")
@click.argument("ticket")
@json_option
def show_ticket(ticket: str, as_json: bool) -> None:
    """Show TICKET (key or id): its fields, SLA state and message thread."""
    from crmkit_service.tickets import Tickets

    view = Tickets(get_crm()).show(ticket)
    if as_json:
        echo_json(view.as_dict())
        return
    _echo_view(view)


_BODY = click.option("--body", "-m", help="The text (default: read from standard input).")
_AUTHOR = click.option("--author", metavar="AGENT", help="Who writes it (default: the actor).")


@tickets_group.command("reply")
@click.argument("ticket")
@_BODY
@_AUTHOR
def reply_ticket(ticket: str, body: str | None, author: str | None) -> None:
    """Send a reply on TICKET to the customer.

    \b
    Examples:
      crmkit service tickets reply T-42 -m "We are on it."
      echo "Fixed in 2.1" | crmkit service tickets reply T-42
    """
    from crmkit_service.tickets import Tickets

    message = Tickets(get_crm()).reply(ticket, _body(body), author=author)
    click.echo(f"Replied on {ticket} as {message.author}.")


@tickets_group.command("note")
@click.argument("ticket")
@_BODY
@_AUTHOR
def note_ticket(ticket: str, body: str | None, author: str | None) -> None:
    """Add an internal note to TICKET (the customer does not see it)."""
    from crmkit_service.tickets import Tickets

    message = Tickets(get_crm()).note(ticket, _body(body), author=author)
    click.echo(f"Noted on {ticket} by {message.author}.")


@tickets_group.command("assign")
@click.argument("ticket")
@click.option("--to", "assignee", metavar="AGENT", help="The agent (of the team, if one).")
@click.option("--team", metavar="TEAM", help="The team; without --to an agent is chosen.")
@json_option
def assign_ticket(ticket: str, assignee: str | None, team: str | None, as_json: bool) -> None:
    """Give TICKET to an agent and/or a team (neither: choose again in its team)."""
    from crmkit_service.tickets import Tickets

    found = Tickets(get_crm()).assign(ticket, assignee=assignee, team=team)
    if as_json:
        echo_json(found)
    elif found.assignee:
        click.echo(
            f"{found.key} assigned to {found.assignee}"
            + (f" (team {found.team})." if found.team else ".")
        )
    else:
        click.echo(f"{found.key} waits in team {found.team}'s queue: no agent is available.")


@tickets_group.command("status")
@click.argument("ticket")
@click.argument("status", type=click.Choice(STATUSES))
@json_option
def status_ticket(ticket: str, status: str, as_json: bool) -> None:
    """Move TICKET to STATUS (new, open, waiting, resolved, closed, reopened)."""
    from crmkit_service.tickets import Tickets

    found = Tickets(get_crm()).set_status(ticket, status)
    if as_json:
        echo_json(found)
    else:
        click.echo(f"{found.key} is {found.status}.")
