"""``crmkit service``: the service desk's command group.

Each subcommand lives in a module of its own and is imported only when it is
run or its help is shown, so loading the plugin stays cheap and a command's
dependencies are paid for by that command alone. :data:`SERVICE_COMMANDS` is
the one list of them.
"""

from __future__ import annotations

import click

from crmkit.cli.lazy import LazyGroup, load_command

SERVICE_COMMANDS: dict[str, tuple[str, str]] = {
    "tickets": ("crmkit_service.cli.tickets:tickets_group", "Open, list, answer and work tickets."),
    "agents": ("crmkit_service.cli.agents:agents_group", "The agents who work tickets."),
    "intake": (
        "crmkit_service.cli.intake:intake_command",
        "Take in an email as a ticket or reply.",
    ),
    "intake-rejected": (
        "crmkit_service.cli.intake:rejected_command",
        "List the messages intake refused, and why.",
    ),
    "intake-retry": (
        "crmkit_service.cli.intake:retry_command",
        "Take in a refused message again.",
    ),
    "tick": ("crmkit_service.cli.tick:tick_command", "Mark SLA warnings and breaches, escalate."),
    "canned": ("crmkit_service.cli.knowledge:canned_group", "Canned replies with placeholders."),
    "kb": ("crmkit_service.cli.knowledge:kb_group", "Knowledge-base articles."),
    "csat": ("crmkit_service.cli.feedback:csat_command", "Record a customer's CSAT/NPS answer."),
    "report": ("crmkit_service.cli.report:report_command", "The service report per period, team."),
}
"""Command name -> (``module:attribute``, one-line help), in the order ``--help`` lists them."""


@click.group("service", cls=LazyGroup, commands=SERVICE_COMMANDS)
def service_group() -> None:
    """Service desk: tickets, email intake, SLAs, escalation, knowledge base, CSAT."""


__all__ = ["SERVICE_COMMANDS", "load_command", "service_group"]
