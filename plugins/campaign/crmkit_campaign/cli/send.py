"""``crmkit campaign send``, ``status`` and ``reconcile``: sending and settling a campaign.

``send`` exits 0 when the run went through (people left out or messages
refused by the server are part of a normal run, and counted), 1 when the
channel was unavailable and the run stopped early (the rest stays due), and
with crmkit's usual codes for a campaign that is not found (3), not active or
missing a value a message needs (4), or settings that are missing (5).
"""

from __future__ import annotations

from collections.abc import Mapping

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_record, echo_table
from crmkit.errors import DeliveryError, ValidationError
from crmkit.storage import AllOf, Cond, Query
from crmkit_campaign.records import campaign_steps, find_campaign
from crmkit_campaign.sending import (
    DELIVERY,
    SendReport,
    exclusions,
    reconcile,
    resend,
    send_due,
    status,
)


def _reasons(counts: Mapping[str, int]) -> dict[str, int]:
    return {f"  {reason}": n for reason, n in sorted(counts.items())}


def _echo_report(report: SendReport) -> None:
    if report.dry_run:
        click.echo(f"Dry run of campaign {report.campaign}: nothing was sent or stored.")
    sent = "would send" if report.dry_run else "sent"
    echo_record(
        {
            sent: report.sent,
            "failed": report.failed,
            "deferred": report.deferred,
            "in doubt": report.in_doubt,
            "already taken": report.skipped_existing,
            "excluded": sum(report.excluded.values()),
            **_reasons(report.excluded),
        }
    )
    if report.in_doubt:
        click.echo(
            f"{report.in_doubt} in doubt: not sent again; see 'crmkit campaign reconcile "
            f"{report.campaign}'"
        )


@click.command("send")
@click.argument("campaign")
@click.option(
    "--dry-run", is_flag=True, help="Decide and write out every message; send and store nothing."
)
@click.option(
    "--limit", type=click.IntRange(min=0), default=None, help="Send at most N messages this run."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def send_command(campaign: str, dry_run: bool, limit: int | None, as_json: bool) -> None:
    """Send what is due now for CAMPAIGN (id or name), checking consent for each person.

    Prints how many messages were sent, failed, deferred (a temporary failure:
    tried again by the next send) or found in doubt, and how many people were
    left out, by reason.
    """
    report = send_due(get_crm(), campaign, limit=limit, dry_run=dry_run)
    if as_json:
        echo_json(report.as_dict())
    else:
        _echo_report(report)
    if report.stopped is not None:
        raise DeliveryError(
            f"sending stopped early: {report.stopped}; what was not sent stays due for the next "
            f"'crmkit campaign send {report.campaign}'"
        )


@click.command("status")
@click.argument("campaign")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def status_command(campaign: str, as_json: bool) -> None:
    """Count CAMPAIGN's deliveries by status, and the people it left out by reason."""
    crm = get_crm()
    with crm.backend.read() as reader:
        found = find_campaign(reader, crm, campaign)
    counts = status(crm, found)
    left_out = exclusions(crm, found)
    if as_json:
        echo_json({"campaign": found.name, "deliveries": counts, "excluded": left_out})
        return
    click.echo(f"Campaign {found.name} ({found.status})")
    echo_record(
        {
            **{name.replace("_", " "): n for name, n in counts.items()},
            "excluded": sum(left_out.values()),
            **_reasons(left_out),
        }
    )


@click.command("reconcile")
@click.argument("campaign")
@click.option(
    "--resend",
    "delivery_id",
    default=None,
    metavar="DELIVERY_ID",
    help="Send this delivery in doubt again (the person may get the message twice).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def reconcile_command(campaign: str, delivery_id: str | None, as_json: bool) -> None:
    """Settle what an interrupted send of CAMPAIGN left behind, and list deliveries in doubt.

    A message that was being handed over when the sender stopped may have
    arrived, so it is marked in doubt and never sent again on its own. With
    --resend, one such delivery is sent again, because you decided to.
    """
    crm = get_crm()
    with crm.backend.read() as reader:
        found = find_campaign(reader, crm, campaign)
    if delivery_id is not None:
        _resend(found.id, found.name, delivery_id, as_json)
        return
    report = reconcile(crm, found)
    with crm.backend.read() as reader:
        positions = {s.id: s.position for s in campaign_steps(reader, crm, found.id)}
        doubtful = reader.query(
            crm.entity_type(DELIVERY),
            Query(
                AllOf((Cond("campaign_id", "eq", found.id), Cond("status", "eq", "in_doubt"))),
                ("id",),
            ),
        )
    rows = [
        {
            "id": row["id"],
            "step": positions.get(row["step_id"]),
            "contact_id": row["contact_id"],
            "message_id": row["message_id"],
        }
        for row in doubtful
    ]
    if as_json:
        echo_json(
            {
                "campaign": found.name,
                "marked_in_doubt": list(report.in_doubt),
                "pending": report.pending,
                "in_doubt": rows,
            }
        )
        return
    click.echo(
        f"Campaign {found.name}: {len(report.in_doubt)} newly in doubt, {report.pending} waiting "
        "for the next send."
    )
    echo_table(
        rows,
        [
            ("id", "delivery"),
            ("step", "step"),
            ("contact_id", "contact"),
            ("message_id", "message"),
        ],
        empty="No deliveries in doubt.",
    )
    if rows:
        click.echo(
            f"Send one again with 'crmkit campaign reconcile {found.name} --resend DELIVERY_ID' "
            "once you know the person did not get it."
        )


def _resend(campaign_id: str, campaign_name: str, delivery_id: str, as_json: bool) -> None:
    crm = get_crm()
    with crm.backend.read() as reader:
        row = reader.get(crm.entity_type(DELIVERY), delivery_id.strip())
    if row is not None and row["campaign_id"] != campaign_id:
        raise ValidationError(
            DELIVERY,
            "campaign_id",
            f"delivery {delivery_id} belongs to another campaign, not {campaign_name!r}",
            record=delivery_id,
        )
    delivery = resend(crm, delivery_id)
    if as_json:
        echo_json(delivery)
    else:
        click.echo(
            f"Delivery {delivery.id} sent again to contact {delivery.contact_id} "
            f"(provider id {delivery.provider_id})."
        )
