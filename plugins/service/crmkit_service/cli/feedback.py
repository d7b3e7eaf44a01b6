"""``crmkit service csat``: record a customer's CSAT and NPS answer on a resolved ticket."""

from __future__ import annotations

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json


@click.command("csat")
@click.argument("ticket")
@click.option(
    "--score",
    "csat",
    type=click.IntRange(1, 5),
    help="Satisfaction, 1 (very poor) to 5 (very good).",
)
@click.option("--nps", type=click.IntRange(0, 10), help="How likely to recommend us, 0 to 10.")
@click.option("--comment", help="What the customer said.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def csat_command(
    ticket: str, csat: int | None, nps: int | None, comment: str | None, as_json: bool
) -> None:
    """Record the customer's answer on TICKET (key or id) once it is resolved.

    One answer per ticket; give --score, --nps or both.

    \b
    Example:
      crmkit service csat T-42 --score 5 --nps 9 --comment "Quick and kind"
    """
    from crmkit_service.feedback import Feedback

    answer = Feedback(get_crm()).record(ticket, csat=csat, nps=nps, comment=comment)
    if as_json:
        echo_json(answer)
        return
    given = [
        f"CSAT {csat}/5" if csat is not None else "",
        f"NPS {nps}/10" if nps is not None else "",
    ]
    click.echo(f"Recorded feedback on {ticket}: " + ", ".join(g for g in given if g) + ".")
