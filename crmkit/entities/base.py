"""The entity base class and the ``@crmkit.entity`` decorator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from crmkit.entities.fields import field
from crmkit.ids import new_id


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC (all stored times are UTC)."""
    return dt.datetime.now(dt.UTC)


@attrs.define(kw_only=True)
class Entity:
    """Base of every stored record: a sortable id and two timestamps.

    Subclasses are attrs classes; because these base fields are keyword-only,
    a subclass may declare fields without defaults.
    """

    id: str = field(factory=new_id, privacy="none", erase="keep", doc="UUIDv7 id")
    created_at: dt.datetime = field(factory=utcnow, privacy="none", erase="keep")
    updated_at: dt.datetime = field(factory=utcnow, privacy="none", erase="keep")


@attrs.frozen
class EntityDeclaration:
    """What ``@crmkit.entity`` attaches to a class until a CRM registers it."""

    name: str
    version: int
    custom_fields: dict[str, Any] | None
    description: str


DECLARATION_ATTR = "__crmkit_entity__"
E = TypeVar("E", bound=type)


def entity(
    name: str,
    *,
    version: int = 1,
    custom_fields: dict[str, Any] | None = None,
    description: str = "",
) -> Callable[[E], E]:
    """Mark an attrs class as the entity type ``name`` (for example ``sales.deal``).

    ``custom_fields`` is a JSON Schema (an object schema with ``properties``)
    for user-defined fields kept in the entity's ``custom`` mapping; projects
    can extend it in ``crmkit.toml``. ``version`` is the schema version of the
    type, bumped by its owner when the stored shape changes.
    """

    def mark(cls: E) -> E:
        plain: type = cls  # attrs.has() narrows its argument; keep ``cls`` as E
        if not attrs.has(plain):
            raise TypeError(f"@crmkit.entity({name!r}) needs an attrs class; add @attrs.define")
        setattr(
            cls,
            DECLARATION_ATTR,
            EntityDeclaration(name, version, custom_fields, description or (cls.__doc__ or "")),
        )
        return cls

    return mark
