"""The SQL backend's read path: compiled statements run straight on the driver connection.

A read is most of what a CRM does, and SQLAlchemy's per-execute machinery costs several
times what the database does for an indexed lookup. So each read statement is built with
SQLAlchemy Core and compiled once per table and query shape (which fields, which
operators, which order), and then runs on the DBAPI connection with only its values
bound: the column types' own bind and result processors convert values both ways, so
rows come back exactly as through SQLAlchemy.

Filters are turned into SQL by :func:`crmkit.storage.sql.filters.to_sql`, given bound
parameters in place of the values, so the two paths cannot disagree on what a filter
means. Case-insensitive text matches (``contains``, ``startswith``) build their pattern
from the value, so their text is part of the shape. Grouped aggregates are compiled
and cached the same way, one ``SELECT ... GROUP BY`` per shape
(:mod:`crmkit.storage.sql.aggregates`).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import JSON, BindParameter, Integer, Select, Table, bindparam, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from crmkit.entities.types import EntityType
from crmkit.errors import DatabaseError
from crmkit.storage.aggregates import check_aggregate, sort_groups
from crmkit.storage.base import Row
from crmkit.storage.query import (
    Aggregate,
    AllOf,
    AnyOf,
    Cond,
    Filter,
    Not,
    Query,
    Related,
    split_key,
    value_kind,
)
from crmkit.storage.sql.aggregates import Output, aggregate_select
from crmkit.storage.sql.filters import KIND_TYPES, order_clauses, related_table, to_sql
from crmkit.storage.sql.types import UTCDateTime

TEXT_MATCH_OPS = frozenset({"contains", "startswith"})
MAX_SHAPES = 256

Processor = Callable[[Any], Any]


class Prepared:
    """One compiled statement: its SQL text and how to turn values into driver parameters."""

    def __init__(self, stmt: Select[Any], dialect: Dialect) -> None:
        # Values are bound per call; only an empty IN list is rendered into the text.
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self._order = tuple(compiled.positiontup or ()) if compiled.positional else None
        self._defaults = dict(compiled.construct_params())
        self._processors: list[tuple[str, Processor]] = []
        for name, bind in compiled.binds.items():
            if name in self._defaults:
                proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if proc is not None:
                    self._processors.append((name, proc))

    def params(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """Driver parameters for ``values`` (by bind name), in the dialect's style."""
        merged = {**self._defaults, **values}
        for name, proc in self._processors:
            merged[name] = proc(merged[name])
        if self._order is None:
            return merged
        return tuple(merged[name] for name in self._order)


class PreparedAggregate(Prepared):
    """A compiled aggregate statement and how to read its rows back as result dicts."""

    def __init__(self, stmt: Select[Any], dialect: Dialect, outputs: Sequence[Output]) -> None:
        super().__init__(stmt, dialect)
        self._dialect = dialect
        self._outputs = tuple(outputs)
        self._steps: list[tuple[Processor | None, Processor | None]] | None = None

    def rows(
        self,
        fetched: Sequence[Sequence[Any]],
        description: Sequence[Sequence[Any]],
        keys: Sequence[str],
    ) -> list[Row]:
        """Result dicts with the values under ``keys`` (the group keys, then the measures).

        The keys are given per call, since aggregates that differ only in them share
        one statement.
        """
        if self._steps is None:  # built on the first result, from the driver's type codes
            self._steps = [
                (
                    None
                    if out.read_as is None
                    else result_processor(out.read_as, self._dialect, described[1]),
                    out.finish,
                )
                for out, described in zip(self._outputs, description, strict=True)
            ]
        out: list[Row] = []
        for fetched_row in fetched:
            row: Row = {}
            for key, (proc, finish), value in zip(keys, self._steps, fetched_row, strict=True):
                if value is not None and proc is not None:
                    value = proc(value)
                if value is not None and finish is not None:
                    value = finish(value)
                row[key] = value
            out.append(row)
        return out


def _shape(flt: Filter | None, values: list[Any]) -> Hashable:
    """A hashable description of ``flt`` without its bound values, which go to ``values``.

    Keys inside dict fields and ``has`` bind each value as its JSON kind, so the
    kinds are part of the shape; so are the entity types and links of
    :class:`Related` filters.
    """
    if flt is None:
        return None
    if isinstance(flt, Cond):
        op, value = flt.op, flt.value
        typed = op == "has" or split_key(flt.field)[1] is not None
        if op in TEXT_MATCH_OPS:
            return (flt.field, op, "text", str(value))
        if op == "isnull" or value is None:
            return (flt.field, op, "const", bool(value) if op == "isnull" else None)
        if op == "in":
            items = list(value)
            values.extend(items)
            if typed:
                return (flt.field, op, tuple(value_kind(v) for v in items))
            return (flt.field, op, len(items))
        values.append(value)
        return (flt.field, op, value_kind(value)) if typed else (flt.field, op)
    if isinstance(flt, Not):
        return ("not", _shape(flt.filter, values))
    if isinstance(flt, Related):
        return ("related", flt.entity, flt.link, _shape(flt.where, values))
    kind = "any" if isinstance(flt, AnyOf) else "all"
    return (kind, tuple(_shape(f, values) for f in flt.filters))


def _template(table: Table, flt: Filter, binds: list[str]) -> Filter:
    """``flt`` with bound parameters ``p0, p1, ...`` in place of the values :func:`_shape` took."""
    if isinstance(flt, Cond):
        op, value = flt.op, flt.value
        if op in TEXT_MATCH_OPS or op == "isnull" or value is None:
            return flt
        typed = op == "has" or split_key(flt.field)[1] is not None

        def bind(item: Any) -> BindParameter[Any]:
            name = f"p{len(binds)}"
            binds.append(name)
            col_type = KIND_TYPES[str(value_kind(item))]() if typed else table.c[flt.field].type
            return bindparam(name, value=None, type_=col_type)

        if op == "in":
            return Cond(flt.field, op, [bind(item) for item in list(value)])
        return Cond(flt.field, op, bind(value))
    if isinstance(flt, Not):
        return Not(_template(table, flt.filter, binds))
    if isinstance(flt, Related):
        if flt.where is None:
            return flt
        other = related_table(table.metadata, flt.entity)
        return Related(flt.entity, flt.link, _template(other, flt.where, binds))
    parts = tuple(_template(table, f, binds) for f in flt.filters)
    return AnyOf(parts) if isinstance(flt, AnyOf) else AllOf(parts)


class TableReads:
    """The read statements of one table for one dialect, and its row converter."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.table = table
        self.dialect = dialect
        self.names = tuple(c.name for c in table.columns)
        self.driver_error: type[Exception] = dialect.loaded_dbapi.Error
        self.get = Prepared(select(table).where(table.c.id == _value(table, "id")), dialect)
        self._get_by: dict[str, Prepared] = {}
        self._shapes: dict[Hashable, Prepared] = {}
        self._aggregates: dict[Hashable, PreparedAggregate] = {}
        self._convert: Callable[[Sequence[Any]], Row] | None = None

    def get_by(self, field: str) -> Prepared:
        prepared = self._get_by.get(field)
        if prepared is None:
            stmt = select(self.table).where(self.table.c[field] == _value(self.table, field))
            prepared = self._get_by[field] = Prepared(stmt.limit(1), self.dialect)
        return prepared

    def query(self, query: Query) -> tuple[Prepared, dict[str, Any]]:
        """The statement for ``query`` (compiled on first use of its shape) and its values."""
        values: list[Any] = []
        key = (
            "rows",
            _shape(query.where, values),
            tuple(query.order_by),
            query.limit is None,
            not query.offset,
        )
        params = {f"p{i}": v for i, v in enumerate(values)}
        if query.limit is not None:
            params["lim"] = query.limit
        if query.offset:
            params["off"] = query.offset
        prepared = self._shapes.get(key)
        if prepared is None:
            stmt = select(self.table)
            if query.where is not None:
                stmt = stmt.where(to_sql(self.table, _template(self.table, query.where, [])))
            stmt = stmt.order_by(*order_clauses(self.table, query.order_by))
            if query.limit is not None:
                stmt = stmt.limit(bindparam("lim", value=None, type_=Integer()))
            if query.offset:
                stmt = stmt.offset(bindparam("off", value=None, type_=Integer()))
            prepared = self._remember(key, stmt)
        return prepared, params

    def count(self, where: Filter | None) -> tuple[Prepared, dict[str, Any]]:
        values: list[Any] = []
        key = ("count", _shape(where, values))
        prepared = self._shapes.get(key)
        if prepared is None:
            stmt = select(func.count()).select_from(self.table)
            if where is not None:
                stmt = stmt.where(to_sql(self.table, _template(self.table, where, [])))
            prepared = self._remember(key, stmt)
        return prepared, {f"p{i}": v for i, v in enumerate(values)}

    def aggregate(
        self, aggregate: Aggregate, kinds: dict[str, str]
    ) -> tuple[PreparedAggregate, dict[str, Any]]:
        """The statement for ``aggregate`` (compiled on first use of its shape) and its values.

        ``kinds`` gives the storage kind of each field of the table's entity type.
        """
        values: list[Any] = []
        key = (
            _shape(aggregate.where, values),
            tuple((g.field, g.part) for g in aggregate.group_by),
            tuple((m.fn, m.field) for m in aggregate.measures),
        )
        prepared = self._aggregates.get(key)
        if prepared is None:
            where = aggregate.where
            clause = None if where is None else to_sql(self.table, _template(self.table, where, []))
            stmt, outputs = aggregate_select(
                self.table, aggregate, kinds, clause, self.dialect.name
            )
            if len(self._aggregates) >= MAX_SHAPES:
                self._aggregates.clear()
            prepared = PreparedAggregate(stmt, self.dialect, outputs)
            self._aggregates[key] = prepared
        return prepared, {f"p{i}": v for i, v in enumerate(values)}

    def _remember(self, key: Hashable, stmt: Select[Any]) -> Prepared:
        if len(self._shapes) >= MAX_SHAPES:  # text searches each add a shape; keep it bounded
            self._shapes.clear()
        prepared = self._shapes[key] = Prepared(stmt, self.dialect)
        return prepared

    def converter(self, description: Sequence[Sequence[Any]]) -> Callable[[Sequence[Any]], Row]:
        """Turn a fetched row into a dict of Python values with the columns' result processors.

        Built on the first result, from the driver's own column type codes, as SQLAlchemy does.
        """
        if self._convert is None:
            steps: list[tuple[int, Processor]] = []
            for index, (column, described) in enumerate(
                zip(self.table.columns, description, strict=True)
            ):
                proc = result_processor(column.type, self.dialect, described[1])
                if proc is not None:
                    steps.append((index, proc))
            names = self.names

            def convert(row: Sequence[Any]) -> Row:
                values = list(row)
                for index, proc in steps:
                    values[index] = proc(values[index])
                return dict(zip(names, values, strict=False))

            self._convert = convert
        return self._convert


def result_processor(
    col_type: TypeEngine[Any], dialect: Dialect, type_code: Any
) -> Processor | None:
    """The column type's result processor, with two shortcuts that give the same values.

    ``UTCDateTime`` parses the ISO text SQLite keeps by itself, so SQLite's slower
    generic parse before it is skipped; an empty JSON list or object (the usual
    ``tags`` and ``custom``) becomes a new empty one without the JSON decoder.
    """
    if isinstance(col_type, UTCDateTime):
        decorator = col_type.dialect_impl(dialect)
        assert isinstance(decorator, UTCDateTime)
        to_utc = decorator.process_result_value
        return lambda value: to_utc(value, dialect)
    proc = col_type.dialect_impl(dialect).result_processor(dialect, type_code)
    if proc is None or not isinstance(col_type, JSON):
        return proc
    decode = proc

    def from_json(value: Any) -> Any:
        if value == "[]":
            return []
        if value == "{}":
            return {}
        return decode(value)

    return from_json


def _value(table: Table, field: str) -> BindParameter[Any]:
    return bindparam("p0", value=None, type_=table.c[field].type)


class SqlReader:
    """Reads on one driver connection: ``get``, ``get_by``, ``query``, ``count``, ``aggregate``.

    ``reads_for`` gives the :class:`TableReads` of an entity type's table. Driver errors
    become :class:`~crmkit.errors.DatabaseError` naming the table.
    """

    def __init__(self, reads_for: Callable[[EntityType], TableReads], connection: Any) -> None:
        self._reads_for = reads_for
        self._driver = connection

    def _run(self, reads: TableReads, prepared: Prepared, values: dict[str, Any]) -> Any:
        cursor = self._driver.cursor()
        try:
            cursor.execute(prepared.sql, prepared.params(values))
        except reads.driver_error as exc:
            cursor.close()
            raise DatabaseError(f"cannot read {reads.table.name}: {_reason(exc)}") from exc
        return cursor

    def get(self, etype: EntityType, record_id: str) -> Row | None:
        reads = self._reads_for(etype)
        return self._first(reads, reads.get, {"p0": record_id})

    def get_by(self, etype: EntityType, field: str, value: Any) -> Row | None:
        reads = self._reads_for(etype)
        return self._first(reads, reads.get_by(field), {"p0": value})

    def _first(self, reads: TableReads, prepared: Prepared, values: dict[str, Any]) -> Row | None:
        cursor = self._run(reads, prepared, values)
        try:
            row = cursor.fetchone()
            return reads.converter(cursor.description)(row) if row is not None else None
        finally:
            cursor.close()

    def query(self, etype: EntityType, query: Query) -> list[Row]:
        reads = self._reads_for(etype)
        prepared, values = reads.query(query)
        cursor = self._run(reads, prepared, values)
        try:
            rows = cursor.fetchall()
            if not rows:
                return []
            convert = reads.converter(cursor.description)
            return [convert(r) for r in rows]
        finally:
            cursor.close()

    def count(self, etype: EntityType, where: Filter | None = None) -> int:
        reads = self._reads_for(etype)
        prepared, values = reads.count(where)
        cursor = self._run(reads, prepared, values)
        try:
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def aggregate(self, etype: EntityType, aggregate: Aggregate) -> list[Row]:
        """Group keys and measures per group, computed by one ``SELECT ... GROUP BY``."""
        check_aggregate(etype, aggregate)
        reads = self._reads_for(etype)
        prepared, values = reads.aggregate(aggregate, {f.name: f.kind for f in etype.fields})
        keys = [g.key for g in aggregate.group_by] + [m.name for m in aggregate.measures]
        cursor = self._run(reads, prepared, values)
        try:
            rows = prepared.rows(cursor.fetchall(), cursor.description, keys)
        finally:
            cursor.close()
        return sort_groups(rows, aggregate)


def _reason(exc: Exception) -> str:
    """The first line of a driver error, with the fix when the schema is behind."""
    lines = str(exc).strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    if "no such table" in reason or "does not exist" in reason:
        reason += " (the database is not upgraded: run 'crmkit db upgrade')"
    return reason


class SqliteReadConnections:
    """Idle read-only connections to one SQLite file, reused without a pool checkout.

    A read takes an idle connection (or opens one with ``connect``) and runs in a
    deferred transaction, so every statement of the read sees the same committed
    snapshot; in WAL mode readers never wait for writers. At most ``max_idle``
    connections are kept; after a fork the child opens its own.
    """

    def __init__(self, connect: Callable[[], Any], *, max_idle: int = 4) -> None:
        self._connect = connect
        self._max_idle = max_idle
        self._idle: deque[Any] = deque()
        self._pid = os.getpid()
        self._closed = False

    def reading(self, reads_for: Callable[[EntityType], TableReads]) -> SnapshotRead:
        """A context manager giving a :class:`SqlReader` on one snapshot of the database."""
        return SnapshotRead(self, reads_for)

    def _take(self) -> Any:
        if self._pid != os.getpid():
            self._idle, self._pid = deque(), os.getpid()
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self._connect()
        try:
            conn.execute("BEGIN")
        except Exception:
            conn.close()
            raise
        return conn

    def _give_back(self, conn: Any) -> None:
        try:
            conn.rollback()  # a read-only transaction: ending it either way is the same
        except Exception:
            conn.close()
            raise
        if self._closed or len(self._idle) >= self._max_idle:
            conn.close()
        else:
            self._idle.append(conn)

    def close(self) -> None:
        """Close the idle connections; ones in use are closed when given back."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()


class SnapshotRead:
    """``with`` block of one read on :class:`SqliteReadConnections` (a class, not a generator,
    because it runs on every lookup)."""

    __slots__ = ("_conn", "_connections", "_reads_for")

    def __init__(
        self, connections: SqliteReadConnections, reads_for: Callable[[EntityType], TableReads]
    ) -> None:
        self._connections = connections
        self._reads_for = reads_for
        self._conn: Any = None

    def __enter__(self) -> SqlReader:
        self._conn = self._connections._take()
        return SqlReader(self._reads_for, self._conn)

    def __exit__(self, *exc_info: object) -> None:
        conn, self._conn = self._conn, None
        self._connections._give_back(conn)
