"""The migrations build exactly the schema the storage backend expects, and undo it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import crmkit
from crmkit.crm import CRM
from crmkit.migrations.runner import VERSION_TABLE, current_heads, describe, downgrade
from crmkit.storage.sql.backend import SqlBackend
from crmkit.storage.sql.tables import build_metadata
from crmkit.testing import CONTRACT_PLUGIN, ContractPlugin


def _open(url: str) -> CRM:
    """The core plus the contract suite's entity type, which brings its own migration branch."""
    return crmkit.open(
        url, plugins=[CONTRACT_PLUGIN], extra_plugins=[(CONTRACT_PLUGIN, ContractPlugin())]
    )


def _skip_version_table(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (type_ == "table" and name == VERSION_TABLE)


def test_migrated_schema_matches_the_tables_built_from_entity_types(sql_url: str) -> None:
    with _open(sql_url) as crm:
        backend = crm.backend
        assert isinstance(backend, SqlBackend)
        metadata = build_metadata(crm.entity_types.values())
        with backend.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": _skip_version_table, "compare_type": True}
            )
            differences = compare_metadata(context, metadata)
            status = describe(conn, crm.migrations)
    assert sorted((s["branch"], s["up_to_date"]) for s in status) == [
        ("crmkit", True), ("crmkit_contract", True),
    ]
    assert differences == []


def test_downgrade_to_base_removes_every_table(sql_url: str) -> None:
    with _open(sql_url) as crm:
        backend = crm.backend
        assert isinstance(backend, SqlBackend)
        with backend.connect() as conn:
            downgrade(conn, crm.migrations, "base")
            conn.commit()
        with backend.connect() as conn:
            left = set(sa.inspect(conn).get_table_names()) - {VERSION_TABLE}
            heads = current_heads(conn)
    assert left == set()
    assert heads == ()


def test_a_plugin_branch_downgrades_on_its_own(sql_url: str) -> None:
    with _open(sql_url) as crm:
        backend = crm.backend
        assert isinstance(backend, SqlBackend)
        with backend.connect() as conn:
            downgrade(conn, crm.migrations, "crmkit_contract@base")
            conn.commit()
        with backend.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            heads = current_heads(conn)
    assert "contract_record" not in tables and "contact" in tables
    assert heads == ("crmkit_0002",)
