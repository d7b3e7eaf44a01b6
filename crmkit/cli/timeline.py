"""``crmkit log``, ``crmkit timeline`` and ``crmkit view``: a contact's history and
the single customer view.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.contacts import CONTACT_HINT
from crmkit.cli.context import get_context
from crmkit.cli.output import echo_json, echo_masked, echo_record, echo_table, masked_fields
from crmkit.cli.records import hint_on_not_found, record_fields
from crmkit.entities.core import CHANNELS, DIRECTIONS
from crmkit.errors import ValidationError
from crmkit.privacy.model import Masked

if TYPE_CHECKING:
    from crmkit.entities.core import Interaction
    from crmkit.view import CustomerView

TIMELINE_COLUMNS = (
    ("occurred_at", "WHEN (UTC)"),
    ("channel", "CHANNEL"),
    ("direction", "DIRECTION"),
    ("kind", "KIND"),
    ("summary", "SUMMARY"),
    ("source", "SOURCE"),
)


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 date or time; without a zone it is local time, as a person means it."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            "interaction",
            "occurred_at",
            f"{text!r} is not an ISO 8601 time; use e.g. 2024-05-01T14:30 or "
            "2024-05-01T14:30:00+02:00",
        ) from None
    return when if when.tzinfo is not None else when.astimezone()


def parse_data(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=text`` and ``KEY:=json`` pairs as the interaction's payload."""
    payload: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip(":").strip():
            raise click.BadParameter(
                f"{item!r} is not KEY=VALUE (or KEY:=JSON)", param_hint="'--data'"
            )
        if key.endswith(":"):
            key = key[:-1]
            try:
                payload[key.strip()] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise click.BadParameter(
                    f"{item!r}: the value after := must be JSON ({exc.msg})", param_hint="'--data'"
                ) from None
        else:
            payload[key.strip()] = value
    return payload


@click.command("log")
@click.argument("contact")
@click.option("--channel", required=True, type=click.Choice(CHANNELS), help="How it happened.")
@click.option(
    "--kind",
    default="note",
    show_default=True,
    help="What it was: inquiry, call, meeting, purchase, complaint, ...",
)
@click.option("--summary", metavar="TEXT", help="One line on what happened.")
@click.option(
    "--direction",
    type=click.Choice(DIRECTIONS),
    default="inbound",
    show_default=True,
    help="Who started it.",
)
@click.option("--at", "at", metavar="ISO-TIME", help="When (default: now; no zone = local time).")
@click.option(
    "--data",
    "data",
    multiple=True,
    metavar="KEY=VALUE",
    help="Extra detail (repeatable); KEY:=JSON for numbers, lists, objects.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the logged interaction as JSON.")
def log_command(
    contact: str,
    channel: str,
    kind: str,
    summary: str | None,
    direction: str,
    at: str | None,
    data: tuple[str, ...],
    as_json: bool,
) -> None:
    """Record an interaction on CONTACT's timeline (an id or email).

    \b
    Example:
      crmkit log ada@example.com --channel email --kind inquiry --summary "Asked for pricing"
    """
    payload = parse_data(data)
    occurred_at = parse_time(at) if at else None
    crm = get_context().crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        item = crm.interactions.log(
            contact,
            channel=channel,
            kind=kind,
            summary=summary,
            direction=direction,
            occurred_at=occurred_at,
            payload=payload,
            source="cli",
        )
    if as_json:
        echo_json(item)
        return
    when = item.occurred_at.strftime("%Y-%m-%d %H:%M UTC")
    click.echo(f"Logged {direction} {channel} {kind} for {contact} at {when} ({item.id})")


@click.command("timeline")
@click.argument("contact")
@click.option("--limit", default=20, show_default=True, help="How many, newest first (0: all).")
@click.option("--channel", type=click.Choice(CHANNELS), help="Only this channel.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def timeline_command(contact: str, limit: int, channel: str | None, as_json: bool) -> None:
    """Show CONTACT's interactions (an id or email), newest first."""
    crm = get_context().crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        items = crm.interactions.timeline(contact, limit=limit or None, channel=channel)
    if as_json:
        echo_json(items)
        return
    echo_table(
        [_interaction_row(i) for i in items],
        TIMELINE_COLUMNS,
        empty=f"No interactions{' on ' + channel if channel else ''} yet; record one with "
        f"'crmkit log {contact} --channel email --summary ...'.",
    )
    masked = dict.fromkeys(name for i in items for name in masked_fields(i))
    echo_masked(crm.privacy.actor().name, list(masked))


def _interaction_row(item: Interaction) -> dict[str, Any]:
    return {
        "occurred_at": item.occurred_at,
        "channel": item.channel,
        "direction": item.direction,
        "kind": item.kind,
        "summary": item.summary,
        "source": item.source,
    }


@click.command("view")
@click.argument("contact")
@click.option(
    "--interactions",
    default=10,
    show_default=True,
    help="How many of the latest interactions to include.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole view as one JSON object.")
def view_command(contact: str, interactions: int, as_json: bool) -> None:
    """The single customer view of CONTACT (an id or email): profile, organizations,
    latest interactions and a section from every loaded plugin.

    What the --as actor may not see is masked, and the masked fields are named
    ("masked" in --json).
    """
    crm = get_context().crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        view = crm.view(contact, interactions=interactions)
    if as_json:
        echo_json(view.as_dict())
        return
    echo_view(view, actor=crm.privacy.actor().name)


def echo_view(view: CustomerView, *, actor: str = "you") -> None:
    """The human form of a customer view: one titled block per part.

    ``actor`` is who the view was made for, named on the line listing masked fields.
    """
    person = view.contact
    # A masked name or email makes no heading; the id always does.
    first, last, email = (
        None if isinstance(v, Masked) else v
        for v in (person.first_name, person.last_name, person.email)
    )
    name = " ".join(p for p in (first, last) if p)
    _heading(name or email or person.id, first=True)
    profile = record_fields(person)
    for key in ("first_name", "last_name"):
        profile.pop(key, None)
    echo_record(profile)
    echo_masked(actor, view.masked)

    _heading("Organizations")
    if view.organizations:
        for m in view.organizations:
            role = f" — {m.role}" if m.role else ""
            click.echo(f"{m.organization.name}{role} ({m.organization.id})")
    else:
        click.echo("none")

    _heading(f"Latest interactions ({len(view.interactions)})")
    if view.interactions:
        echo_table([_interaction_row(i) for i in view.interactions], TIMELINE_COLUMNS)
    else:
        click.echo("none yet")

    for section in view.sections:
        by = f" [{section.plugin}]" if section.plugin else ""
        _heading(f"{section.title}{by}")
        echo_section_data(section.data)


def echo_section_data(data: Any) -> None:
    """A plugin section's data: a record, a table of records, a list or a value.

    In a record, a nested record reads as ``key value, key value`` on its line and a
    list of records becomes a small table under its name, so a section such as a
    customer's open deals or tickets reads as a table, not as JSON.
    """
    from crmkit.serialize import to_jsonable

    value = to_jsonable(data)
    if isinstance(value, Mapping):
        if not value:
            click.echo("nothing")
            return
        echo_record({k: _inline(v) for k, v in value.items() if not _is_rows(v)})
        for key, rows in value.items():
            if _is_rows(rows):
                click.echo(f"{key}:")
                _echo_rows(rows, indent=2)
    elif _is_rows(value):
        _echo_rows(value)
    elif isinstance(value, list):
        for item in value:
            click.echo(f"- {_inline(item)}")
        if not value:
            click.echo("nothing")
    else:
        click.echo(_inline(value))


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _echo_rows(rows: list[Mapping[str, Any]], *, indent: int = 0) -> None:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    echo_table(
        [{k: _inline(row.get(k)) for k in keys} for row in rows],
        [(k, k.upper().replace("_", " ")) for k in keys],
        indent=indent,
    )


def _inline(value: Any) -> Any:
    """A value on one line: a nested record as ``key value, ...``, deeper nesting as JSON."""
    if isinstance(value, Mapping):
        parts = [
            f"{k} {_inline(v) if not isinstance(v, Mapping | list) else json.dumps(v)}"
            for k, v in value.items()
            if v not in (None, "", [], {})
        ]
        return ", ".join(parts)
    if isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value):
        return json.dumps(value, ensure_ascii=False)
    return value


def _heading(title: str, *, first: bool = False) -> None:
    if not first:
        click.echo()
    click.echo(click.style(title, bold=True))
