"""``crmkit service intake``: take in an email; list and retry the messages intake refused.

``crmkit service intake message.eml`` (or ``-`` / nothing for stdin, as a mail
server's pipe delivers it) opens a ticket or adds a reply to one. A refused
message is kept as rejected intake: the command prints why and the id it was
kept under, and exits 4, so a mail server can tell a refused message from a
delivered one. ``intake-rejected`` lists the kept messages and ``intake-retry
ID`` takes one in again once its cause is fixed.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

import attrs
import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_table
from crmkit.serialize import to_jsonable

if TYPE_CHECKING:
    from crmkit_service.intake import IntakeRejected, IntakeResult

REJECTED_COLUMNS = (
    ("id", "ID"),
    ("received_at", "RECEIVED (UTC)"),
    ("source", "SOURCE"),
    ("sender", "FROM"),
    ("subject", "SUBJECT"),
    ("reason", "REASON"),
)


def result_data(result: IntakeResult) -> dict[str, Any]:
    """What ``--json`` prints for a message taken in."""
    data: dict[str, Any] = to_jsonable(
        {
            "key": result.ticket.key,
            "created": result.created,
            "contact_created": result.contact_created,
            "duplicate": result.duplicate,
            "ticket": result.ticket,
            "message": result.message,
        }
    )
    return data


def echo_result(result: IntakeResult, as_json: bool) -> None:
    """Say what became of the message."""
    if as_json:
        echo_json(result_data(result))
        return
    key = result.ticket.key
    if result.duplicate:
        click.echo(f"Already taken in: message {result.message.message_id} is on {key}.")
        return
    who = result.message.author or "the sender"
    made = " (new contact)" if result.contact_created else ""
    if result.created:
        click.echo(f"Opened {key} from {who}{made}: {result.ticket.subject}")
    else:
        click.echo(f"Added the reply from {who}{made} to {key} (status {result.ticket.status}).")


def refuse(error: IntakeRejected, as_json: bool) -> None:
    """Report a refused message (JSON on stdout with ``--json``) and end with its exit code."""
    if as_json:
        echo_json({"rejected": True, "rejected_id": error.rejected_id, "reason": error.cause})
    raise error


def _source(stream: IO[bytes]) -> str:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) and not name.startswith("<") else "stdin"


@click.command("intake")
@click.argument("file", type=click.File("rb"), default="-", required=False)
@click.option("--team", metavar="TEAM", help="Team a new ticket goes to.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def intake_command(file: IO[bytes], team: str | None, as_json: bool) -> None:
    """Take in the email in FILE (- or none: stdin) as a new ticket or a reply.

    A reply (In-Reply-To/References, or a ticket key such as [T-42] in the
    subject) goes on its ticket's thread; anything else opens a ticket. A
    refused message is kept for review (crmkit service intake-rejected) and
    the command exits 4.
    """
    from pathlib import Path

    from crmkit_service.intake import Intake, IntakeRejected

    source = _source(file)
    raw = file.read()
    try:
        result = Intake(get_crm()).receive(raw, source=Path(source).name, team=team)
    except IntakeRejected as exc:
        refuse(exc, as_json)
        return
    echo_result(result, as_json)


@click.command("intake-rejected")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rejected_command(limit: int, as_json: bool) -> None:
    """List the messages intake refused, newest first, with the reason."""
    from crmkit_service.intake import Intake

    records = Intake(get_crm()).rejected(limit)
    if as_json:
        echo_json(records)
        return
    echo_table(
        [attrs.asdict(record, recurse=False) for record in records],
        REJECTED_COLUMNS,
        empty="No rejected messages.",
    )


@click.command("intake-retry")
@click.argument("rejected_id", metavar="ID")
@click.option("--team", metavar="TEAM", help="Team a new ticket goes to.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def retry_command(rejected_id: str, team: str | None, as_json: bool) -> None:
    """Take in rejected message ID again; it is removed from the rejected list on success."""
    from crmkit_service.intake import Intake, IntakeRejected

    try:
        result = Intake(get_crm()).retry(rejected_id, team=team)
    except IntakeRejected as exc:
        refuse(exc, as_json)
        return
    echo_result(result, as_json)
