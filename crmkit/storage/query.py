"""Backend-neutral query descriptions: filters, ordering, paging and aggregates.

Filters are data, never SQL text: every backend turns them into parameterised
statements (or Python predicates for the in-memory backend).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "startswith", "isnull"]
OPS: tuple[str, ...] = (
    "eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "startswith", "isnull",
)


@attrs.frozen
class Cond:
    """``field op value``; ``contains`` and ``startswith`` ignore case."""

    field: str
    op: Op
    value: Any = None

    def __attrs_post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown filter operator {self.op!r}; use one of {', '.join(OPS)}")


@attrs.frozen
class AnyOf:
    """True when any of its filters is (an OR)."""

    filters: tuple[Filter, ...]


@attrs.frozen
class AllOf:
    """True when all of its filters are (an AND)."""

    filters: tuple[Filter, ...]


Filter = Cond | AnyOf | AllOf


@attrs.frozen
class Query:
    """What to fetch: a filter, an order (``"-field"`` for descending) and a page."""

    where: Filter | None = None
    order_by: tuple[str, ...] = ("id",)
    limit: int | None = None
    offset: int = 0


AggFn = Literal["count", "count_distinct", "sum", "avg", "min", "max"]
AGG_FNS: tuple[str, ...] = ("count", "count_distinct", "sum", "avg", "min", "max")
DatePart = Literal["day", "month", "year"]
DATE_PARTS: tuple[str, ...] = ("day", "month", "year")


@attrs.frozen
class Measure:
    """One figure per group: ``fn`` over ``field`` (``field=None`` with ``count`` counts rows).

    ``name`` is the figure's key in each result row. NULLs are left out, as in SQL.
    """

    name: str
    fn: AggFn
    field: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.fn not in AGG_FNS:
            raise ValueError(
                f"measure {self.name!r}: unknown function {self.fn!r}; use one of "
                f"{', '.join(AGG_FNS)}"
            )
        if self.field is None and self.fn != "count":
            raise ValueError(f"measure {self.name!r}: {self.fn} needs a field")


@attrs.frozen
class GroupKey:
    """A field to group by; ``part`` groups a date or datetime field by day, month or year.

    With a part the group key is text: ``"2026-03-14"``, ``"2026-03"`` or ``"2026"``
    (datetimes taken in UTC). ``name`` is its key in each result row.
    """

    field: str
    part: DatePart | None = None
    name: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.part is not None and self.part not in DATE_PARTS:
            raise ValueError(
                f"group key {self.field!r}: unknown date part {self.part!r}; use one of "
                f"{', '.join(DATE_PARTS)}"
            )

    @property
    def key(self) -> str:
        """The key of this group's value in each result row."""
        if self.name is not None:
            return self.name
        return self.field if self.part is None else f"{self.field}_{self.part}"


def _group_keys(keys: Iterable[GroupKey]) -> tuple[GroupKey, ...]:
    return tuple(keys)


def _measures(measures: Iterable[Measure]) -> tuple[Measure, ...]:
    return tuple(measures)


@attrs.frozen
class Aggregate:
    """Figures computed by the storage: rows matching ``where``, grouped, then measured.

    The result has one row per group holding the group keys and the measures,
    sorted by the group keys ascending with no value first; without ``group_by``
    it is exactly one row.
    """

    where: Filter | None = None
    group_by: tuple[GroupKey, ...] = attrs.field(default=(), converter=_group_keys)
    measures: tuple[Measure, ...] = attrs.field(
        default=(Measure("count", "count"),), converter=_measures
    )

    def __attrs_post_init__(self) -> None:
        if not self.group_by and not self.measures:
            raise ValueError("an aggregate needs at least one measure or group key")
        seen: set[str] = set()
        for key in [g.key for g in self.group_by] + [m.name for m in self.measures]:
            if key in seen:
                raise ValueError(f"two group keys or measures are named {key!r}; rename one")
            seen.add(key)


def where_from(filters: Mapping[str, Any] | Iterable[Filter] | None) -> Filter | None:
    """Build a filter from ``{"city": "Paris"}`` style equality or a list of filters.

    A key may carry an operator after a double underscore: ``{"created_at__ge": t}``.
    """
    if filters is None:
        return None
    conds: list[Filter] = []
    if isinstance(filters, Mapping):
        for key, value in filters.items():
            name, _, op = key.partition("__")
            conds.append(Cond(name, op or "eq", value))  # type: ignore[arg-type]
    else:
        conds.extend(filters)
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else AllOf(tuple(conds))


def fields_in(flt: Filter | None) -> set[str]:
    """Every field name a filter mentions (to check them against the entity type)."""
    if flt is None:
        return set()
    if isinstance(flt, Cond):
        return {flt.field}
    out: set[str] = set()
    for sub in flt.filters:
        out |= fields_in(sub)
    return out


def order_fields(order_by: Sequence[str]) -> list[tuple[str, bool]]:
    """``("-created_at", "id")`` → ``[("created_at", True), ("id", False)]``."""
    return [(o[1:], True) if o.startswith("-") else (o, False) for o in order_by]
