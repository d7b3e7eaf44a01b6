"""``crmkit plugins``: list, describe, enable, disable and check plugins.

``list`` and ``info`` load plugins as a project would, without opening a
database, so they work when the database is down or a plugin breaks the CRM.
``enable`` and ``disable`` edit the ``plugins`` list of ``crmkit.toml``
(comments and layout kept); enabling also enables the plugins it requires
and applies the migrations. ``doctor`` says what is wrong and how to fix it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_context
from crmkit.cli.output import echo_json, echo_table

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.plugins.manager import PluginInfo

HOOK_PREFIX = "crmkit_"
MISSING = "missing"


@click.group("plugins")
def plugins_group() -> None:
    """Installed plugins: list, describe, enable, disable and check them."""


@plugins_group.command("list")
@click.option(
    "--all", "everything", is_flag=True, help="Every installed plugin, not only the project's."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_plugins(everything: bool, as_json: bool) -> None:
    """List the project's plugins with their version, status, hooks and problems.

    Inside a project the list is the plugins in its crmkit.toml (with those
    listed but not installed); --all adds every other installed plugin.
    Outside a project it is every installed plugin. Status is loaded, failed
    (with the error and the fix), incompatible (built for another crmkit),
    disabled (not in the project's list, or by CRMKIT_LOAD_PLUGINS /
    CRMKIT_DISABLE_PLUGINS) or missing (listed in crmkit.toml, not installed).
    """
    requested = _project_plugins()
    rows = plugin_report(requested)
    hidden = 0
    if requested is not None and not everything:
        shown = [r for r in rows if r["name"] in requested]
        hidden = len(rows) - len(shown)
        rows = shown
    if as_json:
        echo_json(rows)
        return
    if not rows:
        if hidden:
            click.echo(
                f"No plugins enabled in this project ({hidden} installed; "
                "'crmkit plugins list --all' shows them, 'crmkit plugins enable NAME' adds one)."
            )
            return
        click.echo(
            "No plugins installed. A plugin is a package with a 'crmkit.plugins' entry point: "
            "pip install it, then 'crmkit plugins enable NAME'."
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
    if hidden:
        click.echo(f"\n{hidden} more installed; 'crmkit plugins list --all' shows them.")


def _project_folder(required: bool) -> Path | None:
    """The project folder; ``None`` outside one unless ``required``.

    A folder named with --project or CRMKIT_PROJECT must be a project; only
    the implicit current folder may be none.
    """
    from crmkit.errors import ConfigError
    from crmkit.project import find_project

    chosen = get_context().project
    try:
        return find_project(chosen)
    except ConfigError:
        if chosen or required:
            raise
        return None


def _project_plugins() -> tuple[str, ...] | None:
    """The project's plugin list; ``None`` (every installed plugin) outside a project."""
    from crmkit.project import load_settings

    folder = _project_folder(required=False)
    return None if folder is None else load_settings(folder).plugins


def plugin_report(requested: Sequence[str] | None) -> list[dict[str, Any]]:
    """One dict per installed plugin (and per listed but missing one), sorted by name."""
    from crmkit import builtin
    from crmkit.plugins import installed_entry_points
    from crmkit.plugins.manager import load_plugins

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
            "reason": "listed in crmkit.toml but not installed; pip install it or remove it: "
            f"'crmkit plugins disable {name}'",
            "fix": f"pip install it or remove it: 'crmkit plugins disable {name}'",
            "requires_crmkit": None,
            "requires": [],
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
        return f"not in the project's plugins list; 'crmkit plugins enable {name}' adds it"
    return "disabled"


@plugins_group.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugin_info(name: str, as_json: bool) -> None:
    """Show what plugin NAME brings: entity types, events, commands, migrations, dependencies.

    The plugin is loaded on its own (with the plugins it requires), without a
    database, so this works for any installed plugin, enabled or not.
    """
    from crmkit.plugins.doctor import describe

    about = describe(name, _project_plugins())
    if as_json:
        echo_json(about)
        return
    _print_info(about)


def _print_info(about: dict[str, Any]) -> None:
    enabled = {None: "not in a project", True: "yes", False: "no"}[about["enabled"]]
    lines = [
        f"{about['name']} {about['version'] or ''}".rstrip(),
        f"  distribution: {about['distribution']} (module {about['module']})",
        f"  crmkit:       {about['requires_crmkit'] or 'any version'}",
        f"  status:       {about['status']}",
        f"  enabled here: {enabled}",
    ]
    if about["error"]:
        lines.append(f"  error:        {about['error']}")
    requires = [
        f"{d['requirement']} ({'installed ' + d['installed'] if d['installed'] else 'missing'})"
        for d in about["requires"]
    ]
    lines.append(f"  requires:     {', '.join(requires) or 'no other plugin'}")
    lines.append(f"  required by:  {', '.join(about['required_by']) or 'no other plugin'}")
    hooks = [h.removeprefix(HOOK_PREFIX) for h in about["hooks"]]
    lines.append(f"  hooks:        {', '.join(hooks) or 'none'}")
    for etype in about["entity_types"]:
        lines.append(f"  entity type {etype['name']} (table {etype['table']})")
        for f in etype["fields"]:
            ref = f" -> {f['ref']}" if f["ref"] else ""
            lines.append(
                f"    {f['name']}: {f['kind']}, privacy {f['privacy'] or 'undeclared'}, "
                f"erase {f['erase'] or 'undeclared'}{ref}"
            )
    simple = (
        ("event types", [f"{e['name']} v{e['version']}" for e in about["event_types"]]),
        ("commands", [f"crmkit {c['name']}" for c in about["commands"]]),
        ("purposes", [p["name"] for p in about["purposes"]]),
        ("channels", [c["name"] for c in about["channels"]]),
        ("migrations", [f"branch {m['branch']}" for m in about["migrations"]]),
        ("settings", about["settings"]),
    )
    for title, items in simple:
        if items:
            lines.append(f"  {title + ':':<13} {', '.join(items)}")
    lines.extend(f"  problem:      {p}" for p in about["problems"])
    click.echo("\n".join(lines))


@plugins_group.command("enable")
@click.argument("name")
def enable_plugin(name: str) -> None:
    """Enable plugin NAME in this project and apply its migrations.

    Adds NAME to the plugins list in crmkit.toml, together with every
    installed plugin it requires. A plugin that would not load (not
    installed, wrong crmkit, a required plugin missing or of the wrong
    version) is refused with the fix, and nothing is changed.
    """
    import crmkit
    from crmkit import builtin
    from crmkit.errors import PluginError
    from crmkit.plugins import installed_entry_points
    from crmkit.plugins.dependencies import required_closure
    from crmkit.plugins.manager import load_plugins
    from crmkit.project import CONFIG_FILE, load_settings, write_plugin_list

    folder = _project_folder(required=True)
    assert folder is not None
    listed = list(load_settings(folder).plugins or ())
    available = installed_entry_points()
    _require_installed(name, available, listed)
    wanted = required_closure([name], available)
    added = [n for n in wanted if n not in listed]
    if not added:
        click.echo(f"{name} is already enabled in this project.")
        return
    trial = {p.name: p for p in load_plugins(requested=wanted, core=builtin).plugins}
    for needed in wanted:  # what it requires first: the first failure is the cause
        if trial[needed].status in ("failed", "incompatible"):
            raise PluginError(f"cannot enable {name}: {trial[needed].error}")
    config = folder / CONFIG_FILE
    before_text = config.read_text(encoding="utf-8")
    write_plugin_list(folder, [*listed, *added])
    try:
        before = _branch_status(crmkit.open(folder, migrate=False), added)
        after = _branch_status(crmkit.open(folder), added)
    except BaseException:
        config.write_text(before_text, encoding="utf-8")
        raise
    also = [n for n in added if n != name]
    suffix = f" and {', '.join(also)}, which it requires" if also else ""
    click.echo(f"Enabled {name}{suffix}.")
    for branch, current in after.items():
        if before.get(branch) != current:
            click.echo(f"Migrated {branch} to {current}")
        else:
            click.echo(f"The database already has the migrations of {branch}.")


def _branch_status(crm: CRM, plugins: Sequence[str]) -> dict[str, object]:
    """The revision the database is at for each migration branch of ``plugins``; closes ``crm``."""
    from crmkit.cli.project import migration_status
    from crmkit.plugins.manager import collect

    with crm:
        branches = {
            b.label
            for plugin, items in collect(crm.pm, "crmkit_migrations")
            if plugin in plugins
            for b in items
        }
        return {
            str(s["branch"]): s["current"] for s in migration_status(crm) if s["branch"] in branches
        }


@plugins_group.command("disable")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
def disable_plugin(names: tuple[str, ...]) -> None:
    """Disable plugins in this project; their tables and data stay in the database.

    Refused while another enabled plugin requires one of them: disable that
    one first, or both at once (plugins that require each other).
    """
    from crmkit.errors import PluginError
    from crmkit.plugins import installed_entry_points
    from crmkit.plugins.dependencies import dependents
    from crmkit.project import load_settings, write_plugin_list

    folder = _project_folder(required=True)
    assert folder is not None
    listed = list(load_settings(folder).plugins or ())
    available = installed_entry_points()
    for name in names:
        if name not in listed:
            _require_installed(name, available, listed)
    chosen = [n for n in dict.fromkeys(names) if n in listed]
    remaining = [n for n in listed if n not in chosen]
    for name in chosen:
        users = dependents(name, remaining, available)
        if users:
            first = " ".join(users)
            raise PluginError(
                f"cannot disable {name}: {', '.join(users)} "
                f"{'requires' if len(users) == 1 else 'require'} it; disable "
                f"{'it' if len(users) == 1 else 'them'} first or at the same time "
                f"('crmkit plugins disable {first} {' '.join(chosen)}')"
            )
    for name in names:
        if name not in listed:
            click.echo(f"{name} is not enabled in this project.")
    if not chosen:
        return
    write_plugin_list(folder, remaining)
    for name in chosen:
        click.echo(
            f"Disabled {name}. Its tables and data stay in the database; "
            f"'crmkit plugins enable {name}' uses them again."
        )


def _require_installed(name: str, available: Sequence[Any], listed: Sequence[str]) -> None:
    from crmkit.errors import PluginError

    installed = sorted(ep.name for ep in available)
    if name not in installed:
        raise PluginError(
            f"plugin {name!r} is not installed (installed: {', '.join(installed) or 'none'}; "
            f"enabled here: {', '.join(listed) or 'none'}); pip install it first"
        )


@plugins_group.command("doctor")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Check every installed plugin, not only the project's.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def doctor(everything: bool, as_json: bool) -> None:
    """Check the plugins and say how to fix each problem; exit 6 if there is one.

    Checks the project's plugins (every installed one outside a project or
    with --all): that they are installed, import, suit this crmkit, keep the
    hook contract and have the plugins they require, and that the database
    has their migrations. Writes nothing.
    """
    from crmkit.errors import PluginError
    from crmkit.plugins.doctor import diagnose

    folder = _project_folder(required=False)
    diagnosis = diagnose(folder, everything=everything or folder is None)
    if as_json:
        echo_json(diagnosis.as_dict())
    elif diagnosis.healthy:
        count = len(diagnosis.checked)
        click.echo(f"Checked {count} plugin{'s' if count != 1 else ''}: no problems found.")
    else:
        for item in diagnosis.problems:
            click.echo(f"{item.plugin}: {item.problem}\n  fix: {item.fix}")
        count = len(diagnosis.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found.")
    if not diagnosis.healthy:
        click.get_current_context().exit(PluginError.exit_code)
