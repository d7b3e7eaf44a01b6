"""The storage port: the small protocol the core and every plugin talk to.

A backend stores rows of registered entity types (dicts keyed by field name,
holding Python values), the event outbox and the record of failed deliveries.
Every write happens inside a :class:`StorageTransaction`; nothing is visible to
others until it commits. The contract test suite in ``crmkit.testing.contract``
runs against every backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import attrs

from crmkit.entities.types import EntityType
from crmkit.errors import ValidationError
from crmkit.storage.query import Aggregate, Filter, Query

Row = dict[str, Any]


@attrs.frozen
class StoredEvent:
    """An event as kept in the outbox."""

    id: str
    name: str
    version: int
    occurred_at: Any
    actor: str | None
    subject_id: str | None
    payload: dict[str, Any]


@attrs.frozen
class DeliveryFailure:
    """A subscriber that raised while handling an event, kept for retry."""

    id: str
    event_id: str
    subscriber: str
    error: str
    attempts: int
    failed_at: Any
    resolved_at: Any = None


class StorageReader(Protocol):
    """Reads of stored rows: what :meth:`StorageBackend.read` gives, and every transaction."""

    def get(self, etype: EntityType, record_id: str) -> Row | None: ...
    def get_by(self, etype: EntityType, field: str, value: Any) -> Row | None: ...
    def query(self, etype: EntityType, query: Query) -> list[Row]: ...
    def count(self, etype: EntityType, where: Filter | None = None) -> int: ...
    def aggregate(self, etype: EntityType, aggregate: Aggregate) -> list[Row]:
        """Figures per group, computed by the storage without loading the records.

        One row per group holding the group keys and the measures, sorted by the
        group keys ascending with no value first; without ``group_by`` exactly one
        row (count 0 and other measures ``None`` over no records). count and
        count_distinct give ``int``; sum gives the field's type (``int``,
        ``Decimal`` or ``float``); avg gives ``float``; min and max give the field's
        own type (datetimes timezone-aware in UTC). NULLs are left out, as in SQL.
        An aggregate the entity type cannot answer raises
        :class:`~crmkit.errors.ValidationError` naming the type and the field
        (:func:`crmkit.storage.aggregates.check_aggregate`).
        """
        ...


class StorageTransaction(StorageReader, Protocol):
    """Reads and writes inside one transaction."""

    def add(self, etype: EntityType, row: Row) -> None: ...
    def add_many(self, etype: EntityType, rows: Sequence[Row]) -> int: ...
    def update(
        self,
        etype: EntityType,
        record_id: str,
        changes: Row,
        *,
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        """Write ``changes`` to one row; whether it was written.

        ``False`` when there is no row with that id. With ``expect`` the row is
        changed only if every field named there still holds that value (``None``
        meaning no value) at the moment of the write: compare-and-set, so two
        writers that read the same row cannot both act on what they read. SQL
        backends decide it in one ``UPDATE ... WHERE``, so on PostgreSQL a
        transaction that changed the row first and committed makes it fail.
        Fields that are not the type's, or that hold lists or mappings, raise
        :class:`~crmkit.errors.ValidationError` (:func:`check_expect`).
        """
        ...
    def delete(self, etype: EntityType, record_id: str) -> bool: ...
    def delete_where(self, etype: EntityType, where: Filter) -> int: ...
    def existing_values(self, etype: EntityType, field: str, values: Sequence[Any]) -> set[Any]:
        """Which of ``values`` are already stored in ``field`` (for duplicate checks)."""
        ...
    def append_events(self, events: Sequence[StoredEvent]) -> None: ...
    def read_events(
        self,
        *,
        after: str | None = None,
        limit: int = 1000,
        names: Sequence[str] = (),
        ids: Sequence[str] = (),
        subject_id: str | None = None,
    ) -> list[StoredEvent]:
        """Outbox events in id order after ``after``, at most ``limit``.

        ``names``, ``ids`` and ``subject_id`` (the record an event is about)
        narrow the result; all given filters must hold.
        """
        ...
    def replace_event_payload(self, event_id: str, payload: dict[str, Any]) -> bool:
        """Rewrite one stored event's payload; ``False`` if there is no such event.

        The outbox is otherwise append-only: this exists so erasure can remove a
        person's values from the events that carried them.
        """
        ...
    def record_failure(self, failure: DeliveryFailure) -> None: ...
    def failures(self, *, unresolved_only: bool = True) -> list[DeliveryFailure]: ...
    def resolve_failure(self, failure_id: str, *, attempts: int, error: str | None) -> None: ...


_JSON_KINDS = frozenset({"list", "dict"})


def check_expect(etype: EntityType, expect: Mapping[str, Any]) -> None:
    """Refuse an ``expect`` of :meth:`StorageTransaction.update` no backend can compare.

    Every name must be a field of ``etype`` holding a single value: lists and
    mappings are stored as JSON, which databases do not compare for equality.
    """
    known = set(etype.field_names)
    unknown = [name for name in expect if name not in known]
    if unknown:
        raise ValidationError(
            etype.name,
            ", ".join(unknown),
            "no such field to compare before updating; the fields are "
            + ", ".join(etype.field_names),
        )
    compound = [name for name in expect if etype.field(name).kind in _JSON_KINDS]
    if compound:
        raise ValidationError(
            etype.name,
            ", ".join(compound),
            "lists and mappings cannot be compared before updating; "
            "compare a field holding a single value (such as updated_at) instead",
        )


@runtime_checkable
class StorageBackend(Protocol):
    """A place where a CRM keeps its data, chosen by URL."""

    url: str

    def begin(self) -> AbstractContextManager[StorageTransaction]:
        """Start a transaction: commits when the block ends, rolls back on error."""
        ...

    def read(self) -> AbstractContextManager[StorageReader]:
        """Read committed data without a write transaction (the cheap path for lookups).

        Reads in the block see only what was committed; a backend that can should let
        every statement of the block see the same snapshot.
        """
        ...

    def prepare(self, entity_types: Sequence[EntityType], migrations: Sequence[Any]) -> None:
        """Make the storage ready for these entity types (apply migrations)."""
        ...

    def close(self) -> None: ...
