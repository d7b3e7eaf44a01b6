"""``crmkit sales``: the sales plugin's command group.

Each subcommand lives in its own module and is imported only when it is run
or listed (``crmkit sales --help``), so loading the plugin stays cheap and a
command's dependencies are paid for by that command alone.
"""

from __future__ import annotations

import click

from crmkit.cli.lazy import LazyGroup

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


@click.group("sales", cls=LazyGroup, commands=SALES_COMMANDS)
def sales_group() -> None:
    """Sales: leads, deals through pipeline stages, quotes, tasks and forecasts."""


__all__ = ["SALES_COMMANDS", "sales_group"]
