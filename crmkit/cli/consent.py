"""``crmkit consent``: grant, withdraw, request and confirm consent; show state and history.

Consent is recorded per contact, purpose and channel in an append-only
ledger; ``show`` prints the current state as the privacy policy sees it and
``history`` every entry, oldest first. Purposes and channels are the ones the
CRM registers (the core's and its plugins'); a wrong one is refused with the
list of known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click

from crmkit.cli.contacts import CONTACT_HINT
from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_table
from crmkit.cli.records import hint_on_not_found
from crmkit.privacy.consent import LAWFUL_BASES
from crmkit.privacy.facts import GRANTED
from crmkit.privacy.model import ANY_CHANNEL

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.privacy.entities import ConsentRecord

F = TypeVar("F", bound=Callable[..., Any])

STATE_COLUMNS = (
    ("purpose", "PURPOSE"),
    ("channel", "CHANNEL"),
    ("status", "STATUS"),
    ("since", "SINCE (UTC)"),
    ("lawful_basis", "LAWFUL BASIS"),
    ("source", "SOURCE"),
)
HISTORY_COLUMNS = (
    ("id", "ID"),
    ("created_at", "WHEN (UTC)"),
    ("status", "STATUS"),
    ("purpose", "PURPOSE"),
    ("channel", "CHANNEL"),
    ("lawful_basis", "LAWFUL BASIS"),
    ("source", "SOURCE"),
    ("form_version", "FORM"),
    ("actor", "ACTOR"),
    ("evidence", "EVIDENCE"),
)


def _where(purpose: str, channel: str) -> str:
    return f"{purpose} on {'every channel' if channel == ANY_CHANNEL else channel}"


def target_options(*, required: bool) -> Callable[[F], F]:
    """``--purpose`` and ``--channel``: what the consent is for (filters when not required)."""

    def decorate(func: F) -> F:
        if required:
            channel_help = "Channel (email, sms, ...; 'any': every channel)."
            purpose_help = "Purpose (marketing, sales, service, analytics or a plugin's)."
        else:
            channel_help = "Only this channel (show also lists 'any', which covers it)."
            purpose_help = "Only this purpose."
        func = click.option("--channel", required=required, metavar="CHANNEL", help=channel_help)(
            func
        )
        return click.option("--purpose", required=required, metavar="PURPOSE", help=purpose_help)(
            func
        )

    return decorate


def proof_options(func: F) -> F:
    """``--evidence`` and ``--source``: what proves the change and where it came from."""
    func = click.option("--source", metavar="SOURCE", help="Where it came from (web-form, ...).")(
        func
    )
    return click.option(
        "--evidence", metavar="TEXT", help="What proves it (form text, message, call notes)."
    )(func)


def json_option(what: str) -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON.")


def _record_line(verb: str, record: ConsentRecord, contact: str) -> str:
    return f"{verb} {_where(record.purpose, record.channel)} for {contact} (record {record.id})"


def _note_if_outranked(crm: CRM, record: ConsentRecord) -> None:
    """Say so when a grant on one channel does not count: the purpose is withdrawn on 'any'."""
    with crm.backend.read() as reader:
        status = crm.privacy.facts(reader, record.contact_id).consent(
            record.purpose, record.channel
        )
    if status != GRANTED:
        click.echo(
            f"Note: {record.purpose} is withdrawn on every channel, which outranks this grant; "
            f"it counts once {record.purpose} is granted on channel 'any' again.",
            err=True,
        )


# -- commands -----------------------------------------------------------------


@click.group("consent")
def consent_group() -> None:
    """Record and show consent per purpose and channel (contacts by id or email).

    \b
    Examples:
      crmkit consent grant ada@example.com --purpose marketing --channel email \\
          --evidence "signup form v3" --source web-form --form-version v3
      crmkit consent withdraw ada@example.com --purpose marketing --channel any
      crmkit consent show ada@example.com
    """


@consent_group.command("grant")
@click.argument("contact")
@target_options(required=True)
@proof_options
@click.option(
    "--lawful-basis",
    default="consent",
    show_default=True,
    metavar="BASIS",
    help=f"Lawful basis: {', '.join(LAWFUL_BASES)}.",
)
@click.option("--ip", "ip_address", metavar="IP", help="IP address the consent came from.")
@click.option("--form-version", metavar="V", help="Version of the form or text agreed to.")
@json_option("the new ledger entry")
def grant_command(
    contact: str,
    purpose: str,
    channel: str,
    evidence: str | None,
    source: str | None,
    lawful_basis: str,
    ip_address: str | None,
    form_version: str | None,
    as_json: bool,
) -> None:
    """Record that CONTACT agreed to PURPOSE on CHANNEL."""
    crm = get_crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        record = crm.privacy.consent.grant(
            contact,
            purpose=purpose,
            channel=channel,
            lawful_basis=lawful_basis,
            source=source,
            evidence=evidence,
            ip_address=ip_address,
            form_version=form_version,
        )
    if as_json:
        echo_json(record)
    else:
        click.echo(_record_line("Granted", record, contact))
    _note_if_outranked(crm, record)


@consent_group.command("withdraw")
@click.argument("contact")
@target_options(required=True)
@proof_options
@json_option("the new ledger entry")
def withdraw_command(
    contact: str,
    purpose: str,
    channel: str,
    evidence: str | None,
    source: str | None,
    as_json: bool,
) -> None:
    """Record that CONTACT withdrew from (or objected to) PURPOSE on CHANNEL.

    On channel 'any' the withdrawal outranks every channel's grant.
    """
    crm = get_crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        record = crm.privacy.consent.withdraw(
            contact, purpose=purpose, channel=channel, source=source, evidence=evidence
        )
    if as_json:
        echo_json(record)
    else:
        click.echo(_record_line("Withdrew", record, contact))


@consent_group.command("request")
@click.argument("contact")
@target_options(required=True)
@proof_options
@click.option("--ip", "ip_address", metavar="IP", help="IP address the request came from.")
@click.option("--form-version", metavar="V", help="Version of the form or text shown.")
@json_option("the pending entry and the token")
def request_command(
    contact: str,
    purpose: str,
    channel: str,
    evidence: str | None,
    source: str | None,
    ip_address: str | None,
    form_version: str | None,
    as_json: bool,
) -> None:
    """Start a double opt-in: print a signed token that confirms it.

    Send the token to the person; when they come back, record the grant with
    'crmkit consent confirm TOKEN'. It expires after [privacy]
    confirm_within_hours (default 72) and works once.
    """
    crm = get_crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        record, token = crm.privacy.consent.request(
            contact,
            purpose=purpose,
            channel=channel,
            source=source,
            evidence=evidence,
            ip_address=ip_address,
            form_version=form_version,
        )
    if as_json:
        echo_json({"token": token, "record": record})
        return
    assert record.expires_at is not None
    click.echo(token)
    click.echo(
        f"Pending {_where(purpose, channel)} for {contact} (record {record.id}) until "
        f"{record.expires_at:%Y-%m-%d %H:%M} UTC; confirm with 'crmkit consent confirm TOKEN'.",
        err=True,
    )


@consent_group.command("confirm")
@click.argument("token")
@click.option("--ip", "ip_address", metavar="IP", help="IP address the confirmation came from.")
@json_option("the new ledger entry")
def confirm_command(token: str, ip_address: str | None, as_json: bool) -> None:
    """Confirm a double opt-in with the TOKEN 'crmkit consent request' printed."""
    crm = get_crm()
    record = crm.privacy.consent.confirm(token, ip_address=ip_address)
    if as_json:
        echo_json(record)
    else:
        click.echo(_record_line("Confirmed", record, f"contact {record.contact_id}"))
    _note_if_outranked(crm, record)


@consent_group.command("show")
@click.argument("contact")
@target_options(required=False)
@json_option("a list of states")
def show_command(contact: str, purpose: str | None, channel: str | None, as_json: bool) -> None:
    """Show CONTACT's current consent per purpose and channel."""
    crm = get_crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        states = crm.privacy.consent.state(contact)
    states = [
        s
        for s in states
        if (purpose is None or s.purpose == purpose)
        and (channel is None or s.channel in (channel, ANY_CHANNEL))
    ]
    if as_json:
        echo_json(states)
        return
    rows = []
    for state in states:
        row = attrs.asdict(state)
        if state.decided_on != state.channel:
            row["status"] = f"{state.status} (on {state.decided_on})"
        rows.append(row)
    echo_table(
        rows,
        STATE_COLUMNS,
        empty=f"No consent recorded for {contact}"
        + (
            " that matches."
            if purpose or channel
            else "; record it with "
            f"'crmkit consent grant {contact} --purpose PURPOSE --channel CHANNEL'."
        ),
    )


@consent_group.command("history")
@click.argument("contact")
@target_options(required=False)
@json_option("a list of ledger entries")
def history_command(contact: str, purpose: str | None, channel: str | None, as_json: bool) -> None:
    """Show every consent entry of CONTACT, oldest first (pending requests too)."""
    crm = get_crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        entries = crm.privacy.consent.history(contact, purpose, channel)
    if as_json:
        echo_json(entries)
        return
    echo_table(
        [attrs.asdict(e) for e in entries],
        HISTORY_COLUMNS,
        empty=f"No consent entries for {contact}" + (" that match." if purpose or channel else "."),
    )
