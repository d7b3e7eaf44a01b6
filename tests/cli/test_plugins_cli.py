"""``crmkit plugins list``: every installed plugin, including the broken ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

# Only the fake plugins each test installs count; the built-in ones are hidden.
pytestmark = pytest.mark.usefixtures("only_plugins_installed_here")

if TYPE_CHECKING:
    from tests.cli.conftest import Cli

GOOD = """
    from crmkit.view import ViewSection

    def crmkit_customer_view(crm, contact, actor):
        return ViewSection("Good", {})
"""
BROKEN = """
    raise RuntimeError("the loyalty database is gone")
"""


def by_name(rows: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {row["name"]: row for row in rows}


def test_outside_a_project_lists_every_installed_plugin(
    install_plugin: Callable[..., str], outside: Cli
) -> None:
    install_plugin("good", GOOD, version="1.2")
    install_plugin("broken", BROKEN)
    result = outside("plugins", "list", "--json")
    assert result.code == 0, result.err
    rows = by_name(result.json())
    assert {"name", "version", "enabled", "status", "error", "hooks"} <= set(rows["good"])
    assert rows["good"]["version"] == "1.2"
    assert rows["good"]["status"] == "loaded" and rows["good"]["enabled"] is True
    assert rows["good"]["hooks"] == ["crmkit_customer_view"]
    assert rows["broken"]["status"] == "failed"
    assert "the loyalty database is gone" in str(rows["broken"]["error"])
    assert rows["broken"]["hooks"] == []

    table = outside("plugins", "list")
    assert table.code == 0
    assert "customer_view" in table.out
    assert "broken: " in table.out and "the loyalty database is gone" in table.out


def test_inside_a_project_uses_its_plugin_list(
    install_plugin: Callable[..., str], make_project: Callable[..., Cli]
) -> None:
    install_plugin("good", GOOD)
    install_plugin("old", GOOD, requires=["crmkit<0.1"])
    cli = make_project("--plugin", "good")
    rows = by_name(cli("plugins", "list", "--all", "--json").json())
    assert rows["good"]["status"] == "loaded"
    assert rows["old"]["status"] == "disabled" and rows["old"]["enabled"] is False
    assert "plugins list" in str(rows["old"]["reason"])

    skipped = by_name(
        cli("plugins", "list", "--json", env={"CRMKIT_DISABLE_PLUGINS": "good"}).json()
    )
    assert skipped["good"]["status"] == "disabled"
    assert "CRMKIT_DISABLE_PLUGINS" in str(skipped["good"]["reason"])


def test_incompatible_and_missing_plugins_are_explained(
    install_plugin: Callable[..., str], make_project: Callable[..., Cli]
) -> None:
    cli = make_project()
    install_plugin("old", GOOD, requires=["crmkit<0.1"])
    config = cli.project / "crmkit.toml"  # type: ignore[operator]
    config.write_text(config.read_text().replace("plugins = []", 'plugins = ["old", "ghost"]'))
    result = cli("plugins", "list", "--json")
    assert result.code == 0, result.err
    rows = by_name(result.json())
    assert rows["old"]["status"] == "incompatible" and "crmkit <0.1" in str(rows["old"]["error"])
    assert rows["ghost"]["status"] == "missing" and "pip install" in str(rows["ghost"]["reason"])


def test_a_broken_plugin_in_the_project_is_listed_as_failed(
    install_plugin: Callable[..., str], make_project: Callable[..., Cli]
) -> None:
    cli = make_project()
    install_plugin("broken", BROKEN)
    config = cli.project / "crmkit.toml"  # type: ignore[operator]
    config.write_text(config.read_text().replace("plugins = []", 'plugins = ["broken"]'))
    result = cli("plugins", "list")
    assert result.code == 0, result.err
    assert "failed" in result.out and "the loyalty database is gone" in result.out
    assert "CRMKIT_DISABLE_PLUGINS=broken" in result.out


def test_no_plugins_installed(outside: Cli) -> None:
    result = outside("plugins", "list", "--json")
    assert result.code == 0 and result.json() == []
    assert "No plugins installed" in outside("plugins", "list").out
