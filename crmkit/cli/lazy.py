"""Command groups whose subcommands are imported only when they run or are listed.

A plugin's command group (``crmkit sales``) may hold dozens of commands, each with
its own imports. Declaring them by import path keeps ``crmkit --help`` and loading
the plugin cheap: a command's module is imported when that command is run or its
help is shown, never before. The core's own commands are declared the same way.

    SALES_COMMANDS = {"deals": ("crmkit_sales.cli.deals:deals_group", "Open deals ...")}

    @click.group("sales", cls=LazyGroup, commands=SALES_COMMANDS)
    def sales_group() -> None:
        \"\"\"Sales: leads, deals, quotes, tasks and forecasts.\"\"\"
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

CommandSpecs = Mapping[str, tuple[str, str]]
"""Command name -> (``module:attribute``, one-line help), in the order help lists them."""


def load_command(spec: str) -> click.Command:
    """Import the click command named by ``"module:attribute"``."""
    module, _, attr = spec.partition(":")
    command = getattr(importlib.import_module(module), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{spec} is not a click command")
    return command


class LazyGroup(click.Group):
    """A click group whose subcommands are imported by name when asked for.

    ``commands`` maps each name to its import path and the one line ``--help``
    shows, so listing the group imports nothing.
    """

    def __init__(self, *args: Any, commands: CommandSpecs, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.specs = dict(commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.specs)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = self.specs.get(cmd_name)
        return load_command(spec[0]) if spec is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in self.specs.items()]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
