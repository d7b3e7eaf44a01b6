"""Backend-neutral query descriptions: filters, ordering, paging and aggregates.

Filters are data, never SQL text: every backend turns them into parameterised
statements (or Python predicates for the in-memory backend).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from crmkit.errors import ValidationError

if TYPE_CHECKING:
    from crmkit.entities.types import EntityType

Op = Literal[
    "eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "startswith", "isnull", "has"
]
OPS: tuple[str, ...] = (
    "eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "startswith", "isnull", "has",
)
KEY_OPS: tuple[str, ...] = OPS[:-1]
"""The operators a key inside a dict field takes (``custom.tier``): all but ``has``."""


@attrs.frozen
class Cond:
    """``field op value``; ``contains`` and ``startswith`` ignore case.

    ``has`` is true when a list field holds ``value`` as one of its elements.
    ``field`` may name a key inside a dict field as ``<field>.<key>``
    (``custom.tier``): the key's value is compared when it is of the value's
    kind (text with a string, a number with an int, float or Decimal, a flag
    with a bool) and counts as no value otherwise; ``isnull`` is true when the
    key is missing or holds JSON null.
    """

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


@attrs.frozen
class Not:
    """True exactly when its filter is not: a record with no value in a compared field
    is matched by ``Not(Cond(...))``, since it is not matched by the condition."""

    filter: Filter


@attrs.frozen
class Related:
    """True when some record of entity type ``entity`` links here and matches ``where``.

    ``link`` is the field of ``entity`` holding this record's ``id`` (for contacts
    with a recent purchase: ``Related("interaction", "contact_id", ...)``);
    ``where`` is a filter on ``entity``'s own fields (``None``: any linked record).
    """

    entity: str
    link: str
    where: Filter | None = None


Filter = Cond | AnyOf | AllOf | Not | Related

JSON_KINDS_OF_VALUES = ("string", "number", "boolean")


def value_kind(value: Any) -> str | None:
    """The JSON kind a filter value compares as: string, number, boolean or null.

    ``None`` for a value no JSON element can equal (a date, a list, ...).
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | decimal.Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def split_key(name: str) -> tuple[str, str | None]:
    """``"custom.tier"`` → ``("custom", "tier")``; a plain field name → ``(name, None)``."""
    field, dot, key = name.partition(".")
    return (field, key) if dot else (name, None)


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
    """Every field of the filtered entity type a filter mentions (to check them).

    A key inside a dict field counts as that field; the fields a :class:`Related`
    filter names belong to its other entity type and are not included.
    """
    if flt is None or isinstance(flt, Related):
        return set()
    if isinstance(flt, Cond):
        return {split_key(flt.field)[0]}
    if isinstance(flt, Not):
        return fields_in(flt.filter)
    out: set[str] = set()
    for sub in flt.filters:
        out |= fields_in(sub)
    return out


def check_filter(types: Mapping[str, EntityType], entity: str, flt: Filter | None) -> None:
    """Refuse a filter on ``entity`` that names what its entity types do not have.

    Unknown fields, keys of fields that are not dicts, ``has`` on a field that is
    not a list, values no JSON element can equal, and :class:`Related` filters
    naming an unknown entity type or link field each raise
    :class:`~crmkit.errors.ValidationError` naming the entity type and the field.
    """
    if flt is None:
        return
    etype = types[entity]
    if isinstance(flt, Related):
        _check_related(types, entity, flt)
    elif isinstance(flt, Not):
        check_filter(types, entity, flt.filter)
    elif isinstance(flt, Cond):
        _check_cond(etype, flt)
    else:
        for sub in flt.filters:
            check_filter(types, entity, sub)


def _check_related(types: Mapping[str, EntityType], entity: str, flt: Related) -> None:
    if flt.entity not in types:
        raise ValidationError(
            entity,
            None,
            f"no entity type {flt.entity!r} to look for related records in; use one of "
            f"{', '.join(sorted(types))}",
        )
    if flt.link not in types[flt.entity].field_names:
        raise ValidationError(
            flt.entity, flt.link, f"no such field to link {entity} records by"
        )
    check_filter(types, flt.entity, flt.where)


def _check_cond(etype: EntityType, cond: Cond) -> None:
    name, key = split_key(cond.field)
    if name not in etype.field_names:
        raise ValidationError(etype.name, name, "no such field to filter or sort by")
    kind = etype.field(name).kind
    if key is not None:
        if kind != "dict":
            raise ValidationError(
                etype.name, cond.field,
                f"{name!r} holds {kind} values, not keys; filter on {name!r} itself",
            )
        if not key or '"' in key:
            raise ValidationError(
                etype.name, cond.field, "name a key without quotes after the dot"
            )
        if cond.op == "has":
            raise ValidationError(
                etype.name, cond.field, "'has' looks in list fields; use 'eq' on a key"
            )
        if cond.op in ("lt", "le", "gt", "ge", "contains", "startswith") and cond.value is None:
            raise ValidationError(
                etype.name, cond.field, f"'{cond.op}' needs a value; use 'isnull' for none"
            )
        if cond.op == "in" and any(v is None for v in cond.value):
            raise ValidationError(
                etype.name, cond.field, "'in' takes values; use 'isnull' for a missing key"
            )
        values = list(cond.value) if cond.op == "in" else [cond.value]
        if cond.op not in ("isnull", "contains", "startswith") and any(
            value_kind(v) is None for v in values
        ):
            raise ValidationError(
                etype.name, cond.field,
                "a key compares with text, a number or true/false; convert the value",
            )
    elif cond.op == "has":
        if kind != "list":
            raise ValidationError(
                etype.name, name, f"'has' looks in list fields and this one is {kind}"
            )
        if value_kind(cond.value) in (None, "null"):
            raise ValidationError(
                etype.name, name, "'has' looks for text, a number or true/false; "
                "convert the value",
            )


def order_fields(order_by: Sequence[str]) -> list[tuple[str, bool]]:
    """``("-created_at", "id")`` → ``[("created_at", True), ("id", False)]``."""
    return [(o[1:], True) if o.startswith("-") else (o, False) for o in order_by]
