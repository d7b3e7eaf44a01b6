"""``crmkit plugin new``: the package it writes is complete, clean, and works once installed."""

from __future__ import annotations

import compileall
import datetime as dt
import fnmatch
import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
import tomli_w
from packaging.requirements import Requirement

import crmkit
from crmkit.errors import ConfigError, ValidationError
from crmkit.scaffold import crmkit_requirement, new_plugin, render

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = Path(crmkit.__file__).parent / "scaffold" / "templates"
EXPECTED_FILES = {
    "pyproject.toml",
    "README.md",
    "tox.ini",
    "crmkit_gift_cards/__init__.py",
    "crmkit_gift_cards/migrations/gift_cards_0001_records.py",
    "tests/test_gift_cards.py",
    "tests/test_conformance.py",
}
# Environment a user's shell would not carry into a new project.
CRMKIT_ENV = (
    "CRMKIT_PROJECT",
    "CRMKIT_DATABASE_URL",
    "CRMKIT_LOAD_PLUGINS",
    "CRMKIT_DISABLE_PLUGINS",
    "CRMKIT_ACTOR",
    "CRMKIT_DEBUG",
)


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_new_plugin_writes_a_complete_package(tmp_path: Path) -> None:
    target = tmp_path / "crmkit-gift_cards"
    files = new_plugin("gift_cards", target)

    assert {p.relative_to(target).as_posix() for p in files} == EXPECTED_FILES
    assert _tree(target) == EXPECTED_FILES
    for path in files:
        assert "{{" not in path.read_text(), f"{path} has an unfilled placeholder"
    assert compileall.compile_dir(target, quiet=1, force=True)

    project = tomllib.loads((target / "pyproject.toml").read_text())["project"]
    assert project["name"] == "crmkit-gift_cards"
    assert project["dependencies"] == ["crmkit>=0.1,<0.2"]
    assert project["entry-points"]["crmkit.plugins"] == {"gift_cards": "crmkit_gift_cards"}
    assert any(Requirement(r).name == "pytest" for r in project["optional-dependencies"]["test"])


def test_migration_starts_its_own_branch_after_the_core_tables(tmp_path: Path) -> None:
    target = tmp_path / "plugin"
    new_plugin("gift_cards", target)
    path = target / "crmkit_gift_cards" / "migrations" / "gift_cards_0001_records.py"
    spec = importlib.util.spec_from_file_location("gift_cards_0001", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    assert migration.revision == "gift_cards_0001"
    assert migration.down_revision is None
    assert migration.branch_labels == ("gift_cards",)
    assert migration.depends_on == "crmkit_0001"


@pytest.mark.parametrize("name", ["gift_cards", "a", "x" * 32])
def test_generated_code_is_ruff_clean_with_crmkits_settings(tmp_path: Path, name: str) -> None:
    target = tmp_path / "plugin"
    new_plugin(name, target)
    ours = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]
    theirs = tomllib.loads((target / "pyproject.toml").read_text())["tool"]["ruff"]
    assert {k: theirs[k] for k in ("line-length", "target-version")} == {
        k: ours[k] for k in ("line-length", "target-version")
    }
    assert theirs["lint"]["select"] == ours["lint"]["select"]

    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command], cwd=target, capture_output=True, text=True
        )
        assert done.returncode == 0, f"ruff {' '.join(command)}:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize(
    ("version", "requirement"),
    [
        ("0.1.0", "crmkit>=0.1,<0.2"),
        ("0.3.2", "crmkit>=0.3,<0.4"),
        ("1.4.2", "crmkit>=1.4,<2"),
        ("0.2.0.dev1", "crmkit>=0.2.0.dev1,<0.3"),
    ],
)
def test_requirement_is_the_compatible_range_of_a_crmkit_version(
    version: str, requirement: str
) -> None:
    assert crmkit_requirement(version) == requirement
    assert Requirement(requirement).specifier.contains(version, prereleases=True)


def test_requirement_of_a_new_plugin_accepts_this_crmkit() -> None:
    pyproject = tomllib.loads(render("gift_cards")["pyproject.toml"])
    (dependency,) = pyproject["project"]["dependencies"]
    assert Requirement(dependency).specifier.contains(crmkit.__version__, prereleases=True)


@pytest.mark.parametrize(
    "name",
    ["Loyalty", "1loyalty", "gift-cards", "", "_loyalty", "loyalty.points", "café", "x" * 33],
)
def test_invalid_names_are_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        new_plugin(name, tmp_path / "plugin")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["plugins", "contacts", "view", "crmkit"])
def test_names_taken_by_crmkit_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValidationError, match="taken by a crmkit command"):
        new_plugin(name, tmp_path / "plugin")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_with_files_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "plugin"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        new_plugin("gift_cards", target)
    assert _tree(tmp_path) == {"plugin/notes.txt"}
    assert (target / "notes.txt").read_text() == "mine"


def test_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plugin").write_text("mine")
    with pytest.raises(ConfigError, match="is a file"):
        new_plugin("gift_cards", tmp_path / "plugin")
    assert _tree(tmp_path) == {"plugin"}


def test_an_empty_folder_is_filled(tmp_path: Path) -> None:
    (tmp_path / "plugin").mkdir()
    new_plugin("gift_cards", tmp_path / "plugin")
    assert _tree(tmp_path / "plugin") == EXPECTED_FILES
    assert [p.name for p in tmp_path.iterdir()] == ["plugin"]


def test_the_default_folder_is_crmkit_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    new_plugin("gift_cards")
    assert _tree(tmp_path / "crmkit-gift_cards") == EXPECTED_FILES


def test_templates_are_package_data_of_crmkit() -> None:
    """Every template is matched by a package-data pattern, so it ships in the wheel."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = setuptools["package-data"]["crmkit"]
    package = Path(crmkit.__file__).parent
    templates = [p.relative_to(package).as_posix() for p in TEMPLATES.iterdir()]
    assert templates
    unshipped = [t for t in templates if not any(fnmatch.fnmatch(t, p) for p in patterns)]
    assert unshipped == []


# -- The real proof: install the generated plugin and use it -----------------------


class Venv:
    """A virtual environment in which the running environment's packages are visible.

    ``--system-site-packages`` shows the base interpreter's packages; when the
    tests themselves run in a virtual environment, its site folders are added
    too (a ``.pth`` file), so crmkit, pytest and the build backend are found
    without a download.
    """

    def __init__(self, root: Path) -> None:
        venv.create(root, system_site_packages=True, with_pip=False, symlinks=os.name != "nt")
        scripts = root / ("Scripts" if os.name == "nt" else "bin")
        self.python = scripts / ("python.exe" if os.name == "nt" else "python")
        self.env = {k: v for k, v in os.environ.items() if k not in CRMKIT_ENV}
        purelib = self.run(
            "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root
        ).strip()
        lines = [f"import site; site.addsitedir({folder!r})" for folder in site.getsitepackages()]
        Path(purelib, "_running_environment.pth").write_text("\n".join(lines) + "\n")

    def run(self, *args: str, cwd: Path) -> str:
        """Run this environment's python with ``args``; fail with all its output if it fails."""
        done = subprocess.run(
            [str(self.python), *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            pytest.fail(
                f"python {' '.join(args)} (in {cwd}) exited {done.returncode}\n"
                f"--- stdout ---\n{done.stdout}\n--- stderr ---\n{done.stderr}",
                pytrace=False,
            )
        return done.stdout


def test_generated_plugin_installs_passes_its_tests_and_works_in_a_project(
    tmp_path: Path,
) -> None:
    plugin = tmp_path / "crmkit-gift_cards"
    new_plugin("gift_cards", plugin)
    env = Venv(tmp_path / "venv")
    env.run(
        "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
        "--disable-pip-version-check", "-e", str(plugin),
        cwd=tmp_path,
    )  # fmt: skip

    # The plugin's own tests, including crmkit's conformance suite.
    report = env.run("-m", "pytest", "-v", "-p", "no:cacheprovider", "tests", cwd=plugin)
    assert "test_conformance.py::test_conformance[together] PASSED" in report
    assert "test_gift_cards.py::test_command_adds_a_record_shown_in_the_view PASSED" in report

    # A project that enables it.
    env.run("-m", "crmkit", "init", "shop", cwd=tmp_path)
    shop = tmp_path / "shop"
    config = tomllib.loads((shop / "crmkit.toml").read_text())
    config["crmkit"]["plugins"] = ["gift_cards"]
    (shop / "crmkit.toml").write_text(tomli_w.dumps(config))

    listed = json.loads(env.run("-m", "crmkit", "plugins", "list", "--json", cwd=shop))
    (row,) = [r for r in listed if r["name"] == "gift_cards"]
    assert (row["status"], row["enabled"]) == ("loaded", True), row

    env.run("-m", "crmkit", "db", "upgrade", cwd=shop)
    env.run("-m", "crmkit", "contacts", "add", "--email", "ada@example.com", cwd=shop)
    added = env.run(
        "-m", "crmkit", "gift_cards", "add", "ada@example.com", "--note", "Met at the fair",
        cwd=shop,
    )  # fmt: skip
    assert added.startswith("Added record")
    view = json.loads(env.run("-m", "crmkit", "view", "ada@example.com", "--json", cwd=shop))
    (section,) = [s for s in view["sections"] if s["plugin"] == "gift_cards"]
    assert [r["note"] for r in section["data"]] == ["Met at the fair"]
    shown = env.run("-m", "crmkit", "view", "ada@example.com", cwd=shop)
    assert "Gift cards [gift_cards]" in shown and "Met at the fair" in shown


# -- The tutorial's example: examples/stamps_plugin -----------------------------------

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "stamps_plugin"


def _tool_output(part: str) -> bool:
    """Folders tools write beside a package (ruff's cache, bytecode, build metadata)."""
    return part.startswith(".") or part == "__pycache__" or part.endswith(".egg-info")


def test_the_tutorial_example_is_what_the_scaffold_makes() -> None:
    """docs/tutorial/first-plugin.md walks through this folder; it must not drift."""
    migration = (EXAMPLE / "crmkit_stamps" / "migrations" / "stamps_0001_records.py").read_text()
    made_on = dt.date.fromisoformat(migration.split("Create Date: ")[1][:10])
    expected = render("stamps", today=made_on)
    found = {
        path.relative_to(EXAMPLE).as_posix(): path.read_text(encoding="utf-8")
        for path in EXAMPLE.rglob("*")
        if path.is_file() and not any(map(_tool_output, path.relative_to(EXAMPLE).parts))
    }
    assert found == expected


def test_the_tutorial_example_installs_and_is_enabled_in_a_project(tmp_path: Path) -> None:
    plugin = tmp_path / "crmkit-stamps"
    shutil.copytree(EXAMPLE, plugin, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env = Venv(tmp_path / "venv")
    env.run(
        "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
        "--disable-pip-version-check", "-e", str(plugin),
        cwd=tmp_path,
    )  # fmt: skip
    report = env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=plugin)
    assert " passed" in report and "failed" not in report

    env.run("-m", "crmkit", "init", "shop", cwd=tmp_path)
    shop = tmp_path / "shop"
    enabled = env.run("-m", "crmkit", "plugins", "enable", "stamps", cwd=shop)
    assert "stamps" in enabled
    assert 'plugins = ["stamps"]' in (shop / "crmkit.toml").read_text()
    env.run("-m", "crmkit", "contacts", "add", "--email", "ada@example.com", cwd=shop)
    env.run(
        "-m", "crmkit", "stamps", "add", "ada@example.com", "--note", "Met at the fair",
        cwd=shop,
    )  # fmt: skip
    shown = env.run("-m", "crmkit", "view", "ada@example.com", cwd=shop)
    assert "Stamps [stamps]" in shown and "Met at the fair" in shown
    info = json.loads(env.run("-m", "crmkit", "plugins", "info", "stamps", "--json", cwd=shop))
    assert info["name"] == "stamps"
