"""``crmkit campaign create|step|start|pause|list|show|preview|...``: campaigns and results.

A campaign is named by its id or name, a contact by id or email, a message by
the Message-ID crmkit gave it (``<id@crmkit>``). ``--body @FILE`` reads a text
from a file. Read commands have ``--json``. An unknown campaign, contact or
message exits 3, a bad value 4, a refusal of the privacy policy 7.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_record, echo_table
from crmkit.errors import ValidationError
from crmkit_campaign.entities import AB_METRICS, STOP_REASONS

if TYPE_CHECKING:
    from crmkit_campaign.responses import Recorded
    from crmkit_campaign.results import CampaignReport

CAMPAIGN_COLUMNS = (
    ("name", "NAME"),
    ("status", "STATUS"),
    ("purpose", "PURPOSE"),
    ("channel", "CHANNEL"),
    ("started_at", "STARTED"),
    ("id", "ID"),
)
STEP_COLUMNS = (
    ("position", "STEP"),
    ("wait_days", "WAIT DAYS"),
    ("subject", "SUBJECT"),
    ("split_b", "B %"),
    ("stop_on", "STOP ON"),
)
REPORT_COLUMNS = (
    ("position", "STEP"),
    ("variant", "VARIANT"),
    ("sent", "SENT"),
    ("delivered", "DELIVERED"),
    ("bounced", "BOUNCED"),
    ("replied", "REPLIED"),
    ("unsubscribed", "UNSUBSCRIBED"),
    ("complained", "COMPLAINTS"),
    ("converted_first", "CONV FIRST"),
    ("converted_last", "CONV LAST"),
    ("failed", "FAILED"),
    ("in_doubt", "IN DOUBT"),
)


def read_text(value: str | None, option: str) -> str | None:
    """``value``, or the contents of the file it names as ``@path``."""
    if value is None or not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(
            "campaign.step", option, f"cannot read {path}: {exc.strerror}; give a readable file "
            "after @, or the text itself"
        ) from None


@click.command("create")
@click.argument("name")
@click.option("--segment", required=True, metavar="SEGMENT", help="Who it goes to (id or name).")
@click.option("--purpose", default="marketing", show_default=True, help="The consent purpose.")
@click.option("--channel", default="email", show_default=True, help="The channel it goes on.")
@click.option("--sender", metavar="ADDRESS", help="From address (default: the settings').")
@click.option("--throttle", type=click.IntRange(min=1), metavar="N", help="At most N a minute.")
@click.option("--ab-metric", type=click.Choice(AB_METRICS), help="What decides A/B tests.")
@click.option("--json", "as_json", is_flag=True, help="Print the campaign as JSON.")
def create_command(
    name: str,
    segment: str,
    purpose: str,
    channel: str,
    sender: str | None,
    throttle: int | None,
    ab_metric: str | None,
    as_json: bool,
) -> None:
    """Create the draft campaign NAME for a segment.

    \b
    Example:
      crmkit campaign create "Spring sale" --segment "Newsletter readers"
    """
    from crmkit_campaign.campaigns import Campaigns

    campaign = Campaigns(get_crm()).create(
        name,
        segment=segment,
        purpose=purpose,
        channel=channel,
        sender=sender,
        throttle_per_minute=throttle,
        ab_metric=ab_metric,
    )
    if as_json:
        echo_json(campaign)
        return
    click.echo(
        f"Created campaign {campaign.name} ({campaign.id}): {campaign.purpose} by "
        f"{campaign.channel}, draft. Add a step with 'crmkit campaign step'."
    )


@click.command("step")
@click.argument("campaign")
@click.option("--body", required=True, metavar="TEXT|@FILE", help="The message; @FILE reads it.")
@click.option("--subject", metavar="TEXT", help="The subject (email needs one).")
@click.option("--wait-days", type=click.IntRange(min=0), default=0, show_default=True,
              help="Days after the step before (0 for the first step).")
@click.option("--variant-b-subject", metavar="TEXT", help="Variant B's subject.")
@click.option("--variant-b-body", metavar="TEXT|@FILE", help="Variant B's message.")
@click.option("--split-b", type=click.IntRange(0, 100), default=0, show_default=True,
              help="Percent of recipients who get variant B.")
@click.option("--stop-on", multiple=True, type=click.Choice([*STOP_REASONS, "nothing"]),
              help="Responses that end the campaign for a person before this step "
              "(repeatable; default: all three; 'nothing' for none).")
@click.option("--json", "as_json", is_flag=True, help="Print the step as JSON.")
def step_command(
    campaign: str,
    body: str,
    subject: str | None,
    wait_days: int,
    variant_b_subject: str | None,
    variant_b_body: str | None,
    split_b: int,
    stop_on: tuple[str, ...],
    as_json: bool,
) -> None:
    """Add the next message to CAMPAIGN.

    Texts may use {first_name}, {last_name}, {email}, {custom.KEY},
    {unsubscribe_url} and {campaign}.

    \b
    Example:
      crmkit campaign step "Spring sale" --subject "Hello {first_name}" --body @spring.txt
      crmkit campaign step "Spring sale" --wait-days 3 --subject "Last days" --body @last.txt
    """
    from crmkit_campaign.campaigns import Campaigns

    if "nothing" in stop_on and len(stop_on) > 1:
        raise click.UsageError("--stop-on nothing cannot be combined with other reasons")
    step = Campaigns(get_crm()).add_step(
        campaign,
        body=read_text(body, "body") or "",
        subject=subject,
        wait_days=wait_days,
        variant_b_subject=variant_b_subject,
        variant_b_body=read_text(variant_b_body, "variant_b_body"),
        split_b=split_b,
        stop_on=None if not stop_on else [r for r in stop_on if r != "nothing"],
    )
    if as_json:
        echo_json(step)
        return
    ab = f", variant B to {step.split_b}%" if step.split_b else ""
    click.echo(f"Added step {step.position} ({step.id}), {step.wait_days} days after the step "
               f"before{ab}")


@click.command("start")
@click.argument("campaign")
def start_command(campaign: str) -> None:
    """Start (or resume) CAMPAIGN; 'crmkit campaign send' then sends what is due."""
    from crmkit_campaign.campaigns import Campaigns

    started = Campaigns(get_crm()).start(campaign)
    click.echo(f"Campaign {started.name} is active")


@click.command("pause")
@click.argument("campaign")
def pause_command(campaign: str) -> None:
    """Pause CAMPAIGN: nothing of it is sent until it is started again."""
    from crmkit_campaign.campaigns import Campaigns

    paused = Campaigns(get_crm()).pause(campaign)
    click.echo(f"Campaign {paused.name} is paused")


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_command(as_json: bool) -> None:
    """List campaigns, oldest first."""
    from crmkit_campaign.campaigns import Campaigns

    found = Campaigns(get_crm()).list()
    if as_json:
        echo_json(found)
        return
    rows = [attrs.asdict(c, recurse=False) for c in found]
    echo_table(rows, CAMPAIGN_COLUMNS, empty="No campaigns yet.")


@click.command("show")
@click.argument("campaign")
@click.option("--json", "as_json", is_flag=True, help="Print the campaign and steps as JSON.")
def show_command(campaign: str, as_json: bool) -> None:
    """Show CAMPAIGN and its steps."""
    from crmkit_campaign.campaigns import Campaigns

    service = Campaigns(get_crm())
    found = service.get(campaign)
    steps = service.steps(found.id)
    if as_json:
        echo_json({**attrs.asdict(found, recurse=False), "steps": steps})
        return
    echo_record(attrs.asdict(found, recurse=False))
    click.echo("")
    echo_table([attrs.asdict(s, recurse=False) for s in steps], STEP_COLUMNS,
               empty="No steps yet.")


@click.command("preview")
@click.argument("campaign")
@click.option("--step", "position", type=click.IntRange(min=1), default=1, show_default=True,
              help="Which step.")
@click.option("--contact", required=True, metavar="CONTACT", help="Who it is for (id or email).")
@click.option("--variant", type=click.Choice(["A", "B"]),
              help="Show this variant (default: the one the person would get).")
@click.option("--json", "as_json", is_flag=True, help="Print the message as JSON.")
def preview_command(
    campaign: str, position: int, contact: str, variant: str | None, as_json: bool
) -> None:
    """Show a step of CAMPAIGN as one person would get it; nothing is sent."""
    from crmkit_campaign.campaigns import Campaigns, variant_for
    from crmkit_campaign.screening import address_of
    from crmkit_campaign.settings import campaign_settings
    from crmkit_campaign.templates import compose

    crm = get_crm()
    service = Campaigns(crm)
    owner = service.get(campaign)
    step = service.step(owner.id, position)
    person = crm.contacts.get(contact)
    chosen = variant or variant_for(step, person.id)
    message = compose(crm, campaign_settings(crm), owner, step, person, variant=chosen)
    decision = crm.privacy.may_contact(person.id, owner.purpose, owner.channel)
    consent = "allowed" if decision.allowed else f"left out ({decision.rule}): {decision.reason}"
    to = address_of(person, owner.channel)
    if as_json:
        echo_json({**attrs.asdict(message), "headers": message.headers, "to": to,
                   "contact_id": person.id, "step": step.position,
                   "would_send": decision.allowed and to is not None, "consent": consent})
        return
    echo_record({"to": to or f"no {owner.channel} address", "step": step.position,
                 "variant": chosen, "subject": message.subject, "send now": consent})
    click.echo("")
    click.echo(message.body)


@click.command("unsubscribe")
@click.argument("token")
def unsubscribe_command(token: str) -> None:
    """Redeem an unsubscribe TOKEN: withdraw the consent it names."""
    from crmkit_campaign.unsubscribe import redeem

    done = redeem(get_crm(), token)
    what = f"{done.purpose} by {done.channel}"
    if done.already:
        click.echo(f"Already unsubscribed: contact {done.contact_id} gets no {what}")
    else:
        click.echo(f"Unsubscribed: contact {done.contact_id} gets no more {what}")


def _echo_recorded(kind: str, recorded: Recorded) -> None:
    click.echo(f"Recorded {kind} to message {recorded.delivery.message_id} "
               f"(contact {recorded.delivery.contact_id})")
    if recorded.blocked is not None:
        click.echo(f"Blocked address {recorded.blocked.address}: {recorded.blocked.reason}")


@click.command("reply")
@click.argument("message_id")
@click.option("--text", metavar="TEXT", help="What the person wrote.")
@click.option("--campaign", metavar="CAMPAIGN", help="With a contact instead of a Message-ID: "
              "the campaign replied to.")
def reply_command(message_id: str, text: str | None, campaign: str | None) -> None:
    """Record a reply to MESSAGE_ID (or to a contact's latest message, by id or email)."""
    from crmkit_campaign.responses import record_reply

    _echo_recorded("a reply", record_reply(get_crm(), message_id, text=text, campaign=campaign))


@click.command("bounce")
@click.argument("message_id")
@click.option("--soft", is_flag=True, help="A temporary failure (mailbox full ...).")
@click.option("--detail", metavar="TEXT", help="The provider's diagnostic.")
def bounce_command(message_id: str, soft: bool, detail: str | None) -> None:
    """Record that MESSAGE_ID bounced (hard unless --soft)."""
    from crmkit_campaign.responses import record_bounce

    recorded = record_bounce(get_crm(), message_id, hard=not soft, detail=detail)
    _echo_recorded("a soft bounce" if soft else "a hard bounce", recorded)


@click.command("complaint")
@click.argument("message_id")
@click.option("--detail", metavar="TEXT", help="The feedback report's details.")
def complaint_command(message_id: str, detail: str | None) -> None:
    """Record a spam complaint about MESSAGE_ID: block the address, withdraw consent."""
    from crmkit_campaign.responses import record_complaint

    _echo_recorded("a complaint", record_complaint(get_crm(), message_id, detail))


def _echo_report(report: CampaignReport) -> None:
    owner = report.campaign
    click.echo(f"Campaign {owner.name} ({owner.status}): {owner.purpose} by {owner.channel}")
    click.echo("")
    echo_table([attrs.asdict(v) for v in report.variants], REPORT_COLUMNS,
               empty="No steps yet.")
    for position, reasons in sorted(report.excluded.items()):
        listed = ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
        click.echo(f"Step {position} left out: {listed}")
    for verdict in report.ab:
        rates = ", ".join(
            f"{v} {_percent(r)} of {n}"
            for v, r, n in (("A", verdict.rate_a, verdict.delivered_a),
                            ("B", verdict.rate_b, verdict.delivered_b))
        )
        click.echo(f"Step {verdict.position} A/B on {verdict.metric}: {verdict.verdict} "
                   f"({rates})")


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


@click.command("report")
@click.argument("campaign")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report_command(campaign: str, as_json: bool) -> None:
    """Results of CAMPAIGN per step and variant, exclusions and A/B verdicts."""
    from crmkit_campaign.results import Results

    report = Results(get_crm()).report(campaign)
    if as_json:
        data: dict[str, Any] = report.as_dict()
        echo_json(data)
        return
    _echo_report(report)
