"""Run Alembic over the core's migration branch and every loaded plugin's branch.

Each branch lives in its own folder (a *version location*); Alembic sees them
all at once, so ``upgrade heads`` brings any set of plugins up to date.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.resources import files

import attrs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

VERSION_TABLE = "crmkit_alembic_version"


@attrs.frozen
class MigrationBranch:
    """A plugin's (or the core's) migrations: a branch label and its folder.

    ``location`` is a folder path or a ``package:folder`` resource spec, for
    example ``"crmkit_sales:migrations"``.
    """

    label: str
    location: str


CORE_BRANCH = MigrationBranch("crmkit", "crmkit.migrations:versions")


def _config(connection: Connection | None, branches: Sequence[MigrationBranch]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "crmkit:migrations")
    # Alembic separates version locations with the path separator it is told to use.
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option(
        "version_locations", os.pathsep.join(_resolve(b.location) for b in branches)
    )
    cfg.attributes["connection"] = connection
    return cfg


def _resolve(location: str) -> str:
    """Turn ``package.module:folder`` into a filesystem path."""
    if ":" not in location or os.path.isabs(location) or location.startswith("."):
        return location
    package, _, folder = location.partition(":")
    return str(files(package).joinpath(folder))


def upgrade(
    connection: Connection, branches: Sequence[MigrationBranch], target: str = "heads"
) -> None:
    """Bring the database up to ``target`` (all heads by default)."""
    command.upgrade(_config(connection, branches), target)


def downgrade(connection: Connection, branches: Sequence[MigrationBranch], target: str) -> None:
    """Step the database down to ``target`` (for example ``sales@base``)."""
    command.downgrade(_config(connection, branches), target)


def current_heads(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at (one per branch)."""
    ctx = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return tuple(sorted(ctx.get_current_heads()))


def describe(
    connection: Connection, branches: Sequence[MigrationBranch]
) -> list[dict[str, object]]:
    """Per branch: its label, the revision the database is at and the head revision."""
    script = ScriptDirectory.from_config(_config(None, branches))
    # The version table keeps only heads: a revision another branch depends on
    # (depends_on = "crmkit_0001") is applied without being listed there.
    applied: set[str] = set()
    for current in current_heads(connection):
        applied.update(r.revision for r in script.walk_revisions(base="base", head=current))
    out: list[dict[str, object]] = []
    for branch in branches:
        heads = [s for s in script.get_revisions(f"{branch.label}@head") if s is not None]
        head = heads[0].revision if heads else None
        at = None
        for rev in script.walk_revisions(base="base", head=f"{branch.label}@head"):
            if rev.revision in applied and branch.label in rev.branch_labels:
                at = rev.revision
                break
        out.append({"branch": branch.label, "current": at, "head": head, "up_to_date": at == head})
    return out
