"""``crmkit sales``: the sales plugin's command group.

Each subcommand lives in its own module and is imported only when it is run
or listed (``crmkit sales --help``), so loading the plugin stays cheap and a
command's dependencies are paid for by that command alone.
"""

from __future__ import annotations

import importlib

import click

# name -> (module:attribute, one-line help), in the order ``crmkit sales --help`` lists them.
SALES_COMMANDS: dict[str, tuple[str, str]] = {
    "leads": (
        "crmkit_sales.cli.leads:leads_group",
        "Capture, qualify, score, convert and import leads.",
    ),
    "deals": (
        "crmkit_sales.cli.deals:deals_group",
        "Open deals and move them through stages to won or lost.",
    ),
    "quotes": (
        "crmkit_sales.cli.quotes:quotes_group",
        "Draft, revise, send and decide quotes for deals.",
    ),
    "tasks": ("crmkit_sales.cli.tasks:tasks_group", "Follow-up tasks for leads and deals."),
    "board": ("crmkit_sales.cli.forecast:board_command", "Show open deals by pipeline stage."),
    "forecast": (
        "crmkit_sales.cli.forecast:forecast_command",
        "Forecast open deals by period: weighted, commit and best case.",
    ),
    "metrics": (
        "crmkit_sales.cli.forecast:metrics_command",
        "Win rates, average deal size, time to close and pipeline velocity.",
    ),
}


def _load(spec: str) -> click.Command:
    module, _, attr = spec.partition(":")
    command = getattr(importlib.import_module(module), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{spec} is not a click command")
    return command


class SalesGroup(click.Group):
    """A click group whose subcommands are imported by name when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SALES_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = SALES_COMMANDS.get(cmd_name)
        return _load(spec[0]) if spec is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in SALES_COMMANDS.items()]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group("sales", cls=SalesGroup)
def sales_group() -> None:
    """Sales: leads, deals through pipeline stages, quotes, tasks and forecasts."""
