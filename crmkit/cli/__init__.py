"""The ``crmkit`` command, assembled lazily.

Core commands are listed with their help text but imported only when run, and
plugins' command groups are loaded only when one of them is asked for, so
``crmkit --help`` does not import SQLAlchemy or any plugin.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from crmkit import __version__
from crmkit.cli.context import CliContext
from crmkit.cli.lazy import load_command

# name -> (module:attribute, one-line help). Each core command is its own module,
# added exactly the way a plugin's group is added.
CORE_COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("crmkit.cli.project:init_command", "Create a project: crmkit.toml and a database."),
    "db": ("crmkit.cli.project:db_group", "Apply and inspect database migrations."),
    "plugins": (
        "crmkit.cli.plugins:plugins_group",
        "List, describe, enable, disable and check plugins.",
    ),
    "plugin": (
        "crmkit.cli.scaffold:plugin_group",
        "Create a new plugin package: crmkit plugin new NAME.",
    ),
    "contacts": (
        "crmkit.cli.contacts:contacts_group",
        "Add, show, change, delete and search contacts.",
    ),
    "orgs": ("crmkit.cli.orgs:orgs_group", "Add, show, change, delete and search organizations."),
    "log": ("crmkit.cli.timeline:log_command", "Record an interaction on a contact's timeline."),
    "timeline": (
        "crmkit.cli.timeline:timeline_command",
        "Show a contact's interactions, newest first.",
    ),
    "view": ("crmkit.cli.timeline:view_command", "Show the single customer view of a contact."),
    "import": ("crmkit.cli.transfer:import_group", "Import records from CSV or JSON Lines."),
    "export": ("crmkit.cli.transfer:export_group", "Export records as CSV or JSON Lines."),
    "events": ("crmkit.cli.events:events_group", "Read the event outbox; retry failed deliveries."),
    "consent": (
        "crmkit.cli.consent:consent_group",
        "Record and show consent per purpose and channel.",
    ),
    "privacy": (
        "crmkit.cli.privacy:privacy_group",
        "Data subject rights, the privacy check and retention sweeps.",
    ),
    "audit": ("crmkit.cli.audit:audit_group", "Read and verify the privacy audit log."),
    "demo": ("crmkit.cli.demo:demo_command", "Assemble a demo CRM with sample data and show it."),
}


class CrmkitGroup(click.Group):
    """The root group: core commands by import path, plugin groups on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(CORE_COMMANDS)
        obj = ctx.find_object(CliContext) or CliContext(ctx.params.get("project"))
        names.update(obj.plugin_command_names())
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = CORE_COMMANDS.get(cmd_name)
        if spec is not None:
            return load_command(spec[0])
        obj = ctx.find_object(CliContext)
        if obj is None:
            # click resolves the subcommand before the root callback runs, so the
            # invocation's context is made here from the already parsed --project.
            obj = ctx.obj = CliContext(ctx.params.get("project"), ctx.params.get("actor"))
        return obj.plugin_commands().get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in sorted(CORE_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
        # Help is formatted before the root callback runs, so there may be no
        # context yet; plugin names come from entry points without importing them.
        obj = ctx.find_object(CliContext) or CliContext(ctx.params.get("project"))
        plugin_names = sorted(obj.plugin_command_names())
        if plugin_names:
            with formatter.section("Plugin commands"):
                formatter.write_dl([(n, f"Commands of the {n} plugin.") for n in plugin_names])


@click.group(cls=CrmkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--project",
    "project",
    envvar="CRMKIT_PROJECT",
    type=click.Path(file_okay=False),
    help="Project folder (default: the current folder). Env: CRMKIT_PROJECT.",
)
@click.option(
    "--as",
    "actor",
    envvar="CRMKIT_ACTOR",
    metavar="ACTOR",
    help="Who is acting; the privacy policy decides with their roles. Env: CRMKIT_ACTOR.",
)
@click.version_option(__version__, prog_name="crmkit")
@click.pass_context
def cli(ctx: click.Context, project: str | None, actor: str | None) -> None:
    """crmkit: a CRM you assemble from plugins.

    Commands run against the project (a folder with crmkit.toml) in the
    current folder, or the one given by --project. CRMKIT_DATABASE_URL
    overrides the project's database.

    Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 invalid data,
    5 configuration or database, 6 plugin, 7 denied by the privacy
    policy, 130 interrupted.
    """
    if not isinstance(ctx.obj, CliContext):
        ctx.obj = CliContext(project)
    ctx.obj.actor = actor
    ctx.call_on_close(ctx.obj.close)


def main(argv: list[str] | None = None) -> Any:
    """Run the ``crmkit`` command; turn crmkit's errors into one line and an exit code."""
    from crmkit.errors import CrmkitError

    try:
        return cli.main(args=argv, prog_name="crmkit", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("Interrupted; nothing half-written was kept.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except CrmkitError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("CRMKIT_DEBUG"):
            raise
        if _is_database_error(exc):
            click.echo(f"Error: database: {str(exc).splitlines()[0]}", err=True)
            sys.exit(5)
        click.echo(
            f"Error: internal error: {type(exc).__name__}: {exc} "
            "(set CRMKIT_DEBUG=1 to see the traceback)",
            err=True,
        )
        sys.exit(70)


def _is_database_error(exc: BaseException) -> bool:
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError)
