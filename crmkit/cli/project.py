"""``crmkit init`` and ``crmkit db``: create projects and migrate their databases."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmkit.cli.context import get_context
from crmkit.cli.output import echo_json, echo_table

if TYPE_CHECKING:
    from crmkit.crm import CRM


def require_up_to_date(crm: CRM) -> None:
    """Refuse to work on a database whose migrations are behind the loaded plugins."""
    from crmkit.errors import DatabaseError

    status = migration_status(crm)
    behind = [s["branch"] for s in status if not s["up_to_date"]]
    if behind:
        raise DatabaseError(
            f"the database is not up to date for {', '.join(map(str, behind))}; "
            "run 'crmkit db upgrade'"
        )


def migration_status(crm: CRM) -> list[dict[str, object]]:
    from crmkit.migrations.runner import describe
    from crmkit.storage.sql.backend import SqlBackend

    backend = crm.backend
    if not isinstance(backend, SqlBackend):
        return []
    with backend.connect() as conn:
        return describe(conn, crm.migrations)


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False), default=".")
@click.option(
    "--database",
    metavar="URL",
    default=None,
    help="Database URL (default: sqlite:///crm.db inside the project).",
)
@click.option("--plugin", "plugins", multiple=True, metavar="NAME", help="Enable a plugin.")
@click.option("--region", default=None, metavar="CC", help="Default phone region, e.g. GB.")
def init_command(
    directory: str, database: str | None, plugins: tuple[str, ...], region: str | None
) -> None:
    """Create DIRECTORY/crmkit.toml and the database with all migrations applied."""
    import crmkit
    from crmkit.errors import CrmkitError
    from crmkit.project import CONFIG_FILE, DEFAULT_DATABASE, write_project

    folder = Path(directory)
    config = folder / CONFIG_FILE
    path = write_project(
        folder, database=database or DEFAULT_DATABASE, plugins=plugins, default_region=region
    )
    try:
        with crmkit.open(folder, strict=True) as crm:
            applied = [p.name for p in crm.plugins if p.status == "loaded"]
    except CrmkitError:
        config.unlink(missing_ok=True)
        raise
    click.echo(f"Created {path}")
    click.echo(f"Database ready: {_shown_url(folder)}")
    click.echo(f"Plugins: {', '.join(applied) or 'none'}")


def _shown_url(folder: Path) -> str:
    from crmkit.project import load_settings
    from crmkit.storage.sql.engine import safe_url

    return safe_url(load_settings(folder).database_url)


@click.group("db")
def db_group() -> None:
    """Database migrations: the core and every enabled plugin own a branch."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration of the core and the enabled plugins."""
    from crmkit.migrations.runner import upgrade
    from crmkit.storage.sql.backend import SqlBackend

    crm = get_context().crm(check_schema=False)
    if not isinstance(crm.backend, SqlBackend):
        click.echo("This backend has no migrations.")
        return
    before = migration_status(crm)
    with crm.backend.connect() as conn:
        upgrade(conn, crm.migrations)
        conn.commit()
    after = migration_status(crm)
    changed = [a for b, a in zip(before, after, strict=True) if b["current"] != a["current"]]
    if not changed:
        click.echo("Already up to date.")
    for item in changed:
        click.echo(f"Upgraded {item['branch']} to {item['current']}")


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def db_current(as_json: bool) -> None:
    """Show, per migration branch, the revision the database is at and the newest one."""
    crm = get_context().crm(check_schema=False)
    status = migration_status(crm)
    if as_json:
        echo_json(status)
        return
    echo_table(
        [{**s, "state": "up to date" if s["up_to_date"] else "behind"} for s in status],
        [("branch", "BRANCH"), ("current", "CURRENT"), ("head", "HEAD"), ("state", "STATE")],
    )
