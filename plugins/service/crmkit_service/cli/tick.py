"""``crmkit service tick``: mark SLA warnings and breaches and escalate (run it from cron)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_table

if TYPE_CHECKING:
    from crmkit_service.tick import TickNotice

NOTICE_COLUMNS = (
    ("key", "TICKET"),
    ("kind", "EVENT"),
    ("target", "TARGET"),
    ("due", "DUE (UTC)"),
    ("escalations", "ESCALATIONS"),
)


@click.command("tick")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tick_command(as_json: bool) -> None:
    """Mark SLA warnings and breaches that are due now and run the escalation rules.

    Safe to run as often as you like (cron every few minutes): a warning or
    breach is marked and escalated once. Exits 0 when all went well, even with
    nothing to do, and 1 when some ticket could not be handled (it is left as it
    was and tried again next time).

    \b
    Example (crontab):
      */5 * * * *  cd /srv/crm && crmkit service tick
    """
    from crmkit_service.tick import tick

    report = tick(get_crm())
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(
            f"Checked {report.checked} running SLA clock(s): {report.warned} warned, "
            f"{report.breached} breached, {report.escalations} escalation action(s)."
        )
        echo_table([_notice_row(n) for n in report.notices], NOTICE_COLUMNS)
        for failure in report.failures:
            click.echo(f"Error: {failure.key}: {failure.error}", err=True)
    if report.failed:
        click.get_current_context().exit(1)


def _notice_row(notice: TickNotice) -> dict[str, Any]:
    return {
        "key": notice.key,
        "kind": notice.kind,
        "target": notice.target.replace("_", " "),
        "due": notice.due,
        "escalations": list(notice.escalations),
    }
