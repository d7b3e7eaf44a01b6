"""Shared fixtures of the crmkit-service tests, built on crmkit's testing kit.

``crm``
    A CRM with the service plugin and :data:`SERVICE_SETTINGS`, once on a
    SQLite file and once in a fresh PostgreSQL schema (skipped unless
    ``CRMKIT_TEST_POSTGRES_URL`` is set).
``sqlite_crm``
    The same on SQLite only, for tests about one database.
``service_table``
    A fresh copy of :data:`SERVICE_SETTINGS` that a test may change.
``service_crm_factory``
    ``service_crm_factory("sqlite", settings={...})`` opens a CRM with the
    service plugin and other settings (default :data:`SERVICE_SETTINGS`);
    ``url`` is ``None`` for ``memory://``, ``"sqlite"`` or ``"postgresql"``.
``service_project`` (also ``cli_project``)
    A project folder made with ``crmkit init DIR --plugin service`` whose
    ``crmkit.toml`` carries :data:`SERVICE_SETTINGS`;
    ``service_project.run("service", "tickets", "list", "--json")`` runs the
    ``crmkit`` command in it and returns the result (``exit_code``,
    ``output``, ``json()``).

Time is under test control with crmkit's ``crmkit_clock`` fixture (frozen at
2026-01-01 12:00 UTC, a Thursday: 12:00 in London, inside office hours).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
import tomli_w

from crmkit.crm import CRM
from crmkit.project import CONFIG_FILE
from crmkit.testing.cli_runner import CliResult, CliRunner
from crmkit.testing.crm_factory import CrmFactory

PLUGINS = ["service"]

OFFICE_HOURS = {
    "mon": "09:00-17:30",
    "tue": "09:00-17:30",
    "wed": "09:00-17:30",
    "thu": "09:00-17:30",
    "fri": "09:00-13:00,14:00-17:00",
}
SERVICE_SETTINGS: dict[str, Any] = {
    "key_prefix": "T",
    "near_breach_minutes": 60,
    "calendars": {
        "office": {
            "timezone": "Europe/London",
            "hours": OFFICE_HOURS,
            "holidays": ["2026-12-25", "2026-12-26"],
        },
    },
    "sla": {
        "standard": {
            "calendar": "office",
            "urgent": {"first_response": "1h", "resolution": "8h"},
            "high": {"first_response": "4h", "resolution": "16h"},
            "normal": {"first_response": "8h", "resolution": "40h"},
            "low": {"first_response": "16h", "resolution": "80h"},
        },
        "gold": {
            "calendar": "24x7",
            "urgent": {"first_response": "30m", "resolution": "4h"},
            "high": {"first_response": "1h", "resolution": "8h"},
        },
    },
    "teams": {
        "support": {"agents": ["ana", "ben", "cy"], "assignment": "round_robin"},
        "billing": {"agents": ["dee", "eli"], "assignment": "least_open"},
        "team-leads": {"agents": ["lee"], "assignment": "round_robin"},
    },
    "escalation": [
        {
            "when": "breach",
            "target": "resolution",
            "priorities": ["high", "urgent"],
            "actions": ["raise_priority", "reassign:team-leads", "notify:duty-manager"],
        },
        {"when": "near_breach", "target": "first_response", "actions": ["notify:duty-manager"]},
    ],
}
"""The ``[plugins.service]`` table the fixtures open CRMs and projects with."""


def service_settings_table() -> dict[str, Any]:
    """A fresh copy of :data:`SERVICE_SETTINGS`, safe to change in one test."""
    return copy.deepcopy(SERVICE_SETTINGS)


ServiceCrmFactory = Callable[..., CRM]


@pytest.fixture
def service_table() -> dict[str, Any]:
    """A fresh copy of :data:`SERVICE_SETTINGS`, safe to change in one test."""
    return service_settings_table()


@pytest.fixture
def service_crm_factory(crm_factory: CrmFactory) -> ServiceCrmFactory:
    """Open a CRM with the service plugin: ``service_crm_factory("sqlite", settings=...)``."""

    def open_crm(
        url: str | None = "sqlite", *, settings: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> CRM:
        table = service_settings_table() if settings is None else dict(settings)
        return crm_factory(PLUGINS, url=url, plugin_settings={"service": table}, **kwargs)

    return open_crm


@pytest.fixture(params=["sqlite", "postgresql"])
def crm(request: pytest.FixtureRequest, service_crm_factory: ServiceCrmFactory) -> CRM:
    """A CRM with the service plugin on SQLite, then on PostgreSQL."""
    return service_crm_factory(request.param)


@pytest.fixture
def sqlite_crm(service_crm_factory: ServiceCrmFactory) -> CRM:
    """A CRM with the service plugin on a SQLite file."""
    return service_crm_factory("sqlite")


@attrs.frozen
class ServiceProject:
    """A crmkit project with the service plugin enabled, and a way to run commands in it."""

    path: Path
    runner: CliRunner

    def run(self, *args: str, input: str | None = None) -> CliResult:
        """Run ``crmkit ARGS...`` in this project, as a user would type it."""
        return self.runner(*args, input=input)


@pytest.fixture
def service_project(tmp_path: Path) -> ServiceProject:
    """A project made with ``crmkit init DIR --plugin service``, with :data:`SERVICE_SETTINGS`."""
    path = tmp_path / "crm"
    made = CliRunner(tmp_path)("init", str(path), "--plugin", "service")
    assert made.exit_code == 0, str(made)
    config = path / CONFIG_FILE
    table = tomli_w.dumps({"plugins": {"service": service_settings_table()}})
    config.write_text(config.read_text(encoding="utf-8") + "\n" + table, encoding="utf-8")
    return ServiceProject(path, CliRunner(path))


@pytest.fixture
def cli_project(service_project: ServiceProject) -> ServiceProject:
    """Another name for ``service_project``."""
    return service_project
