"""SQLAlchemy Core tables built from entity types, plus the system tables.

The migrations are the source of truth for the schema; a test checks that
these tables and the migrated database agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeEngine

from crmkit.entities.types import EntityType, FieldInfo
from crmkit.storage.sql.types import UTCDateTime, json_type

OUTBOX = "crmkit_outbox"
FAILURES = "crmkit_delivery_failure"


def column_type(info: FieldInfo) -> TypeEngine[Any]:
    """The SQL type for a field kind."""
    kinds: dict[str, TypeEngine[Any]] = {
        "str": Text(),
        "int": BigInteger(),
        "float": Float(),
        "bool": Boolean(),
        "decimal": Numeric(24, 6),
        "date": Date(),
        "datetime": UTCDateTime(),
        "list": json_type(),
        "dict": json_type(),
    }
    if info.name == "id" or info.spec.ref:
        return String(36)
    return kinds[info.kind]


def entity_table(metadata: MetaData, etype: EntityType) -> Table:
    """The table for one entity type, with an index per indexed field."""
    name = etype.table_name
    columns = [
        Column(
            f.name,
            column_type(f),
            primary_key=f.name == "id",
            nullable=f.optional and f.name != "id",
        )
        for f in etype.fields
    ]
    indexes = [
        Index(f"ix_{name}_{f.name}", f.name, unique=f.spec.unique)
        for f in etype.fields
        if f.spec.indexed and f.name != "id"
    ]
    if etype.name == "interaction":
        # The timeline reads a contact's newest interactions first.
        indexes.append(Index("ix_interaction_timeline", "contact_id", "occurred_at"))
    return Table(name, metadata, *columns, *indexes)


def system_tables(metadata: MetaData) -> tuple[Table, Table]:
    """The event outbox and the record of failed deliveries."""
    outbox = Table(
        OUTBOX,
        metadata,
        Column("id", String(36), primary_key=True),
        Column("name", String(200), nullable=False, index=True),
        Column("version", Integer, nullable=False),
        Column("occurred_at", UTCDateTime(), nullable=False),
        Column("actor", Text, nullable=True),
        Column("subject_id", String(36), nullable=True, index=True),
        Column("payload", json_type(), nullable=False),
    )
    failures = Table(
        FAILURES,
        metadata,
        Column("id", String(36), primary_key=True),
        Column("event_id", String(36), nullable=False, index=True),
        Column("subscriber", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("failed_at", UTCDateTime(), nullable=False),
        Column("resolved_at", UTCDateTime(), nullable=True),
    )
    return outbox, failures


def build_metadata(entity_types: Iterable[EntityType]) -> MetaData:
    """All tables for a set of entity types plus the system tables."""
    metadata = MetaData()
    for etype in entity_types:
        entity_table(metadata, etype)
    system_tables(metadata)
    return metadata
