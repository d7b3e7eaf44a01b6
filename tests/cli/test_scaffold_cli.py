"""``crmkit plugin new NAME [DIR]``: a new plugin package, or a one-line refusal."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.cli.conftest import Cli


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_new_writes_the_package_into_crmkit_name_by_default(outside: Cli) -> None:
    result = outside("plugin", "new", "gift_cards")
    assert result.code == 0, result.err
    folder = Path.cwd() / "crmkit-gift_cards"
    assert "crmkit_gift_cards/__init__.py" in _tree(folder)
    assert "tests/test_conformance.py" in _tree(folder)
    pyproject = tomllib.loads((folder / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["crmkit.plugins"] == {
        "gift_cards": "crmkit_gift_cards"
    }
    assert "Created plugin 'gift_cards' in crmkit-gift_cards" in result.out
    assert "crmkit_gift_cards/migrations/gift_cards_0001_records.py" in result.out


def test_new_writes_into_the_folder_given(outside: Cli, tmp_path: Path) -> None:
    target = tmp_path / "work" / "gifts"
    result = outside("plugin", "new", "gift_cards", str(target))
    assert result.code == 0, result.err
    assert "pyproject.toml" in _tree(target)
    assert not (Path.cwd() / "crmkit-gift_cards").exists()


@pytest.mark.parametrize("name", ["Gift", "gift-cards", "9lives"])
def test_an_invalid_name_is_one_line_exit_4_and_nothing_written(outside: Cli, name: str) -> None:
    result = outside("plugin", "new", name)
    assert result.code == 4
    assert result.err.count("\n") == 1
    assert result.err.startswith("Error: plugin: field 'name':")
    assert "lowercase letters, digits and underscores" in result.err
    assert list(Path.cwd().iterdir()) == []


def test_a_core_command_name_is_refused(outside: Cli) -> None:
    result = outside("plugin", "new", "contacts")
    assert result.code == 4
    assert "taken by a crmkit command" in result.err
    assert list(Path.cwd().iterdir()) == []


def test_a_folder_with_files_is_one_line_exit_5_and_left_alone(outside: Cli) -> None:
    target = Path.cwd() / "crmkit-gift_cards"
    target.mkdir()
    (target / "README.md").write_text("mine")
    result = outside("plugin", "new", "gift_cards")
    assert result.code == 5
    assert result.err.count("\n") == 1
    assert "already exists and is not empty" in result.err
    assert _tree(Path.cwd()) == {"crmkit-gift_cards/README.md"}


def test_plugin_is_listed_in_help(outside: Cli) -> None:
    result = outside("--help")
    assert result.code == 0
    assert "Create a new plugin package: crmkit plugin new NAME." in result.out
