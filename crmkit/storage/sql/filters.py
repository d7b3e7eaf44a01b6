"""Turn backend-neutral filters into SQLAlchemy expressions (always bound parameters)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, or_
from sqlalchemy.sql.expression import ColumnElement as _Col

from crmkit.storage.query import AllOf, AnyOf, Cond, Filter, order_fields

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _cond(table: Table, cond: Cond) -> ColumnElement[bool]:
    col: _Col[Any] = table.c[cond.field]
    op, value = cond.op, cond.value
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


def to_sql(table: Table, flt: Filter) -> ColumnElement[bool]:
    """The WHERE clause for ``flt`` on ``table``."""
    if isinstance(flt, Cond):
        return _cond(table, flt)
    parts = [to_sql(table, f) for f in flt.filters]
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
