"""An in-memory backend for tests and throwaway CRMs (``memory://``).

It keeps rows as dicts; a transaction works on a copy of the tables it
touches and swaps them in on commit, so a failed unit of work leaves nothing
behind, exactly like the SQL backend. It passes the same contract suite.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

from crmkit.entities.types import EntityType
from crmkit.errors import DuplicateError, ValidationError
from crmkit.storage.aggregates import aggregate_rows
from crmkit.storage.base import DeliveryFailure, Row, StoredEvent, check_expect
from crmkit.storage.query import (
    Aggregate,
    AllOf,
    AnyOf,
    Cond,
    Filter,
    Not,
    Query,
    Related,
    order_fields,
    split_key,
    value_kind,
)

Table = dict[str, Row]


class _Matcher:
    """Decides which rows a filter matches.

    ``rows_of(entity, link)`` gives the rows of an entity type, checking it has the link.

    A :class:`Related` filter is answered once per call: the link values of the
    other type's matching records are collected into a set, then looked up per row.
    """

    def __init__(self, rows_of: Callable[[str, str], Iterable[Row]]) -> None:
        self._rows_of = rows_of
        self._linked: dict[int, set[Any]] = {}

    def __call__(self, row: Row, flt: Filter) -> bool:
        if isinstance(flt, AnyOf):
            return any(self(row, f) for f in flt.filters)
        if isinstance(flt, AllOf):
            return all(self(row, f) for f in flt.filters)
        if isinstance(flt, Not):
            return not self(row, flt.filter)
        if isinstance(flt, Related):
            return row.get("id") in self._links(flt)
        name, key = split_key(flt.field)
        if key is not None:
            return _key_cond(row.get(name), key, flt)
        if flt.op == "has":
            return _has(row.get(name), flt.value)
        return _cond(row.get(name), flt)

    def _links(self, flt: Related) -> set[Any]:
        # Keyed by identity: the filter lives as long as this call, and may hold lists.
        found = self._linked.get(id(flt))
        if found is None:
            where = flt.where
            found = {
                other.get(flt.link)
                for other in self._rows_of(flt.entity, flt.link)
                if where is None or self(other, where)
            }
            self._linked[id(flt)] = found
        return found


def _same_kind(value: Any, want: Any) -> bool:
    return value_kind(value) == value_kind(want)


def _has(value: Any, want: Any) -> bool:
    return isinstance(value, list) and any(
        item == want and _same_kind(item, want) for item in value
    )


def _key_cond(value: Any, key: str, cond: Cond) -> bool:
    """``cond`` on the value under ``key`` of a dict field, as the SQL backend decides it."""
    held = value.get(key) if isinstance(value, dict) else None
    op, want = cond.op, cond.value
    if op in ("eq", "ne", "isnull") and (op == "isnull" or want is None):
        return _cond(held, cond)
    if want is None:
        return False  # ordering against no value matches nothing, as in SQL
    if op in ("contains", "startswith"):
        return _cond(held if isinstance(held, str) else None, cond)
    if op == "in":
        return any(held == item and _same_kind(held, item) for item in list(want))
    return _cond(held if _same_kind(held, want) else None, cond)


def _cond(value: Any, cond: Cond) -> bool:
    op, want = cond.op, cond.value
    if op == "eq":
        return bool(value == want) if want is not None else value is None
    if op == "ne":
        return bool(value != want) if want is not None else value is not None
    if op == "isnull":
        return (value is None) == bool(want)
    if value is None:
        return False
    if op == "in":
        return value in list(want)
    if op == "contains":
        return str(want).casefold() in str(value).casefold()
    if op == "startswith":
        return str(value).casefold().startswith(str(want).casefold())
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
    }
    return compare[op](value, want)


def _holds(value: Any, want: Any) -> bool:
    """Whether a stored value equals ``want`` as SQL's ``=`` (or ``IS NULL``) decides it."""
    if want is None or value is None:
        return value is None and want is None
    return _same_kind(value, want) and bool(value == want)


def _stored(values: Row) -> Row:
    """A private copy of ``values`` with times in UTC, as the SQL backend reads them back."""
    out = copy.deepcopy(values)
    for key, value in out.items():
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            out[key] = value.astimezone(dt.UTC)
    return out


class MemoryTransaction:
    """Copy-on-write view of the backend's tables for one transaction."""

    def __init__(self, backend: MemoryBackend) -> None:
        self._backend = backend
        self._tables: dict[str, Table] = {}
        self.events: list[StoredEvent] = []
        self.payloads: dict[str, dict[str, Any]] = {}
        """Event payloads rewritten in this transaction, by event id."""
        self.failures_: dict[str, DeliveryFailure] = dict(backend.failures)

    def _table(self, etype: EntityType) -> Table:
        name = etype.table_name
        if name not in self._tables:
            self._tables[name] = dict(self._backend.tables.get(name, {}))
        return self._tables[name]

    def _matcher(self) -> _Matcher:
        return _Matcher(self._rows_of)

    def _rows_of(self, entity: str, link: str) -> Iterable[Row]:
        etype = self._backend.types.get(entity)
        if etype is None:
            raise ValidationError(
                entity, None, "no such entity type to look for related records in"
            )
        if link not in etype.field_names:
            raise ValidationError(entity, link, "no such field to link records by")
        return self._table(etype).values()

    def get(self, etype: EntityType, record_id: str) -> Row | None:
        row = self._table(etype).get(record_id)
        return copy.deepcopy(row) if row is not None else None

    def get_by(self, etype: EntityType, field: str, value: Any) -> Row | None:
        for row in self._table(etype).values():
            if row.get(field) == value:
                return copy.deepcopy(row)
        return None

    def _check_unique(self, etype: EntityType, row: Row, skip_id: str | None = None) -> None:
        table = self._table(etype)
        for f in etype.fields:
            value = row.get(f.name)
            if not f.spec.unique or value is None:
                continue
            for other in table.values():
                if other["id"] != skip_id and other.get(f.name) == value:
                    raise DuplicateError(
                        etype.name, f.name, "this value is already used by another record"
                    )

    def add(self, etype: EntityType, row: Row) -> None:
        table = self._table(etype)
        if row["id"] in table:
            raise DuplicateError(etype.name, "id", f"id {row['id']} already exists")
        self._check_unique(etype, row)
        table[row["id"]] = _stored(row)

    def add_many(self, etype: EntityType, rows: Sequence[Row]) -> int:
        for row in rows:
            self.add(etype, row)
        return len(rows)

    def update(
        self,
        etype: EntityType,
        record_id: str,
        changes: Row,
        *,
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        if expect:
            check_expect(etype, expect)
        table = self._table(etype)
        old = table.get(record_id)
        if old is None:
            return False
        if expect and not all(_holds(old.get(name), want) for name, want in expect.items()):
            return False
        new = {**old, **_stored(changes)}
        self._check_unique(etype, new, skip_id=record_id)
        table[record_id] = new
        return True

    def delete(self, etype: EntityType, record_id: str) -> bool:
        return self._table(etype).pop(record_id, None) is not None

    def delete_where(self, etype: EntityType, where: Filter) -> int:
        table = self._table(etype)
        matches = self._matcher()
        doomed = [k for k, row in table.items() if matches(row, where)]
        for key in doomed:
            del table[key]
        return len(doomed)

    def query(self, etype: EntityType, query: Query) -> list[Row]:
        matches = self._matcher()
        rows = [
            r
            for r in self._table(etype).values()
            if query.where is None or matches(r, query.where)
        ]
        keys = order_fields(query.order_by)
        if "id" not in [k for k, _ in keys]:
            keys.append(("id", False))
        for name, desc in reversed(keys):
            present = [r for r in rows if r.get(name) is not None]
            missing = [r for r in rows if r.get(name) is None]
            present.sort(key=lambda r, n=name: r[n], reverse=desc)  # type: ignore[misc]
            # NULLs sort as the smallest value, as SQLite and this contract define.
            rows = present + missing if desc else missing + present
        end = None if query.limit is None else query.offset + query.limit
        return [copy.deepcopy(r) for r in rows[query.offset : end]]

    def count(self, etype: EntityType, where: Filter | None = None) -> int:
        matches = self._matcher()
        return sum(1 for r in self._table(etype).values() if where is None or matches(r, where))

    def aggregate(self, etype: EntityType, aggregate: Aggregate) -> list[Row]:
        where = aggregate.where
        matches = self._matcher()
        rows = (r for r in self._table(etype).values() if where is None or matches(r, where))
        return aggregate_rows(etype, aggregate, rows)

    def existing_values(self, etype: EntityType, field: str, values: Sequence[Any]) -> set[Any]:
        wanted = set(values)
        return {r.get(field) for r in self._table(etype).values()} & wanted

    def append_events(self, events: Sequence[StoredEvent]) -> None:
        self.events.extend(events)

    def read_events(
        self,
        *,
        after: str | None = None,
        limit: int = 1000,
        names: Sequence[str] = (),
        ids: Sequence[str] = (),
        subject_id: str | None = None,
    ) -> list[StoredEvent]:
        merged = sorted([*self._backend.outbox, *self.events], key=lambda e: e.id)
        out = [
            self._rewritten(e)
            for e in merged
            if (after is None or e.id > after)
            and (not names or e.name in names)
            and (not ids or e.id in ids)
            and (subject_id is None or e.subject_id == subject_id)
        ]
        return out[:limit]

    def _rewritten(self, event: StoredEvent) -> StoredEvent:
        payload = self.payloads.get(event.id)
        if payload is None:
            return event
        return attrs.evolve(event, payload=copy.deepcopy(payload))

    def replace_event_payload(self, event_id: str, payload: dict[str, Any]) -> bool:
        known = any(e.id == event_id for e in (*self._backend.outbox, *self.events))
        if known:
            self.payloads[event_id] = copy.deepcopy(payload)
        return known

    def record_failure(self, failure: DeliveryFailure) -> None:
        self.failures_[failure.id] = failure

    def failures(self, *, unresolved_only: bool = True) -> list[DeliveryFailure]:
        items = sorted(self.failures_.values(), key=lambda f: (f.failed_at, f.id))
        return [f for f in items if not unresolved_only or f.resolved_at is None]

    def resolve_failure(self, failure_id: str, *, attempts: int, error: str | None) -> None:
        from crmkit.entities.base import utcnow

        old = self.failures_[failure_id]
        self.failures_[failure_id] = DeliveryFailure(
            id=old.id,
            event_id=old.event_id,
            subscriber=old.subscriber,
            error=old.error if error is None else error,
            attempts=attempts,
            failed_at=old.failed_at,
            resolved_at=utcnow() if error is None else None,
        )

    def commit(self) -> None:
        self._backend.tables.update(self._tables)
        self._backend.outbox.extend(self.events)
        if self.payloads:
            self._backend.outbox[:] = [self._rewritten(e) for e in self._backend.outbox]
        self._backend.failures = self.failures_


class MemoryBackend:
    """Storage in process memory; one writer at a time."""

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self.tables: dict[str, Table] = {}
        self.outbox: list[StoredEvent] = []
        self.failures: dict[str, DeliveryFailure] = {}
        self.types: dict[str, EntityType] = {}
        """The entity types this storage was prepared for, by name."""
        self._lock = threading.RLock()

    def prepare(self, entity_types: Sequence[EntityType], migrations: Sequence[Any]) -> None:
        self.types = {etype.name: etype for etype in entity_types}
        for etype in entity_types:
            self.tables.setdefault(etype.table_name, {})

    @contextmanager
    def begin(self) -> Iterator[MemoryTransaction]:
        with self._lock:
            tx = MemoryTransaction(self)
            yield tx
            tx.commit()

    @contextmanager
    def read(self) -> Iterator[MemoryTransaction]:
        """Committed data, read under the same lock as transactions; nothing is kept."""
        with self._lock:
            yield MemoryTransaction(self)

    def close(self) -> None:
        self.tables.clear()
