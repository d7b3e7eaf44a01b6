"""State of one ``crmkit`` invocation: which project, the CRM opened for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from crmkit.plugins import installed_entry_points

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.project import Settings



class CliContext:
    """Opens the project's CRM on first use and closes it when the command ends."""

    def __init__(self, project: str | None, actor: str | None = None) -> None:
        self.project = project
        self.actor = actor
        """The ``--as`` actor (``None``: ``$CRMKIT_ACTOR``, else ``system``)."""
        self._crm: CRM | None = None
        self._plugin_commands: dict[str, click.Command] | None = None

    def settings(self) -> Settings:
        from crmkit.project import find_project, load_settings

        return load_settings(find_project(self.project))

    def crm(self, *, check_schema: bool = True) -> CRM:
        """The project's CRM; refuses to run on a database with pending migrations."""
        if self._crm is None:
            from crmkit.crm import CRM

            settings = self.settings()
            crm = CRM(settings, plugins=settings.plugins, migrate=False, actor=self.actor)
            if check_schema:
                from crmkit.cli.project import require_up_to_date

                try:
                    require_up_to_date(crm)
                except BaseException:
                    crm.close()
                    raise
            self._crm = crm
        return self._crm

    def plugin_command_names(self) -> list[str]:
        """Entry-point names of installed plugins; by convention each names its group."""
        return sorted({ep.name for ep in installed_entry_points()})

    def plugin_commands(self) -> dict[str, click.Command]:
        """Commands contributed by the project's plugins (loads them, without a database)."""
        if self._plugin_commands is None:
            from crmkit import builtin
            from crmkit.errors import ConfigError
            from crmkit.plugins.manager import collect, load_plugins

            try:
                requested = self.settings().plugins
            except ConfigError:
                requested = None
            loaded = load_plugins(requested=requested, core=builtin)
            commands: dict[str, click.Command] = {}
            for _plugin, items in collect(loaded.pm, "crmkit_register_commands"):
                for command in items:
                    if command.name:
                        commands[command.name] = command
            self._plugin_commands = commands
        return self._plugin_commands

    def close(self) -> None:
        if self._crm is not None:
            self._crm.close()
            self._crm = None


def get_context() -> CliContext:
    """The current invocation's context (for commands, including plugins')."""
    return click.get_current_context().find_object(CliContext) or CliContext(None)


def get_crm() -> CRM:
    """The CRM of the current project, for command implementations."""
    return get_context().crm()
