"""The conformance suite: what every crmkit plugin must get right, checked in one line.

A plugin's tests hold exactly::

    from crmkit.testing.conformance import conformance_suite

    test_conformance = conformance_suite("loyalty")

and pytest runs one case per check, each named after it. The same checks are a
plain function, :func:`check_plugin`, returning :class:`Problem` s that name
the plugin, the check and the fix. The checks:

``hooks``
    The plugin registers in strict mode: every ``crmkit_*`` function is a hook
    that exists and asks only for arguments its specification has.
``migrations-sqlite`` / ``migrations-postgresql``
    Its migration branches upgrade an empty database, build exactly the tables
    of its entity types, downgrade to base leaving nothing behind, and upgrade
    again. PostgreSQL runs when ``CRMKIT_TEST_POSTGRES_URL`` is set.
``privacy``
    Every field of its entity types has a privacy class and an erasure strategy.
``events``
    Its event types are ``crmkit.EventType`` s in its own namespace (or say in
    their description why not), about a known entity type, and an event of each
    survives a trip through the outbox.
``commands``
    Importing the plugin and asking for its commands opens no CRM and writes no
    file; the commands are named click commands that do not shadow core ones.
``together``
    A CRM with every installed plugin opens, loads this one and shows the single
    customer view of a fresh contact.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest

from crmkit.testing import conformance_checks as checks

POSTGRES_ENV = "CRMKIT_TEST_POSTGRES_URL"


@attrs.frozen
class Problem:
    """One way a plugin breaks the plugin contract, with the fix."""

    plugin: str
    check: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"plugin {self.plugin} fails the {self.check} check: {self.problem}; fix: {self.fix}"


def check_names(*, postgres_url: str | None = None) -> list[str]:
    """The checks that run, in order (PostgreSQL only with a server to run on)."""
    names = ["hooks", "migrations-sqlite"]
    if postgres_url or os.environ.get(POSTGRES_ENV):
        names.append("migrations-postgresql")
    return [*names, "privacy", "events", "commands", "together"]


def run_check(plugin: str, check: str, *, postgres_url: str | None = None) -> list[Problem]:
    """Run one check of ``plugin``; an error while checking is a problem too."""
    with _plain_environment(), tempfile.TemporaryDirectory(prefix="crmkit-conf-") as tmp:
        work = Path(tmp)
        try:
            found = _run(plugin, check, work, postgres_url)
        except Exception as exc:
            found = [
                (
                    f"the check could not run: {type(exc).__name__}: {exc}",
                    "fix the error it names; if an earlier check fails too, fix that first",
                )
            ]
    return [Problem(plugin, check, problem, fix) for problem, fix in found]


def check_plugin(plugin: str, *, postgres_url: str | None = None) -> list[Problem]:
    """Every conformance problem of the installed plugin ``plugin`` (empty: it conforms)."""
    problems: list[Problem] = []
    for check in check_names(postgres_url=postgres_url):
        problems += run_check(plugin, check, postgres_url=postgres_url)
    return problems


def conformance_suite(plugin: str) -> Callable[[str], None]:
    """A parametrized pytest test running every check on ``plugin``, one case per check.

    Assign it to a name starting with ``test`` in a test module:
    ``test_conformance = conformance_suite("loyalty")``.
    """

    @pytest.mark.parametrize("check", check_names())
    def test_conformance(check: str) -> None:
        problems = run_check(plugin, check)
        if problems:
            pytest.fail("\n".join(str(p) for p in problems), pytrace=False)

    test_conformance.__doc__ = f"The {plugin} plugin keeps the crmkit plugin contract."
    return test_conformance


# -- Running one check ------------------------------------------------------------

Found = list[tuple[str, str]]


def _run(plugin: str, check: str, work: Path, postgres_url: str | None) -> Found:
    if check == "hooks":
        return checks.hooks(plugin)
    if check == "migrations-sqlite":
        return checks.migrations(plugin, f"sqlite:///{work / 'conformance.db'}")
    if check == "migrations-postgresql":
        return _on_postgres(plugin, postgres_url or os.environ.get(POSTGRES_ENV) or "")
    if check == "privacy":
        return checks.privacy(plugin)
    if check == "events":
        return checks.events(plugin, f"sqlite:///{work / 'events.db'}")
    if check == "commands":
        with _modules_restored(), _working_directory(work / "cwd"):
            return checks.commands(plugin, work / "cwd")
    if check == "together":
        return checks.together(plugin)
    raise ValueError(f"no conformance check {check!r}; choose from {', '.join(check_names())}")


def _on_postgres(plugin: str, base_url: str) -> Found:
    if not base_url:
        return [("no PostgreSQL server was given", f"set {POSTGRES_ENV} or pass postgres_url")]
    from crmkit.testing.postgres import temporary_schema

    with temporary_schema(base_url) as url:
        return checks.migrations(plugin, url)


# The checks load exactly the plugins they name, whatever the shell asks for.
_PLUGIN_ENV = ("CRMKIT_LOAD_PLUGINS", "CRMKIT_DISABLE_PLUGINS", "CRMKIT_DATABASE_URL")


@contextmanager
def _plain_environment() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in _PLUGIN_ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


@contextmanager
def _working_directory(folder: Path) -> Iterator[None]:
    folder.mkdir()
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


@contextmanager
def _modules_restored() -> Iterator[None]:
    """Put back the modules a fresh import of the plugin replaced."""
    saved: dict[str, Any] = dict(sys.modules)
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n not in saved]:
            del sys.modules[name]
        sys.modules.update(saved)
        importlib.invalidate_caches()


__all__: Sequence[str] = [
    "Problem",
    "check_names",
    "check_plugin",
    "conformance_suite",
    "run_check",
]
