"""LazyGroup: a plugin's subcommands are imported only when run or shown."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crmkit.cli.lazy import LazyGroup, load_command

COMMANDS_MODULE = '''
import click


@click.command("stamp")
@click.argument("who")
def stamp_command(who):
    """Give WHO a stamp."""
    click.echo(f"stamped {who}")


not_a_command = 42
'''


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "lazy_stamps.py").write_text(textwrap.dedent(COMMANDS_MODULE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lazy_stamps", raising=False)
    return "lazy_stamps"


def make_group(module: str) -> click.Group:
    specs = {
        "stamp": (f"{module}:stamp_command", "Give someone a stamp."),
        "broken": (f"{module}:not_a_command", "Points at something that is not a command."),
    }

    @click.group("stamps", cls=LazyGroup, commands=specs)
    def stamps() -> None:
        """Stamp cards."""

    return stamps


def test_help_lists_the_commands_without_importing_them(module: str) -> None:
    result = CliRunner().invoke(make_group(module), ["--help"])
    assert result.exit_code == 0, result.output
    assert "stamp   Give someone a stamp." in result.output
    assert module not in sys.modules


def test_a_command_is_imported_when_it_runs(module: str) -> None:
    result = CliRunner().invoke(make_group(module), ["stamp", "ada"])
    assert (result.exit_code, result.output) == (0, "stamped ada\n")
    assert module in sys.modules


def test_an_unknown_name_is_a_usage_error_and_a_wrong_target_is_named(module: str) -> None:
    result = CliRunner().invoke(make_group(module), ["stomp"])
    assert result.exit_code == 2 and "No such command 'stomp'" in result.output
    with pytest.raises(TypeError, match=f"{module}:not_a_command is not a click command"):
        load_command(f"{module}:not_a_command")
