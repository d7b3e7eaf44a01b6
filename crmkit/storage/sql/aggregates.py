"""The SQL of grouped aggregates: one ``SELECT ... GROUP BY`` per aggregate.

Each group key and measure becomes one labelled output column, with how its
value is read back (the column type's result processor, then a conversion to
the Python type the storage port promises). Both databases give the same values:

- a date part is text made by ``strftime`` on SQLite and ``to_char`` on
  PostgreSQL (of the UTC time for timestamps), chosen when the statement is
  compiled for a dialect by :class:`DatePartText`;
- sums of integers are exact on both; a sum of decimals is exact on SQLite too,
  which keeps decimals as floating point: each value is summed as a whole number
  of the column's smallest unit (``10 ** -scale``), then scaled back. That is
  exact while values stay below 2**53 units (about 9 billion at scale 6; SQLite's
  floating point keeps no more digits of larger ones). SQLite integers stop at
  2**63 - 1 units (about 9.2 trillion): a larger value or total makes SQLite
  report an integer overflow rather than give a wrong sum.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from sqlalchemy import (
    ColumnElement,
    Integer,
    Numeric,
    Select,
    String,
    Table,
    Text,
    case,
    cast,
    distinct,
    func,
    literal_column,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

from crmkit.storage.query import Aggregate, GroupKey, Measure
from crmkit.storage.sql.types import UTCDateTime

Finish = Callable[[Any], Any]

SQLITE_MAX_INTEGER = 2**63 - 1
SQLITE_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
POSTGRESQL_FORMATS = {"day": "YYYY-MM-DD", "month": "YYYY-MM", "year": "YYYY"}


class DatePartText(FunctionElement[str]):
    """The day, month or year of a date or timestamp column as text (timestamps in UTC).

    Subclasses fix the part, so a statement's cache key tells them apart.
    """

    type = Text()
    inherit_cache = True
    part = "day"


class DayText(DatePartText):
    """``"2026-03-14"``."""

    inherit_cache = True
    part = "day"


class MonthText(DatePartText):
    """``"2026-03"``."""

    inherit_cache = True
    part = "month"


class YearText(DatePartText):
    """``"2026"``."""

    inherit_cache = True
    part = "year"


PART_TEXT: dict[str, type[DatePartText]] = {"day": DayText, "month": MonthText, "year": YearText}


def _column_of(element: DatePartText) -> ColumnElement[Any]:
    (column,) = element.clauses
    return column


@compiles(DatePartText, "sqlite")
def _sqlite_part(element: DatePartText, compiler: SQLCompiler, **kw: Any) -> str:
    # Timestamps are stored as naive UTC text, which strftime reads as it is.
    fmt = compiler.render_literal_value(SQLITE_FORMATS[element.part], String())
    return f"strftime({fmt}, {compiler.process(_column_of(element), **kw)})"


@compiles(DatePartText, "postgresql")
def _postgresql_part(element: DatePartText, compiler: SQLCompiler, **kw: Any) -> str:
    column = _column_of(element)
    value = compiler.process(column, **kw)
    if isinstance(column.type, UTCDateTime):
        value = f"timezone('UTC', {value})"  # the session's time zone must not matter
    fmt = compiler.render_literal_value(POSTGRESQL_FORMATS[element.part], String())
    return f"to_char({value}, {fmt})"


@compiles(DatePartText)
def _unsupported_part(element: DatePartText, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError(
        f"grouping by {element.part} is not written for the {compiler.dialect.name} database"
    )


@attrs.frozen
class Output:
    """One output column of an aggregate statement and how its value is read back.

    ``read_as`` is the column type whose result processor turns the driver's
    value into Python (``None``: the driver's value is used); ``finish`` then
    makes it the promised type. Neither sees a NULL.
    """

    key: str
    expr: ColumnElement[Any]
    read_as: TypeEngine[Any] | None = None
    finish: Finish | None = None


def _to_decimal(value: Any) -> decimal.Decimal:
    return value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))


def _group_output(table: Table, group: GroupKey) -> Output:
    column = table.c[group.field]
    if group.part is None:
        return Output(group.key, column, read_as=column.type)
    return Output(group.key, PART_TEXT[group.part](column))


def _sum_output(table: Table, measure: Measure, kind: str, dialect_name: str) -> Output:
    column = table.c[measure.field or ""]
    if kind == "int":
        return Output(measure.name, func.sum(column), finish=int)
    if kind == "float":
        return Output(measure.name, func.sum(column), finish=float)
    scale = column.type.scale if isinstance(column.type, Numeric) else None
    if dialect_name != "sqlite" or scale is None:
        return Output(measure.name, func.sum(column), finish=_to_decimal)
    units: ColumnElement[Any] = literal_column(str(10**scale))
    # CAST would clamp a value past the integer range silently; abs() of the
    # smallest integer makes SQLite fail with "integer overflow" instead. A NULL
    # takes the ELSE branch and stays NULL, so sum() leaves it out.
    limit: ColumnElement[Any] = literal_column(str(SQLITE_MAX_INTEGER // 10**scale))
    overflow = func.abs(literal_column(f"{-SQLITE_MAX_INTEGER} - 1"))
    in_units = cast(func.round(column * units), Integer)
    whole = func.sum(case((func.abs(column) > limit, overflow), else_=in_units))

    def from_units(total: Any) -> decimal.Decimal:
        return decimal.Decimal(int(total)).scaleb(-scale)

    return Output(measure.name, whole, finish=from_units)


def _measure_output(table: Table, measure: Measure, kind: str, dialect_name: str) -> Output:
    if measure.field is None:
        return Output(measure.name, func.count(), finish=int)
    column = table.c[measure.field]
    if measure.fn == "count":
        return Output(measure.name, func.count(column), finish=int)
    if measure.fn == "count_distinct":
        return Output(measure.name, func.count(distinct(column)), finish=int)
    if measure.fn == "avg":
        return Output(measure.name, func.avg(column), finish=float)
    if measure.fn == "sum":
        return _sum_output(table, measure, kind, dialect_name)
    fn = func.min if measure.fn == "min" else func.max
    finish: Finish | None = _to_decimal if kind == "decimal" else None
    return Output(measure.name, fn(column), read_as=column.type, finish=finish)


def aggregate_select(
    table: Table,
    aggregate: Aggregate,
    kinds: Mapping[str, str],
    where: ColumnElement[bool] | None,
    dialect_name: str,
) -> tuple[Select[Any], tuple[Output, ...]]:
    """The ``SELECT ... GROUP BY`` for ``aggregate`` and its outputs, keys first.

    ``kinds`` gives each field's storage kind; ``where`` is the compiled filter.
    Output columns are labelled ``k0, k1, ...`` and ``m0, m1, ...``, so result
    keys never clash with column names in the SQL.
    """
    groups = [_group_output(table, g) for g in aggregate.group_by]
    measures = [
        _measure_output(table, m, kinds.get(m.field or "", ""), dialect_name)
        for m in aggregate.measures
    ]
    labelled = [o.expr.label(f"k{i}") for i, o in enumerate(groups)]
    labelled += [o.expr.label(f"m{i}") for i, o in enumerate(measures)]
    stmt = select(*labelled).select_from(table)
    if where is not None:
        stmt = stmt.where(where)
    if groups:
        stmt = stmt.group_by(*(o.expr for o in groups))
    return stmt, (*groups, *measures)
