"""Shared fixtures: CRMs on every backend, PostgreSQL schemas per test, temp projects.

PostgreSQL tests use the server named by ``CRMKIT_TEST_POSTGRES_URL``. Without
it they are skipped locally; CI sets it, and if the server is then unreachable
the tests fail instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib.metadata import Distribution
from pathlib import Path

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.testing.postgres import temporary_schema

PG_ENV = "CRMKIT_TEST_POSTGRES_URL"


def _pg_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema (dropped afterwards)."""
    base = _pg_base_url()
    if base is None:
        pytest.skip(f"set {PG_ENV} to run the PostgreSQL tests")
    with temporary_schema(base) as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for each backend in turn."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crm.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for each SQL backend (SQLite file, PostgreSQL schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crm.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def crm(any_url: str) -> Iterator[CRM]:
    """A CRM with no plugins on each backend."""
    with crmkit.open(any_url, plugins=[]) as opened:
        yield opened


@pytest.fixture
def sqlite_crm(tmp_path: Path) -> Iterator[CRM]:
    """A CRM with no plugins on a temporary SQLite file."""
    with crmkit.open(f"sqlite:///{tmp_path / 'crm.db'}", plugins=[]) as opened:
        yield opened


@pytest.fixture
def only_plugins_installed_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the plugins installed in the environment (crmkit-sales, ...) from this test.

    Tests of plugin management install fake plugins under ``tmp_path`` and assert
    what is listed, enabled or missing. The built-in plugins installed beside the
    core would otherwise show up in those lists, and their distributions would meet
    the fake plugins' requirements (a fake ``crmkit-campaign`` requiring
    ``crmkit-sales``), so both their entry points and their distributions are hidden.
    """
    from importlib.metadata import EntryPoint, PackageNotFoundError, distribution, entry_points

    import crmkit.plugins
    import crmkit.plugins.dependencies

    here = tmp_path.resolve()
    hidden = {
        ep.dist.metadata["Name"]
        for ep in entry_points(group=crmkit.plugins.ENTRY_POINT_GROUP)
        if ep.dist is not None and not _located_in(ep.dist, here)
    }

    def installed_here(**params: str) -> list[EntryPoint]:
        found = entry_points(**params)
        return [ep for ep in found if ep.dist is not None and _located_in(ep.dist, here)]

    def version_here(name: str) -> str:
        dist = distribution(name)
        if dist.metadata["Name"] in hidden and not _located_in(dist, here):
            raise PackageNotFoundError(name)
        return dist.version

    monkeypatch.setattr(crmkit.plugins, "entry_points", installed_here)
    monkeypatch.setattr(crmkit.plugins.dependencies, "version", version_here)


def _located_in(dist: Distribution, folder: Path) -> bool:
    return Path(str(dist.locate_file(""))).resolve().is_relative_to(folder)
