"""``crmkit service``: the service desk's command group.

Each subcommand lives in a module of its own and is imported only when it is
run or its help is shown, so loading the plugin stays cheap and a command's
dependencies are paid for by that command alone. :data:`SERVICE_COMMANDS` is
the one list of them.
"""

from __future__ import annotations

import importlib

import click

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


def load_command(spec: str) -> click.Command:
    """The click command at ``module:attribute``."""
    module, _, attr = spec.partition(":")
    command = getattr(importlib.import_module(module), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{spec} is not a click command")
    return command


class ServiceGroup(click.Group):
    """A click group whose subcommands are imported by name when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SERVICE_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = SERVICE_COMMANDS.get(cmd_name)
        return load_command(spec[0]) if spec is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in SERVICE_COMMANDS.items()]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def build_service_group() -> click.Group:
    """The ``crmkit service`` group, listing every command of :data:`SERVICE_COMMANDS`."""
    return ServiceGroup(
        "service",
        help="Service desk: tickets, email intake, SLAs, escalation, knowledge base, CSAT.",
    )


service_group = build_service_group()
