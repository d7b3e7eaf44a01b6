"""Fixtures for the ``crmkit`` command: a project made by ``crmkit init`` and a runner.

The runner calls ``crmkit.cli.main`` in-process, exactly as the console script
does, so exit codes and the one-line error handling are what a user sees.
"""

from __future__ import annotations

import io
import json
import sys
import textwrap
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from crmkit.cli import main

ISOLATED_ENV = (
    "CRMKIT_PROJECT",
    "CRMKIT_DATABASE_URL",
    "CRMKIT_LOAD_PLUGINS",
    "CRMKIT_DISABLE_PLUGINS",
    "CRMKIT_DEBUG",
)


@attrs.frozen
class Result:
    """What one ``crmkit`` invocation printed and exited with."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """Runs ``crmkit ARGS`` against one project (or none), capturing its output."""

    def __init__(
        self,
        project: Path | None,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.project = project
        self._capsys = capsys
        self._monkeypatch = monkeypatch

    def __call__(
        self, *args: str, input: str = "", env: Mapping[str, str] | None = None
    ) -> Result:
        argv = ["--project", str(self.project), *args] if self.project else list(args)
        self._capsys.readouterr()
        with self._monkeypatch.context() as patch:
            patch.setattr(sys, "stdin", io.StringIO(input))
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            try:
                returned = main(argv)
                code = returned if isinstance(returned, int) else 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = self._capsys.readouterr()
        return Result(code, out, err)

    def add_custom_fields(self, toml: str) -> None:
        """Append custom-field tables to the project's crmkit.toml."""
        assert self.project is not None
        path = self.project / "crmkit.toml"
        path.write_text(path.read_text() + "\n" + textwrap.dedent(toml))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)


def _init(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *options: str,
) -> Cli:
    folder = tmp_path / "crm"
    result = Cli(None, capsys, monkeypatch)("init", str(folder), *options)
    assert result.code == 0, result.err
    return Cli(folder, capsys, monkeypatch)


@pytest.fixture
def make_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Cli]:
    """``make_project("--plugin", "x")``: run ``crmkit init`` with options; get its runner."""
    return lambda *options: _init(tmp_path, capsys, monkeypatch, *options)


@pytest.fixture
def cli(make_project: Callable[..., Cli]) -> Cli:
    """A runner for a fresh project on SQLite, created with ``crmkit init``."""
    return make_project()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_cli(request: pytest.FixtureRequest, make_project: Callable[..., Cli]) -> Cli:
    """A runner for a fresh project on each SQL database."""
    if request.param == "sqlite":
        return make_project()
    return make_project("--database", request.getfixturevalue("pg_url"))


@pytest.fixture
def outside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    """A runner in a folder that is not a project."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return Cli(None, capsys, monkeypatch)


@pytest.fixture
def install_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """Install a fake plugin distribution on sys.path, as pip would.

    ``install_plugin("broken", source, requires="crmkit>=0.1")`` writes a
    ``<dist>.dist-info`` with an entry point ``broken`` in ``crmkit.plugins``
    pointing at a module holding ``source``. Module names are unique per
    call, so no test sees another's module in ``sys.modules``.
    """
    site = tmp_path / "site-packages"
    site.mkdir(exist_ok=True)
    monkeypatch.syspath_prepend(str(site))

    def install(
        name: str,
        source: str,
        *,
        version: str = "0.1",
        requires: Sequence[str] = ("crmkit>=0.1",),
    ) -> str:
        module = f"{name}_{uuid.uuid4().hex[:8]}"
        dist = f"fake{name}"
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist}-{version}.dist-info"
        info.mkdir()
        metadata = [
            "Metadata-Version: 2.1",
            f"Name: {dist}",
            f"Version: {version}",
            *(f"Requires-Dist: {r}" for r in requires),
        ]
        (info / "METADATA").write_text("\n".join(metadata) + "\n")
        (info / "entry_points.txt").write_text(f"[crmkit.plugins]\n{name} = {module}\n")
        import importlib

        importlib.invalidate_caches()
        return module

    return install
