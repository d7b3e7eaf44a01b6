"""``crmkit events``: read the outbox feed, inspect and retry failed deliveries.

The outbox keeps every event in commit order; it is the audit trail and the
feed a relay reads with ``--after`` as its cursor. A subscriber that raised is
recorded as a delivery failure and can be run again with ``events retry``.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_context
from crmkit.cli.output import echo_json, echo_table

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.events.model import Event
    from crmkit.storage.base import DeliveryFailure

GLOB_CHARS = frozenset("*?[")
SCAN_BATCH = 1000


@click.group("events")
def events_group() -> None:
    """The event outbox: read it, see failed deliveries, retry them."""


@events_group.command("list")
@click.option("--after", metavar="ID", help="Only events after this event id (a feed cursor).")
@click.option("--limit", default=50, show_default=True, help="At most this many events.")
@click.option("--name", "pattern", metavar="PATTERN",
              help="Only events with this name or glob (e.g. 'contact.*').")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_events(after: str | None, limit: int, pattern: str | None, as_json: bool) -> None:
    """List events from the outbox, oldest first.

    To follow the feed, pass the last id you saw as --after.
    """
    if limit < 1:
        raise click.UsageError("--limit must be at least 1")
    crm = get_context().crm()
    events = read_feed(crm, after=after, limit=limit, pattern=pattern)
    if as_json:
        echo_json(events)
    else:
        echo_table(
            [
                {
                    "id": e.id,
                    "occurred_at": e.occurred_at,
                    "name": e.name,
                    "subject_id": e.subject_id,
                    "actor": e.actor,
                }
                for e in events
            ],
            [
                ("id", "ID"),
                ("occurred_at", "WHEN (UTC)"),
                ("name", "NAME"),
                ("subject_id", "SUBJECT"),
                ("actor", "ACTOR"),
            ],
            empty="No events" + (" after that id." if after else " yet."),
        )
    if len(events) == limit:
        click.echo(f"More may follow: --after {events[-1].id}", err=True)


def read_feed(crm: CRM, *, after: str | None, limit: int, pattern: str | None) -> list[Event]:
    """Up to ``limit`` outbox events after ``after`` whose name matches ``pattern``.

    A plain name is filtered by the store; a glob is matched here while
    reading the outbox in batches.
    """
    if pattern is None:
        return crm.events.read(after=after, limit=limit)
    if not GLOB_CHARS & set(pattern):
        return crm.events.read(after=after, limit=limit, names=[pattern])
    found: list[Event] = []
    cursor = after
    while len(found) < limit:
        batch = crm.events.read(after=cursor, limit=SCAN_BATCH)
        found.extend(e for e in batch if fnmatch.fnmatchcase(e.name, pattern))
        if len(batch) < SCAN_BATCH:
            break
        cursor = batch[-1].id
    return found[:limit]


@events_group.command("failures")
@click.option("--all", "show_all", is_flag=True, help="Include deliveries that later succeeded.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_failures(show_all: bool, as_json: bool) -> None:
    """List deliveries whose subscriber raised, oldest first (unresolved ones by default)."""
    crm = get_context().crm()
    failures = crm.events.failures(unresolved_only=not show_all)
    names = _event_names(crm, [f.event_id for f in failures])
    rows = [_failure_row(f, names.get(f.event_id)) for f in failures]
    if as_json:
        echo_json(rows)
        return
    echo_table(
        rows,
        [
            ("failed_at", "FAILED AT (UTC)"),
            ("event_name", "EVENT"),
            ("subscriber", "SUBSCRIBER"),
            ("attempts", "ATTEMPTS"),
            ("state", "STATE"),
            ("error", "ERROR"),
        ],
        empty="No failed deliveries." if not show_all else "No deliveries have ever failed.",
    )
    if any(r["state"] == "failing" for r in rows):
        click.echo("Run 'crmkit events retry' once the cause is fixed.", err=True)


def _event_names(crm: CRM, event_ids: list[str]) -> dict[str, str]:
    if not event_ids:
        return {}
    with crm.backend.begin() as tx:
        stored = tx.read_events(ids=event_ids, limit=len(event_ids))
    return {s.id: s.name for s in stored}


def _failure_row(failure: DeliveryFailure, event_name: str | None) -> dict[str, Any]:
    return {
        "id": failure.id,
        "event_id": failure.event_id,
        "event_name": event_name,
        "subscriber": failure.subscriber,
        "error": failure.error,
        "attempts": failure.attempts,
        "failed_at": failure.failed_at,
        "resolved_at": failure.resolved_at,
        "state": "resolved" if failure.resolved_at is not None else "failing",
    }


@events_group.command("retry")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def retry_failures(as_json: bool) -> None:
    """Run every failed delivery again; exits 1 if some still fail."""
    crm = get_context().crm()
    succeeded, failing = crm.events.retry_failures()
    if as_json:
        echo_json({"succeeded": succeeded, "still_failing": failing})
    elif succeeded == failing == 0:
        click.echo("No failed deliveries to retry.")
    else:
        click.echo(f"Retried {succeeded + failing} deliveries: {succeeded} succeeded, "
                   f"{failing} still failing.")
    if failing:
        raise click.ClickException(
            f"{failing} deliveries still fail; see 'crmkit events failures' for the errors"
        )
