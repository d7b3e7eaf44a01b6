"""From a row of an import file to the row that is stored: column mapping and a lean clean.

Two steps, kept apart so each can be checked on its own:

* :class:`ColumnMap` turns a file's columns into the values a contact is made
  of. A column goes to the contact field of the same name (``First Name``
  matches ``first_name``), to a field named by the user's mapping
  (``--map "E-mail=email"``), or, if it names a custom field of the entity
  type, into ``custom`` (text coerced to the type the schema wants). A mapping
  to ``-`` ignores a column. Any other column stops the whole import, because
  silently dropping data is worse than asking. Empty ``id``, ``created_at``
  and ``updated_at`` cells mean "make one up", as for a new record.
* :class:`RowBuilder` applies exactly the rules of
  :meth:`crmkit.validation.RecordRules.clean` to those values, with the
  per-field work decided once per import instead of once per value, and fills
  in the defaults the entity class would (new id, timestamps, empty lists). The
  tests check on generated data that it accepts, rejects and returns exactly
  what ``clean`` and ``etype.to_row(cls(**row))`` do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from crmkit.custom_fields import CustomFieldValidator
from crmkit.entities.base import utcnow
from crmkit.entities.types import EntityType
from crmkit.errors import ImportFailed, ValidationError
from crmkit.normalize import normalize_phone
from crmkit.validation import MASKED_WRITE, RecordRules, coerce, contact_email, masked_field

IGNORE = "-"
GENERATED_FIELDS = frozenset({"id", "created_at", "updated_at"})
FIELD = 0
CUSTOM = 1
SKIP = 2


def column_key(name: str) -> str:
    """How a column header is matched to a field: ``"First Name"`` -> ``"first_name"``."""
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class ColumnMap:
    """Where each column of an import file goes: a field, a custom field, or nowhere.

    ``mapping`` maps column names to field names (or ``-`` to ignore the
    column); other columns are matched by name. Columns are resolved on first
    sight, so JSON Lines files whose rows have different keys work too.
    """

    def __init__(
        self, etype: EntityType, custom: CustomFieldValidator, mapping: Mapping[str, str]
    ) -> None:
        self.etype = etype
        self._custom = custom
        self._fields = {column_key(n): n for n in etype.field_names}
        self._custom_names = {column_key(n): n for n in custom.properties}
        self._mapping: dict[str, tuple[int, str]] = {}
        for column, target in mapping.items():
            self._mapping[column] = self._target_of_mapping(column, target)
        self._resolved: dict[str, tuple[int, str]] = {}
        # Columns copied to a field as they are (most of them): column -> field.
        self._plain: dict[str, str] = {}
        # Plain columns named exactly like their field.
        self._same: set[str] = set()
        self._claimed: dict[tuple[int, str], str] = {}
        self._custom_info = etype.field("custom") if etype.has_custom_fields else None

    def _target_of_mapping(self, column: str, target: str) -> tuple[int, str]:
        target = target.strip()
        if target == IGNORE:
            return SKIP, ""
        if target in self.etype.field_names:
            return FIELD, target
        if self._custom.knows(target):
            return CUSTOM, target
        known = ", ".join(self.etype.field_names)
        customs = ", ".join(self._custom.properties) or "none defined"
        raise ImportFailed(
            f"mapping {column}={target}: {self.etype.name} has no field {target!r}; "
            f"fields: {known}; custom fields: {customs}; use '-' to ignore the column"
        )

    def resolve(self, column: str, line: int) -> tuple[int, str]:
        """The target of ``column``; :class:`ImportFailed` for a column nothing matches."""
        target = self._resolved.get(column)
        if target is not None:
            return target
        target = self._mapping.get(column)
        if target is None:
            key = column_key(column)
            if key in self._fields:
                target = (FIELD, self._fields[key])
            elif key in self._custom_names:
                target = (CUSTOM, self._custom_names[key])
            else:
                raise ImportFailed(self._unknown_column(column, line))
        if target[0] != SKIP:
            other = self._claimed.setdefault(target, column)
            if other != column:
                raise ImportFailed(
                    f"columns {other!r} and {column!r} (line {line}) both go to "
                    f"{self.etype.name} field {target[1]!r}; ignore one with --map "
                    f"{column}={IGNORE} or map it to another field"
                )
        self._resolved[column] = target
        if target[0] == FIELD and target[1] not in GENERATED_FIELDS and target[1] != "custom":
            self._plain[column] = target[1]
            if target[1] == column:
                self._same.add(column)
        return target

    def _unknown_column(self, column: str, line: int) -> str:
        entity = self.etype.name
        return (
            f"column {column!r} (first seen on line {line}) is not a {entity} field or "
            "custom field; "
            f"map it with --map {column}=FIELD (mapping={{{column!r}: 'FIELD'}} in Python), "
            f"ignore it with --map {column}={IGNORE}, or define a custom field under "
            f"[custom_fields.{entity}.properties.{column_key(column)}] in crmkit.toml; "
            f"{entity} fields: {', '.join(self.etype.field_names)}"
        )

    def values(self, source: Mapping[str, Any], line: int) -> Mapping[str, Any]:
        """The field values of one source row, as :meth:`RecordRules.clean` takes them.

        Raises :class:`ValidationError` for a custom-field cell that cannot be
        read as its type, and :class:`ImportFailed` for an unknown column. A row
        whose columns are all named like their fields is its own values.
        """
        if source.keys() <= self._same:
            return source
        values: dict[str, Any] = {}
        flat: dict[str, Any] | None = None
        plain = self._plain
        for column, raw in source.items():
            field = plain.get(column)
            if field is not None:
                values[field] = raw
                continue
            kind, name = self.resolve(column, line)
            if kind == FIELD:
                if name in GENERATED_FIELDS and _is_blank(raw):
                    continue
                values[name] = raw
            elif kind == CUSTOM:
                if _is_blank(raw):
                    continue
                if flat is None:
                    flat = {}
                flat[name] = self._custom.coerce(name, raw) if isinstance(raw, str) else raw
        if flat is not None:
            values["custom"] = self._merge_custom(values.get("custom"), flat)
        return values

    def _merge_custom(self, base: Any, flat: dict[str, Any]) -> Any:
        """Custom-field columns win over keys of a ``custom`` object in the same row."""
        if _is_blank(base) or self._custom_info is None:
            return flat
        try:
            parsed = coerce(self._custom_info, base)
        except ValueError as exc:
            raise ValidationError(self.etype.name, "custom", str(exc)) from None
        return {**parsed, **flat}


def _text(value: Any) -> str | None:
    """``coerce`` for a text field."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value.strip() or None


def _converter(rules: RecordRules, name: str) -> Callable[[Any, Mapping[str, Any]], Any]:
    """What ``RecordRules.clean`` does to value of field ``name`` of a record ``values``."""
    info = rules.etype.field(name)
    contact = rules.etype.name == "contact"
    if contact and name == "email":
        if info.kind == "str":
            return lambda value, _values: contact_email(_text(value))
        return lambda value, _values: contact_email(coerce(info, value))
    if contact and name == "phone":
        region_of = rules.phone_region
        if info.kind == "str":
            return lambda value, values: normalize_phone(_text(value), region_of(values))
        return lambda value, values: normalize_phone(coerce(info, value), region_of(values))
    if info.kind == "str":
        return lambda value, _values: _text(value)
    return lambda value, _values: coerce(info, value)


class RowBuilder:
    """The rules of :meth:`RecordRules.clean`, prepared once for many rows of one entity type."""

    def __init__(self, rules: RecordRules) -> None:
        self.rules = rules
        etype = rules.etype
        self.entity = etype.name
        self._convert = {f.name: _converter(rules, f.name) for f in etype.fields}
        self._required = tuple(f.name for f in etype.fields if f.required)
        self._not_null = frozenset(f.name for f in etype.fields if not f.optional)
        self._custom = rules.custom
        self._has_custom = etype.has_custom_fields
        # An empty custom mapping passes the schema unless the schema requires a key.
        self._empty_custom_ok = not (rules.custom.schema or {}).get("required")
        self._defaults, self._factories, self._exact = _defaults_of(etype)
        self._known = frozenset(self._convert)
        self._plain_text = frozenset(
            f.name
            for f in etype.fields
            if f.kind == "str" and not (self.entity == "contact" and f.name in ("email", "phone"))
        )
        self._blank: dict[str, Callable[[], Any] | None] = {
            f.name: {"list": list, "dict": dict}.get(f.kind) for f in etype.fields
        }
        self._stamped = tuple(n for n, f in self._factories if f is utcnow)
        self._made = tuple((n, f) for n, f in self._factories if f is not utcnow)

    def clean(self, values: Mapping[str, Any], *, record: str | None = None) -> dict[str, Any]:
        """The same result (or the same :class:`ValidationError`) as ``rules.clean(values)``."""
        convert = self._convert
        if not values.keys() <= convert.keys():
            return self.rules.clean(values, record=record)  # raises "no such field"
        out: dict[str, Any] = {}
        for name, raw in values.items():
            if raw is not None and raw.__class__ is not str:
                self._refuse_masked(name, raw, record)
            try:
                out[name] = convert[name](raw, values)
            except ValueError as exc:
                raise ValidationError(self.entity, name, str(exc), record=record) from None
        for name in self._required:
            if name not in out:
                raise ValidationError(self.entity, name, "is required", record=record)
        not_null = self._not_null
        for name, value in out.items():
            if value is None and name in not_null:
                raise ValidationError(self.entity, name, "may not be empty", record=record)
        if self._has_custom:
            # As clean(): custom fields are checked even when none are given.
            out.setdefault("custom", {})
        custom = out.get("custom")
        if custom is not None and (custom or not self._empty_custom_ok):
            self._custom.validate(custom, record=record)
        return out

    def _refuse_masked(self, name: str, raw: Any, record: str | None) -> None:
        """As ``clean()``: a masked value from a read may not be written back."""
        masked = masked_field(name, raw)
        if masked is not None:
            raise ValidationError(self.entity, masked, MASKED_WRITE, record=record)

    def row(self, values: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
        """``stored(clean(values), now)`` in one pass: the per-row work of an import.

        Raises the same :class:`ValidationError` as :meth:`clean` (a row that
        fails a check after conversion is re-run through :meth:`clean` so the
        error is exactly the one ``clean`` gives).
        """
        if not self._exact or not values.keys() <= self._known:
            return self.stored(self.clean(values), now)
        out = self._defaults.copy()
        plain = self._plain_text
        blank = self._blank
        convert = self._convert
        for name, raw in values.items():
            if raw.__class__ is str:
                if name in plain:
                    out[name] = raw.strip() or None
                    continue
                if not raw.strip():
                    # An empty cell: coerce() gives [] / {} for lists and mappings and
                    # None for the rest, which email and phone normalisation keep.
                    made = blank[name]
                    out[name] = made() if made is not None else None
                    continue
            elif raw is not None:
                # Values read from files are never Masked; values passed in from a read may be.
                self._refuse_masked(name, raw, None)
            try:
                out[name] = convert[name](raw, values)
            except ValueError as exc:
                raise ValidationError(self.entity, name, str(exc)) from None
        for name in self._required:
            if name not in values:
                return self.stored(self.clean(values), now)
        for name in self._not_null:
            if name in values and out[name] is None:
                return self.stored(self.clean(values), now)
        if "custom" in values:
            custom = out["custom"]
            if custom or not self._empty_custom_ok:
                self._custom.validate(custom)
        elif self._has_custom and not self._empty_custom_ok:
            self._custom.validate({})
        for name in self._stamped:
            if name not in values:
                out[name] = now
        for name, factory in self._made:
            if name not in values:
                out[name] = factory()
        return out

    def stored(self, row: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
        """The row to store for cleaned ``row``: what ``etype.to_row(cls(**row))`` gives.

        Fields left out get the class's defaults; a new id from the id factory
        and ``now`` for timestamps made by :func:`utcnow`.
        """
        if not self._exact:
            return dict(self.rules.etype.to_row(self.rules.etype.from_row(row)))
        out = dict(self._defaults)
        for name, factory in self._factories:
            if name not in row:
                out[name] = now if factory is utcnow else factory()
        out.update(row)
        return out


def _defaults_of(
    etype: EntityType,
) -> tuple[dict[str, Any], tuple[tuple[str, Callable[[], Any]], ...], bool]:
    """Constant defaults, default factories, and whether filling them in by hand is exact.

    It is not when the class converts, validates or post-processes values, or
    has a factory that takes ``self``; rows of such classes go through the class.
    """
    cls = etype.cls
    defaults: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    exact = attrs.has(cls) and not hasattr(cls, "__attrs_post_init__")
    for a in attrs.fields(cls) if attrs.has(cls) else ():
        if a.converter is not None or a.validator is not None:
            exact = False
        if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            if a.default.takes_self:
                exact = False
            defaults[a.name] = None
            factories.append((a.name, a.default.factory))
        elif a.default is attrs.NOTHING:
            defaults[a.name] = None
        else:
            defaults[a.name] = a.default
    if set(defaults) != set(etype.field_names):
        exact = False
    ordered = {name: defaults.get(name) for name in etype.field_names}
    return ordered, tuple(factories), exact
