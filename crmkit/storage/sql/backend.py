"""The SQLAlchemy storage backend: SQLite (embedded default) and PostgreSQL.

Statements that run per record are built once per table and reused, so
SQLAlchemy's compiled cache is hit; bulk adds go through the driver's
``executemany`` on SQLite and ``COPY`` on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, bindparam, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from crmkit.entities.base import utcnow
from crmkit.entities.types import EntityType
from crmkit.errors import DatabaseError, DuplicateError
from crmkit.storage.base import DeliveryFailure, Row, StoredEvent
from crmkit.storage.query import Filter, Query
from crmkit.storage.sql.engine import make_engine, safe_url
from crmkit.storage.sql.filters import order_clauses, to_sql
from crmkit.storage.sql.tables import FAILURES, OUTBOX, build_metadata

IN_CHUNK = 900


class _TableStatements:
    """Statements for one table, built once so each call only binds values."""

    def __init__(self, table: Table, etype: EntityType) -> None:
        self.table = table
        self.columns = [c.name for c in table.columns]
        self.json_columns = frozenset(f.name for f in etype.fields if f.kind in ("list", "dict"))
        self.get = select(table).where(table.c.id == bindparam("id"))
        self.insert = table.insert()
        self.delete = table.delete().where(table.c.id == bindparam("id"))
        self._get_by: dict[str, Select[Any]] = {}

    def get_by(self, field: str) -> Select[Any]:
        stmt = self._get_by.get(field)
        if stmt is None:
            stmt = select(self.table).where(self.table.c[field] == bindparam("v")).limit(1)
            self._get_by[field] = stmt
        return stmt


def _duplicate_from(exc: IntegrityError, etype: EntityType) -> DuplicateError | None:
    text = str(exc.orig)
    for f in etype.fields:
        if f.spec.unique and (f"{etype.table_name}.{f.name}" in text or f"_{f.name}" in text):
            return DuplicateError(etype.name, f.name, "this value is already used by another record")
    return None


class SqlTransaction:
    """One database transaction on a SQLAlchemy connection."""

    def __init__(self, backend: SqlBackend, conn: Connection) -> None:
        self._backend = backend
        self.conn = conn

    def _st(self, etype: EntityType) -> _TableStatements:
        return self._backend.statements(etype)

    def get(self, etype: EntityType, record_id: str) -> Row | None:
        row = self.conn.execute(self._st(etype).get, {"id": record_id}).mappings().first()
        return dict(row) if row is not None else None

    def get_by(self, etype: EntityType, field: str, value: Any) -> Row | None:
        stmt = self._st(etype).get_by(field)
        row = self.conn.execute(stmt, {"v": value}).mappings().first()
        return dict(row) if row is not None else None

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
        if self.conn.dialect.name == "postgresql":
            return _copy_rows(self.conn, st, rows)
        return _executemany_rows(self.conn, st, rows)

    def update(self, etype: EntityType, record_id: str, changes: Row) -> bool:
        table = self._st(etype).table
        try:
            result = self.conn.execute(
                table.update().where(table.c.id == record_id).values(**changes)
            )
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

    def query(self, etype: EntityType, query: Query) -> list[Row]:
        table = self._st(etype).table
        stmt = select(table)
        if query.where is not None:
            stmt = stmt.where(to_sql(table, query.where))
        stmt = stmt.order_by(*order_clauses(table, query.order_by))
        if query.limit is not None:
            stmt = stmt.limit(query.limit)
        if query.offset:
            stmt = stmt.offset(query.offset)
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def count(self, etype: EntityType, where: Filter | None = None) -> int:
        table = self._st(etype).table
        stmt = select(func.count()).select_from(table)
        if where is not None:
            stmt = stmt.where(to_sql(table, where))
        return int(self.conn.execute(stmt).scalar_one())

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
    ) -> list[StoredEvent]:
        table = self._backend.tables[OUTBOX]
        stmt = select(table).order_by(table.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(table.c.id > after)
        if names:
            stmt = stmt.where(table.c.name.in_(list(names)))
        if ids:
            stmt = stmt.where(table.c.id.in_(list(ids)))
        return [StoredEvent(**dict(r)) for r in self.conn.execute(stmt).mappings()]

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


def _executemany_rows(conn: Connection, st: _TableStatements, rows: Sequence[Row]) -> int:
    """Insert through the driver's executemany with values converted by the column types."""
    dialect = conn.dialect
    procs = [st.table.c[name].type.bind_processor(dialect) for name in st.columns]
    pairs = list(zip(st.columns, procs, strict=True))
    params = [
        tuple(proc(row.get(name)) if proc else row.get(name) for name, proc in pairs)
        for row in rows
    ]
    sql = str(st.insert.compile(dialect=dialect))
    conn.exec_driver_sql(sql, params)
    return len(params)


def _copy_rows(conn: Connection, st: _TableStatements, rows: Sequence[Row]) -> int:
    """Insert with PostgreSQL ``COPY ... FROM STDIN``, the fastest path psycopg offers."""
    json_cols = st.json_columns
    cols = ", ".join(f'"{name}"' for name in st.columns)
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {st.table.name} ({cols}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(
                [
                    json.dumps(row.get(name)) if name in json_cols else row.get(name)
                    for name in st.columns
                ]
            )
    return len(rows)


class SqlBackend:
    """Storage on a SQL database through SQLAlchemy 2 Core."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self.tables: dict[str, Table] = {}
        self._statements: dict[str, _TableStatements] = {}
        self._types: dict[str, EntityType] = {}

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

    def close(self) -> None:
        self.engine.dispose()
