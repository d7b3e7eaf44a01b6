"""Entity types as crmkit sees them: resolved fields, privacy, custom-field schema.

An :class:`EntityType` is built once per CRM from a class marked with
``@crmkit.entity``; storage backends, the importer and the CLI work from it
instead of inspecting classes again.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from crmkit.entities.base import DECLARATION_ATTR, EntityDeclaration
from crmkit.entities.fields import METADATA_KEY, FieldSpec

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")

# Storage kinds a field may have, from its annotation.
KINDS: dict[type, str] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    decimal.Decimal: "decimal",
    dt.date: "date",
    dt.datetime: "datetime",
    list: "list",
    tuple: "list",
    dict: "dict",
}


@attrs.frozen
class FieldInfo:
    """One stored field of an entity type."""

    name: str
    kind: str
    optional: bool
    required: bool
    spec: FieldSpec


@attrs.frozen
class EntityType:
    """A registered entity type: its class, fields, table and custom fields."""

    name: str
    cls: type
    version: int
    fields: tuple[FieldInfo, ...]
    custom_schema: Mapping[str, Any] | None
    plugin: str
    description: str = ""

    @property
    def table_name(self) -> str:
        """The storage table: the type name with dots turned into underscores."""
        return self.name.replace(".", "_")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldInfo:
        for info in self.fields:
            if info.name == name:
                return info
        raise KeyError(name)

    @property
    def has_custom_fields(self) -> bool:
        return "custom" in self.field_names

    def to_row(self, obj: Any) -> dict[str, Any]:
        """The stored values of ``obj`` as a dict keyed by field name."""
        return {name: getattr(obj, name) for name in self.field_names}

    def from_row(self, row: Mapping[str, Any]) -> Any:
        """Build an instance of the class from stored values."""
        factory: Callable[..., Any] = self.cls
        return factory(**row)

    def with_custom_schema(self, schema: Mapping[str, Any] | None) -> EntityType:
        return attrs.evolve(self, custom_schema=schema)


def _kind_of(annotation: Any, owner: str, field_name: str) -> tuple[str, bool]:
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"{owner}.{field_name}: union types other than X | None are not stored")
        annotation = args[0]
        origin = typing.get_origin(annotation)
    base = origin or annotation
    if base is typing.Any:
        return "dict", optional
    for py_type, kind in KINDS.items():
        if base is py_type:
            return kind, optional
    raise TypeError(
        f"{owner}.{field_name}: type {annotation!r} cannot be stored; use str, int, float, "
        "bool, Decimal, date, datetime, list or dict"
    )


def build_entity_type(cls: type, plugin: str) -> EntityType:
    """Resolve a class marked with ``@crmkit.entity`` into an :class:`EntityType`."""
    decl = getattr(cls, DECLARATION_ATTR, None)
    if not isinstance(decl, EntityDeclaration):
        raise TypeError(f"{cls.__qualname__} is not marked with @crmkit.entity(...)")
    if not NAME_PATTERN.match(decl.name):
        raise TypeError(
            f"entity type name {decl.name!r} must be lowercase dotted words, e.g. 'sales.deal'"
        )
    hints = typing.get_type_hints(cls)
    infos = []
    for a in attrs.fields(cls):
        spec = a.metadata.get(METADATA_KEY, FieldSpec())
        kind, optional = _kind_of(hints.get(a.name, a.type), decl.name, a.name)
        required = a.default is attrs.NOTHING
        infos.append(FieldInfo(a.name, kind, optional, required, spec))
    names = {i.name for i in infos}
    if "id" not in names:
        raise TypeError(f"entity type {decl.name!r} needs an 'id' field; subclass crmkit.Entity")
    return EntityType(
        name=decl.name,
        cls=cls,
        version=decl.version,
        fields=tuple(infos),
        custom_schema=decl.custom_fields,
        plugin=plugin,
        description=decl.description.strip(),
    )
