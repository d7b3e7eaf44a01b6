"""Turn backend-neutral filters into SQLAlchemy expressions (always bound parameters).

Lists and dicts are JSON columns (JSON on SQLite, JSONB on PostgreSQL). What differs
between the two databases, asking a JSON value's kind and looking for a list element,
is written once as a SQL function of its own (:class:`json_key_kind`,
:class:`json_list_has`) that SQLAlchemy compiles for each dialect, so one expression
serves every statement whatever database runs it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    FromClause,
    MetaData,
    Numeric,
    Table,
    Text,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal_column,
    not_,
    or_,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import BindParameter, FunctionElement
from sqlalchemy.sql.expression import ColumnElement as _Col
from sqlalchemy.types import TypeEngine

from crmkit.errors import ValidationError
from crmkit.storage.query import (
    AllOf,
    AnyOf,
    Cond,
    Filter,
    Not,
    Related,
    order_fields,
    split_key,
    value_kind,
)

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}

KIND_TYPES: dict[str, Callable[[], TypeEngine[Any]]] = {
    "string": Text,
    "number": lambda: Numeric(38, 12),
    "boolean": Boolean,
}
"""The SQL type a value of each JSON kind is bound and compared as."""

# SQLite's json_type() names, mapped to the kinds PostgreSQL's jsonb_typeof() gives.
_SQLITE_KINDS = (
    "CASE {t} WHEN 'text' THEN 'string' WHEN 'integer' THEN 'number' WHEN 'real' "
    "THEN 'number' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' ELSE {t} END"
)


class json_key_kind(FunctionElement[str]):
    """``json_key_kind(column, key)``: the JSON kind of one key's value in a JSON object.

    ``'string'``, ``'number'``, ``'boolean'``, ``'null'``, ``'array'`` or ``'object'``;
    SQL NULL when the key is missing or the column is not an object.
    """

    type = Text()
    inherit_cache = True


class json_list_has(FunctionElement[bool]):
    """``json_list_has(column, kind, value)``: the JSON list holds ``value`` of ``kind``."""

    type = Boolean()
    inherit_cache = True


def _args(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


@compiles(json_key_kind, "sqlite")
def _key_kind_sqlite(element: json_key_kind, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = _args(element, compiler, **kw)
    return "(" + _SQLITE_KINDS.format(t=f"json_type({column}, '$.\"' || {key} || '\"')") + ")"


@compiles(json_key_kind, "postgresql")
def _key_kind_postgresql(element: json_key_kind, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = _args(element, compiler, **kw)
    return f"jsonb_typeof({column} -> CAST({key} AS TEXT))"


@compiles(json_list_has, "sqlite")
def _list_has_sqlite(element: json_list_has, compiler: SQLCompiler, **kw: Any) -> str:
    column, kind, value = _args(element, compiler, **kw)
    each = _SQLITE_KINDS.format(t="crmkit_item.type")
    return (
        f"(json_type({column}) = 'array' AND EXISTS (SELECT 1 FROM json_each({column}) "
        f"AS crmkit_item WHERE {each} = {kind} AND crmkit_item.value = {value}))"
    )


@compiles(json_list_has, "postgresql")
def _list_has_postgresql(element: json_list_has, compiler: SQLCompiler, **kw: Any) -> str:
    column, _kind, value = _args(element, compiler, **kw)
    return f"({column} @> jsonb_build_array({value}))"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def kind_of(value: Any) -> str | None:
    """The JSON kind of a filter value, or of the bound parameter standing for one."""
    if isinstance(value, BindParameter):
        if isinstance(value.type, Boolean):
            return "boolean"
        return "number" if isinstance(value.type, Numeric) else "string"
    return value_kind(value)


def _compare(col: _Col[Any], op: str, value: Any) -> ColumnElement[bool]:
    """``col op value`` for every operator but ``has``, NULL meaning no value."""
    if op == "eq":
        return col.is_(None) if value is None else col == value
    if op == "ne":
        # Like the in-memory backend: a record with no value differs from any value.
        return col.is_not(None) if value is None else col.is_distinct_from(value)
    if op in _COMPARISONS:
        return cast("ColumnElement[bool]", _COMPARISONS[op](col, value))
    if op == "in":
        return col.in_(list(value))
    if op == "contains":
        return col.ilike(f"%{_escape_like(str(value))}%", escape="\\")
    if op == "startswith":
        return col.ilike(f"{_escape_like(str(value))}%", escape="\\")
    if op == "isnull":
        return col.is_(None) if value else col.is_not(None)
    raise ValueError(f"unknown operator {op!r}")


def _key_value(col: _Col[Any], key: str, kind: str) -> _Col[Any]:
    """The key's value as SQL of ``kind``, NULL when the key holds another kind."""
    path = col[key]
    extracted: _Col[Any]
    if kind == "string":
        extracted = path.as_string()
    elif kind == "number":
        extracted = path.as_numeric(38, 12)
    else:
        extracted = path.as_boolean()
    return case((json_key_kind(col, bindparam(None, key, type_=Text())) == kind, extracted))


def _key_cond(table: FromClause, name: str, key: str, cond: Cond) -> ColumnElement[bool]:
    col: _Col[Any] = table.c[name]
    op, value = cond.op, cond.value
    if op == "isnull" or value is None:
        missing = op == "eq" or (op == "isnull" and bool(value))
        kind = func.coalesce(json_key_kind(col, bindparam(None, key, type_=Text())), "null")
        return kind == "null" if missing else kind != "null"
    if op in ("contains", "startswith"):
        return _compare(_key_value(col, key, "string"), op, value)
    if op == "in":
        items = list(value)
        if not items:
            return false()
        return or_(*[_key_value(col, key, str(kind_of(v))) == v for v in items])
    return _compare(_key_value(col, key, str(kind_of(value))), op, value)


def _has(table: FromClause, cond: Cond) -> ColumnElement[bool]:
    kind = str(kind_of(cond.value))
    value = sql_cast(cond.value, KIND_TYPES[kind]())
    return json_list_has(table.c[cond.field], literal_column(f"'{kind}'"), value)


def related_table(metadata: MetaData, entity: str) -> Table:
    """The table of entity type ``entity`` in ``metadata``.

    The backend builds every entity type's table in one metadata, named as
    :attr:`crmkit.entities.types.EntityType.table_name` names it.
    """
    found = metadata.tables.get(entity.replace(".", "_"))
    if found is None:
        raise ValidationError(
            entity, None, "no such entity type to look for related records in"
        )
    return found


def _related(table: FromClause, metadata: MetaData, flt: Related) -> ColumnElement[bool]:
    # An alias, so a filter may relate records of one type to others of the same type.
    other = related_table(metadata, flt.entity).alias()
    if flt.link not in other.c:
        raise ValidationError(flt.entity, flt.link, "no such field to link records by")
    clauses = [other.c[flt.link] == table.c.id]
    if flt.where is not None:
        clauses.append(_where(other, metadata, flt.where))
    return exists().where(*clauses)


def to_sql(table: Table, flt: Filter) -> ColumnElement[bool]:
    """The WHERE clause for ``flt`` on ``table``.

    :class:`Related` filters become correlated ``EXISTS`` subqueries on the other
    entity type's table, found in the metadata ``table`` belongs to.
    """
    return _where(table, table.metadata, flt)


def _where(table: FromClause, metadata: MetaData, flt: Filter) -> ColumnElement[bool]:
    if isinstance(flt, Cond):
        name, key = split_key(flt.field)
        if key is not None:
            return _key_cond(table, name, key, flt)
        if flt.op == "has":
            return _has(table, flt)
        return _compare(table.c[flt.field], flt.op, flt.value)
    if isinstance(flt, Not):
        # NULL (unknown) counts as not matched, so its negation matches.
        return not_(func.coalesce(_where(table, metadata, flt.filter), false()))
    if isinstance(flt, Related):
        return _related(table, metadata, flt)
    parts = [_where(table, metadata, f) for f in flt.filters]
    if isinstance(flt, AnyOf):
        return or_(*parts)
    assert isinstance(flt, AllOf)
    return and_(*parts)


def order_clauses(table: Table, order_by: tuple[str, ...]) -> list[Any]:
    """ORDER BY clauses; ``id`` is appended so paging is stable."""
    clauses: list[Any] = []
    names = []
    for name, desc in order_fields(order_by):
        col = table.c[name]
        # NULLs sort as the smallest value on every backend.
        clauses.append(col.desc().nulls_last() if desc else col.asc().nulls_first())
        names.append(name)
    if "id" not in names:
        clauses.append(table.c.id.asc())
    return clauses
