"""Backend-neutral query descriptions: filters, ordering and paging.

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
