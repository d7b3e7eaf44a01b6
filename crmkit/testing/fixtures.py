"""pytest fixtures for testing crmkit plugins and applications, installed with crmkit.

crmkit registers this module as a pytest plugin (entry point ``pytest11``), so
every project with crmkit installed can use these fixtures without a conftest:

``crm_factory``
    ``crm_factory(["loyalty"])`` opens a CRM with exactly those plugins on
    ``memory://``; ``url="sqlite"`` puts it in a temporary SQLite file,
    ``url="postgresql"`` in a throwaway schema of ``$CRMKIT_TEST_POSTGRES_URL``.
``crmkit_project``
    A temporary project folder made like ``crmkit init`` makes one (migrated
    SQLite database inside), with no plugins;
    ``crmkit_project.with_plugins("loyalty")`` sets its plugin list and
    applies the plugins' migrations.
``crmkit_cli``
    ``crmkit_cli("contacts", "add", "--first-name", "Ada")`` runs the
    ``crmkit`` command in-process in that project and returns a
    :class:`CliResult` (``exit_code``, ``output``, ``json()``).
``crmkit_clock``
    Freezes the time crmkit sees (needs ``time-machine``, in ``crmkit[test]``):
    ``crmkit_clock.set(...)``, ``crmkit_clock.advance(days=1)``.
``crmkit_samples``
    Valid, seeded sample values: ``crmkit_samples.contact()``,
    ``crmkit_samples.contacts(10)``, ``crmkit_samples.organization()``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crmkit.testing.cli_runner import CliResult, CliRunner
from crmkit.testing.clock import DEFAULT_START, Clock
from crmkit.testing.crm_factory import CrmFactory
from crmkit.testing.project import CrmkitProject
from crmkit.testing.samples import Samples

__all__ = [
    "CliResult",
    "CliRunner",
    "Clock",
    "CrmFactory",
    "CrmkitProject",
    "Samples",
    "crm_factory",
    "crmkit_cli",
    "crmkit_clock",
    "crmkit_project",
    "crmkit_samples",
]


@pytest.fixture
def crm_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmFactory]:
    """Open CRMs with chosen plugins: ``crm_factory(["loyalty"], url="sqlite")``; closed after."""
    factory = CrmFactory(tmp_path_factory.mktemp("crm"))
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def crmkit_project(tmp_path_factory: pytest.TempPathFactory) -> CrmkitProject:
    """A temporary crmkit project with no plugins; ``.with_plugins(...)`` sets them."""
    return CrmkitProject.create(tmp_path_factory.mktemp("project") / "crm")


@pytest.fixture
def crmkit_cli(crmkit_project: CrmkitProject) -> CliRunner:
    """Run ``crmkit`` commands in the ``crmkit_project`` folder: ``crmkit_cli("view", id)``."""
    return CliRunner(crmkit_project.path)


@pytest.fixture
def crmkit_clock() -> Iterator[Clock]:
    """The time as crmkit sees it, frozen at 2026-01-01 12:00 UTC until moved."""
    with Clock(DEFAULT_START) as clock:
        yield clock


@pytest.fixture
def crmkit_samples() -> Samples:
    """Seeded sample values for contacts and organizations, unique within a test."""
    return Samples(seed=7)
