"""A temporary crmkit project folder whose plugin list a test chooses."""

from __future__ import annotations

from pathlib import Path

from crmkit.project import CONFIG_FILE, DEFAULT_DATABASE, write_project


class CrmkitProject:
    """A project folder made like ``crmkit init`` makes one: ``crmkit.toml`` and its database.

    It starts with no plugins and the default SQLite database in the folder,
    migrated. :meth:`with_plugins` rewrites ``crmkit.toml`` with a new plugin
    list, applies the plugins' migrations and returns the project, so
    ``crmkit_project.with_plugins("loyalty")`` reads as what it does. Write
    anything else straight into :attr:`config`.
    """

    def __init__(self, path: Path, *, database: str = DEFAULT_DATABASE) -> None:
        self.path = path
        self.database = database
        self.plugins: tuple[str, ...] = ()

    @classmethod
    def create(cls, path: Path, *, database: str = DEFAULT_DATABASE) -> CrmkitProject:
        """Make the folder and its ``crmkit.toml`` (no plugins)."""
        project = cls(path, database=database)
        write_project(path, database=database)
        project.migrate()
        return project

    @property
    def config(self) -> Path:
        """The project's ``crmkit.toml``."""
        return self.path / CONFIG_FILE

    def with_plugins(self, *plugins: str) -> CrmkitProject:
        """Set the plugins the project loads (exactly these), migrate, return the project."""
        self.config.unlink()
        write_project(self.path, database=self.database, plugins=plugins)
        self.plugins = plugins
        self.migrate()
        return self

    def migrate(self) -> None:
        """Apply every pending migration of the core and the project's plugins."""
        import crmkit

        with crmkit.open(self.path, strict=True):
            pass

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"CrmkitProject({str(self.path)!r}, plugins={list(self.plugins)!r})"
