"""The checks of the conformance suite, one function each.

Each takes the plugin's name and returns ``(problem, fix)`` pairs; an empty
list means the plugin passes. :mod:`crmkit.testing.conformance` turns them into
:class:`~crmkit.testing.conformance.Problem` s and pytest cases.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import crmkit
from crmkit import builtin
from crmkit.entities.types import EntityType
from crmkit.errors import CrmkitError
from crmkit.plugins import installed_entry_points
from crmkit.plugins.manager import collect, load_plugins

Found = list[tuple[str, str]]
HOOKS_DOC = "the hooks reference (docs/reference/hooks.md)"


def _namespace(plugin: str) -> str:
    return plugin.replace("-", "_")


def _own_types(crm: crmkit.CRM, plugin: str) -> list[EntityType]:
    return [e for e in crm.entity_types.values() if e.plugin == plugin]


# -- 1. hooks -----------------------------------------------------------------------


def hooks(plugin: str) -> Found:
    """The plugin registers in strict mode and implements at least one hook."""
    if plugin not in {ep.name for ep in installed_entry_points()}:
        return [
            (
                "it is not installed (no crmkit.plugins entry point of that name)",
                f'declare [project.entry-points."crmkit.plugins"] {plugin} = "<module>" '
                "in its pyproject.toml and pip install it",
            )
        ]
    try:
        loaded = load_plugins(requested=[plugin], strict=True, core=builtin)
    except CrmkitError as exc:
        return [(str(exc), f"name every crmkit_* function and its arguments as in {HOOKS_DOC}")]
    (info,) = [p for p in loaded.plugins if p.name == plugin]
    if not info.hooks:
        return [("it implements no hook", f"implement the hooks it needs, see {HOOKS_DOC}")]
    return []


# -- 2. migrations --------------------------------------------------------------------


def migrations(plugin: str, url: str) -> Found:
    """Upgrade from empty, compare with the entity types, downgrade to base, upgrade again."""
    from crmkit.migrations.runner import describe, downgrade, upgrade
    from crmkit.storage.sql.backend import SqlBackend

    try:
        crm = crmkit.open(url, plugins=[plugin], strict=True)
    except Exception as exc:
        return [
            (
                f"upgrading an empty database failed: {type(exc).__name__}: {exc}",
                "make every migration of the plugin's branch run on an empty database",
            )
        ]
    with crm:
        own = _own_types(crm, plugin)
        branches = [
            b
            for name, found in collect(crm.pm, "crmkit_migrations")
            if name == plugin
            for b in found
        ]
        if not branches:
            if not own:
                return []
            names = ", ".join(e.name for e in own)
            return [
                (
                    f"entity types {names} have no migration branch, so their tables never exist",
                    "return crmkit.MigrationBranch(<label>, '<package>:migrations') "
                    "from crmkit_migrations",
                )
            ]
        backend = crm.backend
        assert isinstance(backend, SqlBackend)
        labels = [b.label for b in branches]
        found: Found = []
        with backend.connect() as conn:
            status = {s["branch"]: s for s in describe(conn, crm.migrations)}
            for label in labels:
                if not status[label]["up_to_date"]:
                    found.append(
                        (
                            f"branch {label} is not at its head after upgrade heads",
                            "give the branch one head revision",
                        )
                    )
            found += _schema_differences(conn, crm, own)
            kept = _tables(conn) - {e.table_name for e in own}
            for label in labels:
                try:
                    downgrade(conn, crm.migrations, f"{label}@base")
                    conn.commit()
                except Exception as exc:
                    conn.rollback()
                    return [
                        *found,
                        (
                            f"downgrading branch {label} to base failed: "
                            f"{type(exc).__name__}: {exc}",
                            "make each revision's downgrade() undo its upgrade()",
                        ),
                    ]
            left = sorted(_tables(conn) - kept)
            if left:
                found.append(
                    (
                        f"downgrading to base left tables behind: {', '.join(left)}",
                        "drop in downgrade() every table that upgrade() creates",
                    )
                )
            status = {s["branch"]: s for s in describe(conn, crm.migrations)}
            for label in labels:
                if status[label]["current"] is not None:
                    found.append(
                        (
                            f"branch {label} is still at {status[label]['current']} after "
                            "downgrading to base",
                            "give the first revision down_revision = None",
                        )
                    )
            try:
                upgrade(conn, crm.migrations)
                conn.commit()
            except Exception as exc:
                found.append(
                    (
                        f"upgrading again after the downgrade failed: {type(exc).__name__}: {exc}",
                        "make downgrade() remove everything upgrade() creates, indexes included",
                    )
                )
        return found


def _tables(conn: Any) -> set[str]:
    import sqlalchemy as sa

    return set(sa.inspect(conn).get_table_names())


def _schema_differences(conn: Any, crm: crmkit.CRM, own: list[EntityType]) -> Found:
    """How the migrated tables of the plugin differ from those its entity types describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from crmkit.migrations.runner import VERSION_TABLE
    from crmkit.storage.sql.tables import build_metadata

    metadata = build_metadata(crm.entity_types.values())
    mine = {e.table_name for e in own}

    def include(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        if type_ == "table":
            if name == VERSION_TABLE:
                return False
            return name in mine or (reflected and other is None and name not in metadata.tables)
        table = getattr(obj, "table", None)
        return getattr(table, "name", None) in mine

    context = MigrationContext.configure(
        conn, opts={"include_object": include, "compare_type": True}
    )
    differences = compare_metadata(context, metadata)
    if not differences:
        return []
    text = "; ".join(_describe_difference(d) for d in differences)
    return [
        (
            f"the migrated tables differ from those its entity types describe: {text}",
            "change the migration (or the entity type) until they agree; "
            "build_metadata in crmkit.storage.sql.tables shows the expected tables",
        )
    ]


def _describe_difference(diff: Any) -> str:
    if isinstance(diff, list):
        return ", ".join(_describe_difference(d) for d in diff)
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        where = diff[1].name
        word = "missing table" if kind == "add_table" else "extra table"
    elif kind in ("add_column", "remove_column"):
        where = f"{diff[2]}.{diff[3].name}"
        word = "missing column" if kind == "add_column" else "extra column"
    elif kind.startswith("modify_"):
        where = f"{diff[2]}.{diff[3]}"
        word = kind.replace("_", " ")
    else:
        obj = diff[1]
        where = getattr(obj, "name", None) or repr(obj)
        what = kind.partition("_")[2].replace("_", " ")
        word = {"add": "missing", "remove": "extra"}.get(kind.partition("_")[0], kind) + " " + what
    return f"{word} {where}"


# -- 3. privacy -----------------------------------------------------------------------


def privacy(plugin: str) -> Found:
    """Every field of the plugin's own entity types declares privacy and erasure."""
    from crmkit.privacy.check import check_entity_types

    with crmkit.open("memory://", plugins=[plugin], strict=True) as crm:
        return [(str(p), p.fix) for p in check_entity_types(_own_types(crm, plugin))]


# -- 4. events ------------------------------------------------------------------------


def events(plugin: str, url: str) -> Found:
    """The plugin's event types are well named, about known records, and survive the outbox."""
    from crmkit.events.model import EventType
    from crmkit.ids import new_id
    from crmkit.storage.base import StoredEvent

    found: Found = []
    with crmkit.open(url, plugins=[plugin], strict=True) as crm:
        declared = [
            t
            for name, types in collect(crm.pm, "crmkit_register_event_types")
            if name == plugin
            for t in types
        ]
        prefix = f"{_namespace(plugin)}."
        for etype in declared:
            if not isinstance(etype, EventType):
                found.append(
                    (
                        f"{etype!r} is not an event type",
                        "return crmkit.EventType(...) from crmkit_register_event_types",
                    )
                )
                continue
            if not etype.name.startswith(prefix) and not etype.description.strip():
                found.append(
                    (
                        f"event {etype.name} is outside the plugin's namespace {prefix}*",
                        f"rename it {prefix}<what happened>, or say in its description "
                        "whose event it is",
                    )
                )
            if etype.subject is not None and etype.subject not in crm.entity_types:
                found.append(
                    (
                        f"event {etype.name} is about {etype.subject!r}, not an entity type",
                        f"set subject to one of {', '.join(sorted(crm.entity_types))} or None",
                    )
                )
            stored = StoredEvent(
                id=new_id(),
                name=etype.name,
                version=etype.version,
                occurred_at=crmkit.entities.utcnow(),
                actor="conformance",
                subject_id=new_id(),
                payload={"sample": [1, "two", None, {"three": 3.0}]},
            )
            with crm.backend.begin() as tx:
                tx.append_events([stored])
            (back,) = [e for e in crm.events.read(names=[etype.name]) if e.id == stored.id]
            if (back.name, back.version, dict(back.payload), back.subject_id) != (
                stored.name,
                stored.version,
                stored.payload,
                stored.subject_id,
            ):
                found.append(
                    (
                        f"event {etype.name} came back from the outbox changed: {back}",
                        "report this to crmkit: the outbox must keep events as written",
                    )
                )
    return found


# -- 5. commands ----------------------------------------------------------------------


@contextmanager
def _counting_opens() -> Iterator[list[str]]:
    """Record every CRM opened in the block (by URL or folder)."""
    from crmkit import crm as crm_module

    opened: list[str] = []
    original = crm_module.CRM.__init__

    def counting(self: Any, settings: Any, **kwargs: Any) -> None:
        opened.append(settings.database_url)
        original(self, settings, **kwargs)

    crm_module.CRM.__init__ = counting  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        crm_module.CRM.__init__ = original  # type: ignore[method-assign]


def commands(plugin: str, cwd: Path) -> Found:
    """Importing the plugin and building its commands opens nothing and writes nothing."""
    import sys

    import click

    from crmkit.cli import CORE_COMMANDS

    (ep,) = [ep for ep in installed_entry_points() if ep.name == plugin]
    module_name = ep.value.split(":")[0]
    top = module_name.split(".")[0]
    for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    found: Found = []
    with _counting_opens() as opened:
        module = importlib.import_module(module_name)
        target = ep.load() if ":" in ep.value else module
        register = getattr(target, "crmkit_register_commands", None)
        made = list(register()) if callable(register) else []
    written = sorted(str(p.relative_to(cwd)) for p in cwd.rglob("*"))
    if written:
        found.append(
            (
                f"importing it or building its commands wrote {', '.join(written)} "
                "in the current folder",
                "write files only when a command runs, never at import",
            )
        )
    if opened:
        found.append(
            (
                f"importing it or building its commands opened a CRM on {opened[0]}",
                "get the CRM inside each command with crmkit.cli.context.get_crm()",
            )
        )
    for command in made:
        if not isinstance(command, click.Command) or not command.name:
            found.append(
                (
                    f"{command!r} is not a named click command",
                    "return click commands or groups with names",
                )
            )
        elif command.name in CORE_COMMANDS:
            found.append(
                (
                    f"command {command.name!r} shadows the core command of that name",
                    f"name it after the plugin, e.g. {_namespace(plugin)!r}",
                )
            )
    return found


# -- 6. together ----------------------------------------------------------------------


def together(plugin: str) -> Found:
    """With every installed plugin loaded, the plugin loads and a contact's view works."""
    try:
        crm = crmkit.open("memory://", plugins=None, strict=True)
    except CrmkitError as exc:
        return [
            (
                f"a CRM with every installed plugin loaded did not open: {exc}",
                "make the plugins agree (entity types, events and commands of one name "
                "belong to one plugin)",
            )
        ]
    with crm:
        (info,) = [p for p in crm.plugins if p.name == plugin]
        others = ", ".join(p.name for p in crm.plugins if p.status == "loaded" and p is not info)
        if info.status != "loaded":
            return [
                (
                    f"it did not load next to {others or 'the core'}: {info.error}",
                    "fix what the error names",
                )
            ]
        person = crm.contacts.add(first_name="Conformance", email="conformance@example.com")
        try:
            crm.view(person.id)
        except Exception as exc:
            return [
                (
                    f"the customer view of a new contact failed with every plugin loaded "
                    f"({others}): {type(exc).__name__}: {exc}",
                    "let crmkit_customer_view return None for a contact it knows nothing of",
                )
            ]
    return []
