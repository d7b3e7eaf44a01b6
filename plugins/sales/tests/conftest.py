"""Shared fixtures of the crmkit-sales tests, built on crmkit's testing kit.

``crm``
    A CRM with the sales plugin, once on a SQLite file and once in a fresh
    PostgreSQL schema (skipped unless ``CRMKIT_TEST_POSTGRES_URL`` is set).
``sqlite_crm``
    The same on SQLite only, for tests about one database.
``sales_project`` (also ``cli_project``)
    A project folder made with ``crmkit init DIR --plugin sales``;
    ``sales_project.run("sales", "deals", "list", "--json")`` runs the
    ``crmkit`` command in it and returns the result (``exit_code``,
    ``output``, ``json()``).
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from crmkit.crm import CRM
from crmkit.testing.cli_runner import CliResult, CliRunner
from crmkit.testing.crm_factory import CrmFactory

PLUGINS = ["sales"]


@pytest.fixture(params=["sqlite", "postgresql"])
def crm(request: pytest.FixtureRequest, crm_factory: CrmFactory) -> CRM:
    """A CRM with the sales plugin on SQLite, then on PostgreSQL."""
    return crm_factory(PLUGINS, url=request.param)


@pytest.fixture
def sqlite_crm(crm_factory: CrmFactory) -> CRM:
    """A CRM with the sales plugin on a SQLite file."""
    return crm_factory(PLUGINS, url="sqlite")


@attrs.frozen
class SalesProject:
    """A crmkit project with the sales plugin enabled, and a way to run commands in it."""

    path: Path
    runner: CliRunner

    def run(self, *args: str, input: str | None = None) -> CliResult:
        """Run ``crmkit ARGS...`` in this project, as a user would type it."""
        return self.runner(*args, input=input)


@pytest.fixture
def sales_project(tmp_path: Path) -> SalesProject:
    """A project made with ``crmkit init DIR --plugin sales`` through the command line."""
    path = tmp_path / "crm"
    made = CliRunner(tmp_path)("init", str(path), "--plugin", "sales")
    assert made.exit_code == 0, str(made)
    return SalesProject(path, CliRunner(path))


@pytest.fixture
def cli_project(sales_project: SalesProject) -> SalesProject:
    """Another name for ``sales_project``."""
    return sales_project
