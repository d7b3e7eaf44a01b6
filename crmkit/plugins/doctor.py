"""Checking installed plugins and describing one, for ``crmkit plugins doctor`` and ``info``.

Both load plugins into a fresh plugin manager with the core, as a CRM would,
but write nothing: the doctor opens the project's database only to read which
migrations it is at, and a description never opens one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from crmkit.errors import CrmkitError, PluginError
from crmkit.plugins import installed_entry_points
from crmkit.plugins.dependencies import (
    dependents,
    plugin_dependencies,
    providers,
    required_closure,
)
from crmkit.plugins.manager import LoadResult, PluginInfo, collect, load_plugins

CORE_BRANCH = "crmkit"


@attrs.frozen
class PluginProblem:
    """One thing wrong with a plugin (or the project's database), and how to fix it."""

    plugin: str
    problem: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return attrs.asdict(self)


@attrs.frozen
class Diagnosis:
    """What ``crmkit plugins doctor`` found: the plugins it checked and every problem."""

    checked: list[str]
    problems: list[PluginProblem]

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checked": self.checked,
            "problems": [p.as_dict() for p in self.problems],
        }


def load_problems(infos: Sequence[PluginInfo]) -> list[PluginProblem]:
    """A problem for every plugin that was asked for but is failed or incompatible."""
    out = []
    for info in infos:
        if info.status in ("failed", "incompatible") and info.error:
            fix = info.fix or ""
            problem = info.error.removesuffix(f"; {fix}") if fix else info.error
            out.append(PluginProblem(info.name, problem, fix or "see the error"))
    return out


def not_installed(name: str) -> PluginProblem:
    return PluginProblem(
        name,
        f"plugin {name} is in the project's plugins list but is not installed",
        f"pip install it, or remove it from the project: 'crmkit plugins disable {name}'",
    )


def diagnose(project: Path | None, *, everything: bool = False) -> Diagnosis:
    """Check the project's plugins (or, with ``everything`` or no project, every installed one).

    Reports plugins that do not load (import errors, hook contract errors,
    crmkit versions, dependencies between plugins), project plugins that are
    not installed and, in a project, migrations the database has not had yet.
    """
    from crmkit import builtin

    installed = {ep.name for ep in installed_entry_points()}
    listed: tuple[str, ...] | None = None
    settings = None
    if project is not None:
        from crmkit.project import load_settings

        settings = load_settings(project)
        listed = settings.plugins
    problems: list[PluginProblem] = []
    if listed is not None:
        problems.extend(not_installed(n) for n in listed if n not in installed)
    present = [n for n in listed if n in installed] if listed is not None else None
    loaded = load_plugins(requested=None if everything else present, core=builtin)
    asked = [p for p in loaded.plugins if p.enabled]
    problems.extend(load_problems(asked))
    if settings is not None:
        problems.extend(_migration_problems(settings, present or []))
    checked = sorted({p.name for p in asked} | set(listed or ()))
    return Diagnosis(checked, problems)


def _migration_problems(settings: Any, plugins: Sequence[str]) -> list[PluginProblem]:
    """Pending migrations of the project's database, read without writing anything."""
    from crmkit.cli.project import migration_status
    from crmkit.crm import CRM

    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:
        return [
            PluginProblem(
                CORE_BRANCH,
                f"the database file {missing} does not exist",
                "create it with every migration applied: 'crmkit db upgrade'",
            )
        ]
    try:
        crm = CRM(settings, plugins=plugins, migrate=False)
    except CrmkitError as exc:
        return [
            PluginProblem(
                CORE_BRANCH,
                f"the project's CRM does not open: {exc}",
                "fix that error; 'crmkit plugins disable NAME' switches a plugin off",
            )
        ]
    try:
        status = migration_status(crm)
    except CrmkitError as exc:
        return [
            PluginProblem(
                CORE_BRANCH,
                str(exc),
                "check 'database' in crmkit.toml (or CRMKIT_DATABASE_URL)",
            )
        ]
    finally:
        crm.close()
    return [
        PluginProblem(
            str(s["branch"]),
            f"the database has not had the migrations of {s['branch']} "
            f"(it is at {s['current'] or 'none'}, the newest is {s['head']})",
            "apply them: 'crmkit db upgrade'",
        )
        for s in status
        if not s["up_to_date"]
    ]


def _missing_sqlite_file(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return None
    return None if Path(database).exists() else database


def describe(name: str, project_plugins: Sequence[str] | None = None) -> dict[str, Any]:
    """Everything plugin ``name`` brings, gathered by loading it (and what it requires) alone.

    No database is opened. ``project_plugins`` is the project's list (``None``
    outside a project), to say whether the plugin is enabled there.
    """
    from crmkit import builtin

    available = installed_entry_points()
    by_name = {ep.name: ep for ep in available}
    if name not in by_name:
        raise PluginError(
            f"plugin {name!r} is not installed (installed: "
            f"{', '.join(sorted(by_name)) or 'none'}); pip install it"
        )
    loaded = load_plugins(requested=required_closure([name], available), core=builtin)
    info = next(p for p in loaded.plugins if p.name == name)
    by_dist = providers(available)
    out: dict[str, Any] = {
        "name": name,
        "distribution": info.distribution,
        "version": info.version,
        "module": info.module,
        "requires_crmkit": info.requires_crmkit,
        "status": info.status,
        "error": info.error,
        "fix": info.fix,
        "enabled": None if project_plugins is None else name in project_plugins,
        "hooks": info.hooks,
        "requires": [
            {
                "requirement": d.spec,
                "plugins": list(d.plugins),
                "installed": d.installed,
                "met": d.is_met_by_version(),
            }
            for d in plugin_dependencies(by_name[name], by_dist)
        ],
        "required_by": dependents(name, by_name, available),
    }
    problems: list[str] = []
    for key, gather in _SECTIONS.items():
        try:
            out[key] = gather(loaded, name) if info.status == "loaded" else []
        except (CrmkitError, TypeError, ValueError, AttributeError) as exc:
            out[key] = []
            problems.append(f"{key}: {exc}")
    out["problems"] = problems
    return out


def _mine(loaded: LoadResult, name: str, hook: str) -> list[Any]:
    return [item for plugin, items in collect(loaded.pm, hook) if plugin == name for item in items]


def _entity_types(loaded: LoadResult, name: str) -> list[dict[str, Any]]:
    from crmkit.entities.types import build_entity_type

    out = []
    for cls in _mine(loaded, name, "crmkit_register_entity_types"):
        etype = build_entity_type(cls, name)
        out.append(
            {
                "name": etype.name,
                "description": etype.description,
                "table": etype.table_name,
                "fields": [
                    {
                        "name": f.name,
                        "kind": f.kind,
                        "privacy": f.spec.privacy,
                        "erase": f.spec.erase,
                        "ref": f.spec.ref,
                    }
                    for f in etype.fields
                ],
            }
        )
    return out


def _event_types(loaded: LoadResult, name: str) -> list[dict[str, Any]]:
    return [
        {"name": e.name, "version": e.version, "description": e.description}
        for e in _mine(loaded, name, "crmkit_register_event_types")
    ]


def _commands(loaded: LoadResult, name: str) -> list[dict[str, Any]]:
    return [
        {"name": c.name, "help": c.get_short_help_str(limit=80)}
        for c in _mine(loaded, name, "crmkit_register_commands")
    ]


def _purposes(loaded: LoadResult, name: str) -> list[dict[str, Any]]:
    return [attrs.asdict(p) for p in _mine(loaded, name, "crmkit_consent_purposes")]


def _channels(loaded: LoadResult, name: str) -> list[dict[str, Any]]:
    return [attrs.asdict(c) for c in _mine(loaded, name, "crmkit_consent_channels")]


def _migrations(loaded: LoadResult, name: str) -> list[dict[str, Any]]:
    return [
        {"branch": b.label, "location": b.location}
        for b in _mine(loaded, name, "crmkit_migrations")
    ]


def _settings(loaded: LoadResult, name: str) -> list[str]:
    schemas = [s for p, s in collect(loaded.pm, "crmkit_settings_schema") if p == name]
    return sorted(k for s in schemas for k in dict(s.get("properties", {})))


_SECTIONS: dict[str, Callable[[LoadResult, str], list[Any]]] = {
    "entity_types": _entity_types,
    "event_types": _event_types,
    "commands": _commands,
    "purposes": _purposes,
    "channels": _channels,
    "migrations": _migrations,
    "settings": _settings,
}
