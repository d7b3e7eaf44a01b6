"""Grouped aggregates as every backend computes them.

:func:`check_aggregate` refuses an :class:`~crmkit.storage.query.Aggregate` an
entity type cannot answer, with an error naming the type and the field, before
anything runs. :func:`aggregate_rows` computes one over rows in Python (the
in-memory backend uses it, and so may a third-party backend without a query
engine); :func:`sort_groups` puts result rows in the order every backend gives.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Sequence
from typing import Any

from crmkit.entities.types import EntityType
from crmkit.errors import ValidationError
from crmkit.storage.base import Row
from crmkit.storage.query import Aggregate, GroupKey, Measure, fields_in

NUMERIC_KINDS = frozenset({"int", "float", "decimal"})
DATE_KINDS = frozenset({"date", "datetime"})
# JSON values have no order, and no equality SQL databases agree on.
JSON_KINDS = frozenset({"list", "dict"})
# How long the text of each date part is: "2026-03-14", "2026-03", "2026".
PART_LENGTH = {"day": 10, "month": 7, "year": 4}


def _kind(etype: EntityType, field: str, use: str) -> str:
    try:
        return etype.field(field).kind
    except KeyError:
        raise ValidationError(etype.name, field, f"no such field to {use}") from None


def _check_group(etype: EntityType, group: GroupKey) -> None:
    kind = _kind(etype, group.field, "group by")
    if kind in JSON_KINDS:
        raise ValidationError(
            etype.name, group.field, f"a {kind} field cannot be grouped by; pick another field"
        )
    if group.part is not None and kind not in DATE_KINDS:
        raise ValidationError(
            etype.name,
            group.field,
            f"only a date or datetime field can be grouped by {group.part}, "
            f"and this one is {kind}; drop part={group.part!r}",
        )


def _check_measure(etype: EntityType, measure: Measure) -> None:
    if measure.field is None:
        return
    kind = _kind(etype, measure.field, f"measure in {measure.name!r}")
    if measure.fn in ("sum", "avg") and kind not in NUMERIC_KINDS:
        raise ValidationError(
            etype.name,
            measure.field,
            f"{measure.fn} needs a number field (int, float or decimal), and this one is "
            f"{kind}; use count, count_distinct, min or max",
        )
    if measure.fn in ("min", "max") and kind in {*JSON_KINDS, "bool"}:
        raise ValidationError(
            etype.name, measure.field, f"{measure.fn} cannot compare {kind} values; use count"
        )
    if measure.fn == "count_distinct" and kind in JSON_KINDS:
        raise ValidationError(
            etype.name, measure.field, f"count_distinct cannot compare {kind} values; use count"
        )


def check_aggregate(etype: EntityType, aggregate: Aggregate) -> None:
    """Raise :class:`ValidationError` if ``etype`` cannot answer ``aggregate``.

    Unknown fields, a date part on a field that holds no dates, a sum or average
    of a field that holds no numbers, and comparisons of list or dict values are
    refused, each naming the entity type and the field.
    """
    for name in sorted(fields_in(aggregate.where) - set(etype.field_names)):
        raise ValidationError(etype.name, name, "no such field to filter by")
    for group in aggregate.group_by:
        _check_group(etype, group)
    for measure in aggregate.measures:
        _check_measure(etype, measure)


def group_value(value: Any, part: str | None) -> Any:
    """The group a stored value falls in: itself (times in UTC) or its date part as text."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC)
    if part is None:
        return value
    day = f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return day[: PART_LENGTH[part]]


def _measure(measure: Measure, kind: str | None, rows: Sequence[Row]) -> Any:
    if measure.field is None:
        return len(rows)
    values = [v for v in (row.get(measure.field) for row in rows) if v is not None]
    if measure.fn == "count":
        return len(values)
    if measure.fn == "count_distinct":
        return len(set(values))
    if not values:
        return None
    if measure.fn == "min":
        return group_value(min(values), None)
    if measure.fn == "max":
        return group_value(max(values), None)
    if kind == "decimal":
        total: Any = sum(values, decimal.Decimal(0))
    else:
        total = sum(values)
    if measure.fn == "avg":
        return float(total / len(values))
    return {"int": int, "float": float}.get(kind or "", lambda v: v)(total)


def aggregate_rows(etype: EntityType, aggregate: Aggregate, rows: Iterable[Row]) -> list[Row]:
    """Compute ``aggregate`` over ``rows`` (already filtered by its ``where``).

    Gives what the SQL backend gives: one row per group, sorted by
    :func:`sort_groups`; without ``group_by`` exactly one row, even over no rows.
    """
    check_aggregate(etype, aggregate)
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        key = tuple(group_value(row.get(g.field), g.part) for g in aggregate.group_by)
        groups.setdefault(key, []).append(row)
    if not aggregate.group_by and not groups:
        groups[()] = []
    kinds = {f.name: f.kind for f in etype.fields}
    names = [g.key for g in aggregate.group_by]
    out: list[Row] = []
    for key, members in groups.items():
        result: Row = dict(zip(names, key, strict=True))
        for measure in aggregate.measures:
            kind = kinds.get(measure.field) if measure.field is not None else None
            result[measure.name] = _measure(measure, kind, members)
        out.append(result)
    return sort_groups(out, aggregate)


def sort_groups(rows: list[Row], aggregate: Aggregate) -> list[Row]:
    """``rows`` sorted by the group keys ascending, no value first (the order of every backend).

    Sorting here rather than in the database keeps the order the same whatever a
    database's text collation is.
    """
    names = [g.key for g in aggregate.group_by]
    if not names:
        return rows
    return sorted(
        rows, key=lambda row: tuple((0,) if row[n] is None else (1, row[n]) for n in names)
    )
