"""The SQLAlchemy storage backend: SQLite (embedded default) and PostgreSQL.

Statements that run per record are built once per table and reused, so
SQLAlchemy's compiled cache is hit; reads run statements compiled once per
table and query shape straight on the driver connection
(:mod:`crmkit.storage.sql.reads`); bulk adds go through the driver's
``executemany`` on SQLite and ``COPY`` on PostgreSQL, where
:meth:`SqlTransaction.bulk_adder` streams many batches through one ``COPY``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from operator import itemgetter
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from crmkit.entities.base import utcnow
from crmkit.entities.types import EntityType
from crmkit.errors import DatabaseError, DuplicateError
from crmkit.storage.base import DeliveryFailure, Row, StoredEvent, check_expect
from crmkit.storage.query import Filter
from crmkit.storage.sql.engine import make_engine, safe_url, sqlite_pragmas
from crmkit.storage.sql.filters import to_sql
from crmkit.storage.sql.reads import SqliteReadConnections, SqlReader, TableReads
from crmkit.storage.sql.tables import FAILURES, OUTBOX, build_metadata

IN_CHUNK = 900


class _TableStatements:
    """Statements for one table, built once so each call only binds values."""

    def __init__(self, table: Table, etype: EntityType) -> None:
        self.table = table
        self.columns = [c.name for c in table.columns]
        self.json_columns = frozenset(f.name for f in etype.fields if f.kind in ("list", "dict"))
        self.insert = table.insert()
        self.delete = table.delete().where(table.c.id == bindparam("id"))
        # Read statements compiled for the engine's dialect, built on first use.
        self.reads: TableReads | None = None
        # Bulk-insert helpers per dialect name, built on first use.
        self.bulk: dict[str, _BulkRows] = {}
        self.bulk_sql: dict[str, str] = {}


def _duplicate_from(exc: Exception, etype: EntityType) -> DuplicateError | None:
    """The DuplicateError a unique-constraint failure means, or ``None`` for other failures.

    ``exc`` is SQLAlchemy's IntegrityError or, from ``COPY``, the driver's own.
    """
    text = str(getattr(exc, "orig", None) or exc)
    if f"{etype.table_name}.id" in text or f"{etype.table_name}_pkey" in text:
        return DuplicateError(etype.name, "id", "this id is already used by another record")
    for f in etype.fields:
        if f.spec.unique and (f"{etype.table_name}.{f.name}" in text or f"_{f.name}" in text):
            return DuplicateError(
                etype.name, f.name, "this value is already used by another record"
            )
    return None


class SqlTransaction(SqlReader):
    """One database transaction on a SQLAlchemy connection.

    Reads (``get``, ``get_by``, ``query``, ``count``, ``aggregate``) run on the same
    driver connection through :class:`SqlReader`, so they see this transaction's own writes.
    """

    def __init__(self, backend: SqlBackend, conn: Connection) -> None:
        super().__init__(backend.reads, conn.connection.driver_connection)
        self._backend = backend
        self.conn = conn

    def _st(self, etype: EntityType) -> _TableStatements:
        return self._backend.statements(etype)

    def add(self, etype: EntityType, row: Row) -> None:
        try:
            self.conn.execute(self._st(etype).insert, row)
        except IntegrityError as exc:
            dup = _duplicate_from(exc, etype)
            if dup is None:
                raise
            raise dup from None

    def add_many(self, etype: EntityType, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        st = self._st(etype)
        try:
            if self.conn.dialect.name == "postgresql":
                return _copy_rows(self.conn, st, rows)
            return _executemany_rows(self.conn, st, rows)
        except (IntegrityError, self.conn.dialect.loaded_dbapi.IntegrityError) as exc:
            dup = _duplicate_from(exc, etype)
            if dup is None:
                raise
            raise dup from None

    def bulk_adder(self, etype: EntityType) -> AbstractContextManager[BulkAdder]:
        """Adds many batches of new rows of ``etype``, faster than ``add_many`` per batch.

        On PostgreSQL all batches go through one ``COPY``, so the server stores
        one batch while the next is being prepared; on SQLite each batch is an
        ``add_many``. Nothing else may use this transaction until the block
        ends; a duplicate key may only be reported (as
        :class:`~crmkit.errors.DuplicateError`) when it does.
        """
        if self.conn.dialect.name == "postgresql":
            return _CopyStream(self.conn, self._st(etype), etype)
        return _BatchAdder(self, etype)

    def update(
        self,
        etype: EntityType,
        record_id: str,
        changes: Row,
        *,
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        """One ``UPDATE``; with ``expect`` its ``WHERE`` also holds the expected values.

        The row count decides, so the comparison and the write are one step: on
        PostgreSQL (read committed) an update waiting for another transaction's
        lock on the row re-checks the ``WHERE`` against what that one committed.
        """
        table = self._st(etype).table
        stmt = table.update().where(table.c.id == record_id)
        if expect:
            check_expect(etype, expect)
            stmt = stmt.where(
                *(
                    table.c[name].is_(None) if value is None else table.c[name] == value
                    for name, value in expect.items()
                )
            )
        try:
            result = self.conn.execute(stmt.values(**changes))
        except IntegrityError as exc:
            dup = _duplicate_from(exc, etype)
            if dup is None:
                raise
            raise dup from None
        return bool(result.rowcount)

    def delete(self, etype: EntityType, record_id: str) -> bool:
        result = self.conn.execute(self._st(etype).delete, {"id": record_id})
        return bool(result.rowcount)

    def delete_where(self, etype: EntityType, where: Filter) -> int:
        table = self._st(etype).table
        return int(self.conn.execute(table.delete().where(to_sql(table, where))).rowcount)

    def existing_values(self, etype: EntityType, field: str, values: Sequence[Any]) -> set[Any]:
        table = self._st(etype).table
        col = table.c[field]
        stmt = select(col).where(col.in_(bindparam("values", expanding=True)))
        found: set[Any] = set()
        for start in range(0, len(values), IN_CHUNK):
            chunk = list(values[start : start + IN_CHUNK])
            found.update(self.conn.execute(stmt, {"values": chunk}).scalars())
        return found

    # -- outbox ---------------------------------------------------------
    def append_events(self, events: Sequence[StoredEvent]) -> None:
        if not events:
            return
        table = self._backend.tables[OUTBOX]
        self.conn.execute(
            table.insert(),
            [
                {
                    "id": e.id,
                    "name": e.name,
                    "version": e.version,
                    "occurred_at": e.occurred_at,
                    "actor": e.actor,
                    "subject_id": e.subject_id,
                    "payload": e.payload,
                }
                for e in events
            ],
        )

    def read_events(
        self,
        *,
        after: str | None = None,
        limit: int = 1000,
        names: Sequence[str] = (),
        ids: Sequence[str] = (),
        subject_id: str | None = None,
    ) -> list[StoredEvent]:
        table = self._backend.tables[OUTBOX]
        stmt = select(table).order_by(table.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(table.c.id > after)
        if names:
            stmt = stmt.where(table.c.name.in_(list(names)))
        if ids:
            stmt = stmt.where(table.c.id.in_(list(ids)))
        if subject_id is not None:
            stmt = stmt.where(table.c.subject_id == subject_id)
        return [StoredEvent(**dict(r)) for r in self.conn.execute(stmt).mappings()]

    def replace_event_payload(self, event_id: str, payload: dict[str, Any]) -> bool:
        table = self._backend.tables[OUTBOX]
        result = self.conn.execute(
            table.update().where(table.c.id == event_id).values(payload=payload)
        )
        return bool(result.rowcount)

    def record_failure(self, failure: DeliveryFailure) -> None:
        table = self._backend.tables[FAILURES]
        values = {
            "id": failure.id,
            "event_id": failure.event_id,
            "subscriber": failure.subscriber,
            "error": failure.error,
            "attempts": failure.attempts,
            "failed_at": failure.failed_at,
            "resolved_at": failure.resolved_at,
        }
        self.conn.execute(table.insert(), values)

    def failures(self, *, unresolved_only: bool = True) -> list[DeliveryFailure]:
        table = self._backend.tables[FAILURES]
        stmt = select(table).order_by(table.c.failed_at, table.c.id)
        if unresolved_only:
            stmt = stmt.where(table.c.resolved_at.is_(None))
        return [DeliveryFailure(**dict(r)) for r in self.conn.execute(stmt).mappings()]

    def resolve_failure(self, failure_id: str, *, attempts: int, error: str | None) -> None:
        table = self._backend.tables[FAILURES]
        values: dict[str, Any] = {"attempts": attempts}
        if error is None:
            values["resolved_at"] = utcnow()
        else:
            values["error"] = error
        self.conn.execute(table.update().where(table.c.id == failure_id).values(**values))


_UNSET = object()
_IMMUTABLE = frozenset({dt.datetime, dt.date, str, int, float, bool, type(None)})
_LIST_MEMO = 4096


def _reusing(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert`` (a pure bind processor) that reuses results where that is exact.

    Bulk rows share timestamp objects (a batch is stamped once), mostly hold
    empty lists and mappings, and repeat a few tag lists: a value that *is*
    the previous one (datetimes, dates and strings are immutable), an empty
    list or dict, or a list of strings seen before gets the result already
    computed for an equal value.
    """
    last: list[Any] = [_UNSET, None]
    empty: dict[type, Any] = {}
    lists: dict[tuple[str, ...], Any] = {}

    def reuse(value: Any) -> Any:
        if value is last[0]:
            return last[1]
        kind = type(value)
        if kind is list or kind is dict:
            if not value:
                if kind not in empty:
                    empty[kind] = convert(value)
                return empty[kind]
            if kind is list and all(type(item) is str for item in value):
                key = tuple(value)
                result = lists.get(key, _UNSET)
                if result is _UNSET:
                    result = convert(value)
                    if len(lists) < _LIST_MEMO:
                        lists[key] = result
                return result
        result = convert(value)
        if kind in _IMMUTABLE:
            last[0], last[1] = value, result
        return result

    return reuse


def _then_sqlite_adapter(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, then the adapter sqlite3 itself would apply to the result.

    Timestamps reach sqlite3 as datetimes, which it turns into text on every
    row; adapting them here lets :func:`_reusing` do that once per batch. The
    result is what sqlite3 would have sent, since it is sqlite3's own adapter.
    """
    import sqlite3

    def adapted(value: Any) -> Any:
        result = convert(value)
        adapt = sqlite3.adapters.get((type(result), sqlite3.PrepareProtocol))
        return adapt(result) if adapt is not None else result

    return adapted


def _holds_dates(column_type: Any) -> bool:
    try:
        return column_type.python_type in (dt.date, dt.datetime)
    except NotImplementedError:
        return False


def _as_copy_text(value: Any) -> Any:
    """Dates and timestamps as the text psycopg's own dumpers send (``str(value)``).

    The same text reaches the server, but made here it can be reused for the
    timestamps a whole batch shares, instead of being made again for every row.
    """
    return str(value) if isinstance(value, dt.date) else value


class _BulkRows:
    """Turns row dicts into positional parameters for one table, prepared once per table.

    Each value goes through its column's converter (SQLAlchemy's bind
    processor, or JSON text for ``COPY``), exactly as a plain insert would.
    """

    def __init__(self, columns: Sequence[str], converters: Sequence[Callable[[Any], Any] | None]):
        self.columns = list(columns)
        self._get = itemgetter(*self.columns)
        self._convert = [(i, _reusing(c)) for i, c in enumerate(converters) if c is not None]

    def __call__(self, row: Row) -> tuple[Any, ...]:
        try:
            values = list(self._get(row)) if len(self.columns) > 1 else [self._get(row)]
        except KeyError:
            values = [row.get(name) for name in self.columns]
        for index, convert in self._convert:
            values[index] = convert(values[index])
        return tuple(values)


def _bulk_rows(conn: Connection, st: _TableStatements) -> _BulkRows:
    key = conn.dialect.name
    bulk = st.bulk.get(key)
    if bulk is None:
        converters: list[Callable[[Any], Any] | None] = []
        for name in st.columns:
            column_type = st.table.c[name].type
            convert: Callable[[Any], Any] | None
            if key == "postgresql":
                if name in st.json_columns:
                    convert = json.dumps
                else:
                    convert = _as_copy_text if _holds_dates(column_type) else None
            else:
                convert = column_type.bind_processor(conn.dialect)
                if key == "sqlite" and convert is not None:
                    convert = _then_sqlite_adapter(convert)
            converters.append(convert)
        bulk = st.bulk[key] = _BulkRows(st.columns, converters)
    return bulk


def _executemany_rows(conn: Connection, st: _TableStatements, rows: Sequence[Row]) -> int:
    """Insert through the driver's executemany with values converted by the column types."""
    if not conn.dialect.positional:
        conn.execute(st.insert, list(rows))
        return len(rows)
    to_params = _bulk_rows(conn, st)
    sql = st.bulk_sql.get(conn.dialect.name)
    if sql is None:
        sql = st.bulk_sql[conn.dialect.name] = str(st.insert.compile(dialect=conn.dialect))
    conn.exec_driver_sql(sql, [to_params(row) for row in rows])
    return len(rows)


def _copy_rows(conn: Connection, st: _TableStatements, rows: Sequence[Row]) -> int:
    """Insert with PostgreSQL ``COPY ... FROM STDIN``, the fastest path psycopg offers."""
    to_values = _bulk_rows(conn, st)
    cols = ", ".join(f'"{name}"' for name in st.columns)
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {st.table.name} ({cols}) FROM STDIN") as cp:
        write = cp.write_row
        for row in rows:
            write(to_values(row))
    return len(rows)


class BulkAdder:
    """What :meth:`SqlTransaction.bulk_adder` gives: ``add_many(rows)`` per batch."""

    def add_many(self, rows: Sequence[Row]) -> int:
        raise NotImplementedError

    def __enter__(self) -> BulkAdder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class _BatchAdder(BulkAdder):
    """One ``add_many`` per batch (SQLite's executemany has nothing to stream)."""

    def __init__(self, tx: SqlTransaction, etype: EntityType) -> None:
        self._tx = tx
        self._etype = etype

    def add_many(self, rows: Sequence[Row]) -> int:
        return self._tx.add_many(self._etype, rows)


class _CopyStream(BulkAdder):
    """One PostgreSQL ``COPY ... FROM STDIN`` that batches of rows are written to.

    libpq sends the data as it fills its buffer, so the server parses and
    indexes rows while the next batch is prepared; the ``COPY`` ends (and any
    duplicate key is reported) when the block does. An exception in the block
    aborts the ``COPY``.
    """

    def __init__(self, conn: Connection, st: _TableStatements, etype: EntityType) -> None:
        self._conn = conn
        self._st = st
        self._etype = etype
        self._to_values = _bulk_rows(conn, st)
        self._cursor: Any = None
        self._block: Any = None
        self._copy: Any = None

    def __enter__(self) -> _CopyStream:
        driver = self._conn.connection.driver_connection
        assert driver is not None
        cols = ", ".join(f'"{name}"' for name in self._st.columns)
        self._cursor = driver.cursor()
        try:
            self._block = self._cursor.copy(f"COPY {self._st.table.name} ({cols}) FROM STDIN")
            self._copy = self._block.__enter__()
        except BaseException:
            self._cursor.close()
            raise
        return self

    def add_many(self, rows: Sequence[Row]) -> int:
        write, to_values = self._copy.write_row, self._to_values
        for row in rows:
            write(to_values(row))
        return len(rows)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        block, cursor = self._block, self._cursor
        self._block = self._copy = self._cursor = None
        try:
            block.__exit__(exc_type, exc, tb)
        except self._conn.dialect.loaded_dbapi.IntegrityError as failure:
            dup = _duplicate_from(failure, self._etype)
            if dup is None:
                raise
            raise dup from None
        finally:
            cursor.close()


class SqlBackend:
    """Storage on a SQL database through SQLAlchemy 2 Core."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self.tables: dict[str, Table] = {}
        self._statements: dict[str, _TableStatements] = {}
        self._types: dict[str, EntityType] = {}
        self._readers: SqliteReadConnections | None = None
        self._shared_reader: Any = None

    def prepare(self, entity_types: Sequence[EntityType], migrations: Sequence[Any]) -> None:
        from crmkit.migrations.runner import upgrade

        metadata = build_metadata(entity_types)
        self.tables = dict(metadata.tables)
        self._types = {e.name: e for e in entity_types}
        self._statements = {}
        if migrations:
            with self.connect() as conn:
                upgrade(conn, migrations)
                conn.commit()

    def statements(self, etype: EntityType) -> _TableStatements:
        st = self._statements.get(etype.name)
        if st is None:
            st = _TableStatements(self.tables[etype.table_name], etype)
            self._statements[etype.name] = st
        return st

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection, turning 'cannot connect' into one clear error."""
        try:
            conn = self.engine.connect()
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseError(f"cannot reach database {safe_url(self.url)}: {reason}") from None
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def begin(self) -> Iterator[SqlTransaction]:
        with self.connect() as conn, conn.begin():
            yield SqlTransaction(self, conn)

    # -- the read path ------------------------------------------------------
    def reads(self, etype: EntityType) -> TableReads:
        """The compiled read statements of ``etype``'s table."""
        st = self.statements(etype)
        if st.reads is None:
            st.reads = TableReads(st.table, self.engine.dialect)
        return st.reads

    def read(self) -> AbstractContextManager[SqlReader]:
        """Read committed data without opening a unit of work.

        On a SQLite file the read takes an idle read-only connection and holds one
        snapshot for the whole block. On PostgreSQL it checks a connection out of the
        pool (each statement sees what was committed when it started, as in
        :meth:`begin`). An in-memory SQLite database has a single connection, which
        reads share with writes, so there a read also sees a unit of work still open.
        """
        if self._readers is not None:
            return self._readers.reading(self.reads)
        if self.engine.dialect.name == "sqlite" and not isinstance(self.engine.pool, StaticPool):
            self._readers = SqliteReadConnections(self._open_sqlite_reader)
            return self._readers.reading(self.reads)
        return self._pooled_read()

    @contextmanager
    def _pooled_read(self) -> Iterator[SqlReader]:
        if isinstance(self.engine.pool, StaticPool):
            if self._shared_reader is None:
                self._shared_reader = self._checkout()
            yield SqlReader(self.reads, self._shared_reader.driver_connection)
            return
        pooled = self._checkout()
        try:
            yield SqlReader(self.reads, pooled.driver_connection)
        finally:
            pooled.close()  # back to the pool, which rolls the read transaction back

    def _checkout(self) -> Any:
        try:
            return self.engine.raw_connection()
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseError(f"cannot reach database {safe_url(self.url)}: {reason}") from None

    def _open_sqlite_reader(self) -> Any:
        """A read-only driver connection to the SQLite file, tuned like the engine's."""
        dialect = self.engine.dialect
        args, kwargs = dialect.create_connect_args(self.engine.url)
        kwargs["check_same_thread"] = False
        try:
            conn = dialect.connect(*args, **kwargs)
        except dialect.loaded_dbapi.Error as exc:
            raise DatabaseError(f"cannot reach database {safe_url(self.url)}: {exc}") from None
        sqlite_pragmas(conn)
        conn.isolation_level = None  # transactions are begun explicitly, per read
        conn.execute("PRAGMA query_only=ON")
        return conn

    def close(self) -> None:
        if self._readers is not None:
            self._readers.close()
            self._readers = None
        if self._shared_reader is not None:
            self._shared_reader.close()
            self._shared_reader = None
        self.engine.dispose()
