"""``crmkit plugins list``: every installed plugin, whether it loads, and why not.

Inside a project the plugins are loaded as the project would load them (its
``plugins`` list in ``crmkit.toml``); outside one, as ``crmkit.open`` on a URL
would (every installed plugin). No database is opened, so the command also
works when the database is down or a plugin breaks the CRM.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_context
from crmkit.cli.output import echo_json, echo_table

if TYPE_CHECKING:
    from crmkit.plugins.manager import PluginInfo

HOOK_PREFIX = "crmkit_"
MISSING = "missing"


@click.group("plugins")
def plugins_group() -> None:
    """Installed plugins: which load, which fail, and the hooks they implement."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_plugins(as_json: bool) -> None:
    """List every installed plugin with its version, status and hooks.

    Status is loaded, failed (with the error), incompatible (built for another
    crmkit), disabled (not in the project's list, or by CRMKIT_LOAD_PLUGINS /
    CRMKIT_DISABLE_PLUGINS) or missing (listed in crmkit.toml, not installed).
    """
    requested = _project_plugins()
    rows = plugin_report(requested)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(
            "No plugins installed. A plugin is a package with a 'crmkit.plugins' entry point: "
            "pip install it, then add its name to the plugins list in crmkit.toml."
        )
        return
    echo_table(
        [
            {
                **row,
                "enabled": "yes" if row["enabled"] else "no",
                "hooks": [h.removeprefix(HOOK_PREFIX) for h in row["hooks"]],
            }
            for row in rows
        ],
        [
            ("name", "NAME"),
            ("version", "VERSION"),
            ("enabled", "ENABLED"),
            ("status", "STATUS"),
            ("hooks", "HOOKS"),
        ],
    )
    notes = [row for row in rows if row["reason"]]
    if notes:
        click.echo()
        for row in notes:
            click.echo(f"{row['name']}: {row['reason']}")


def _project_plugins() -> tuple[str, ...] | None:
    """The project's plugin list; ``None`` (every installed plugin) outside a project.

    A folder named with --project or CRMKIT_PROJECT must be a project; only
    the implicit current folder may be none.
    """
    from crmkit.errors import ConfigError
    from crmkit.project import find_project, load_settings

    chosen = get_context().project
    try:
        folder = find_project(chosen)
    except ConfigError:
        if chosen:
            raise
        return None
    return load_settings(folder).plugins


def plugin_report(requested: Sequence[str] | None) -> list[dict[str, Any]]:
    """One dict per installed plugin (and per listed but missing one), sorted by name."""
    from crmkit import builtin
    from crmkit.plugins.manager import installed_entry_points, load_plugins

    installed = {ep.name for ep in installed_entry_points()}
    missing: list[str] = []
    present: list[str] | None = None
    if requested is not None:
        present = [n for n in requested if n in installed]
        missing = [n for n in requested if n not in installed]
    loaded = load_plugins(requested=present, core=builtin)
    rows = [_row(info, requested) for info in loaded.plugins]
    rows.extend(
        {
            "name": name,
            "distribution": None,
            "version": None,
            "enabled": True,
            "status": MISSING,
            "error": None,
            "reason": "listed in crmkit.toml but not installed; pip install it or remove it "
            "from the plugins list",
            "requires_crmkit": None,
            "hooks": [],
            "module": None,
        }
        for name in missing
    )
    return sorted(rows, key=lambda r: str(r["name"]))


def _row(info: PluginInfo, requested: Sequence[str] | None) -> dict[str, Any]:
    row = info.as_dict()
    row["reason"] = info.error or (
        _disabled_reason(info.name, requested) if info.status == "disabled" else None
    )
    return row


def _disabled_reason(name: str, requested: Sequence[str] | None) -> str:
    from crmkit.plugins.manager import DISABLE_ENV, LOAD_ENV

    blocked = [p.strip() for p in os.environ.get(DISABLE_ENV, "").split(",")]
    if name in blocked:
        return f"disabled by {DISABLE_ENV}"
    allowed = os.environ.get(LOAD_ENV)
    if allowed is not None and name not in [p.strip() for p in allowed.split(",")]:
        return f"not named in {LOAD_ENV}"
    if requested is not None and name not in requested:
        return "not in the project's plugins list; add it to [crmkit] plugins in crmkit.toml"
    return "disabled"
