"""Checking and normalising field values before they are stored.

One set of rules serves the Python API, the CLI and the importer: values are
coerced to the field's type, emails and phones normalised, custom fields
checked against their JSON Schema. Every failure names the entity, the field
and what to do.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Mapping
from typing import Any

from crmkit.custom_fields import CustomFieldValidator
from crmkit.entities.types import EntityType, FieldInfo
from crmkit.errors import ValidationError
from crmkit.normalize import NormalizationError, normalize_email, normalize_phone
from crmkit.privacy.model import Masked

SYSTEM_FIELDS = frozenset({"created_at", "updated_at"})
MASKED_WRITE = (
    "this value is masked for you; it cannot be written back (leave the field out to keep "
    "the stored value)"
)


def masked_field(name: str, value: Any) -> str | None:
    """Where ``value`` of field ``name`` holds a :class:`~crmkit.privacy.Masked` value, if it does.

    A read gives an actor ``Masked`` stand-ins for what they may not see;
    passing one back in a write would replace the real value with the
    placeholder. The answer is ``name``, or ``name.KEY`` for a key of a
    mapping (custom fields).
    """
    if isinstance(value, Masked):
        return name
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, Masked):
                return f"{name}.{key}"
    elif isinstance(value, list | tuple) and any(isinstance(item, Masked) for item in value):
        return name
    return None


def coerce(info: FieldInfo, value: Any) -> Any:
    """Convert ``value`` (a Python value or text from a file) to the field's kind.

    Raises ``ValueError`` with a reason a person can act on.
    """
    if value is None or (isinstance(value, str) and value.strip() == "" and info.kind != "str"):
        if info.kind == "list":
            return []
        if info.kind == "dict":
            return {}
        return None
    kind = info.kind
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {type(value).__name__}")
        text = value.strip()
        return text or None
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError("expected a whole number, got true/false")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise ValueError(f"expected a whole number, got {value!r}")
    if kind == "float":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
    if kind == "decimal":
        try:
            return decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            raise ValueError(f"expected a decimal number, got {value!r}") from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        low = str(value).strip().lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None
    if kind == "datetime":
        if not isinstance(value, dt.datetime):
            try:
                value = dt.datetime.fromisoformat(str(value).strip())
            except ValueError:
                raise ValueError(
                    f"expected a date and time in ISO 8601 form, got {value!r}"
                ) from None
        if value.tzinfo is None:
            raise ValueError("the time has no time zone; add one, e.g. +00:00 or Z")
        return value.astimezone(dt.UTC)
    if kind == "list":
        if isinstance(value, str):
            return [p.strip() for p in value.replace(",", ";").split(";") if p.strip()]
        if isinstance(value, list | tuple):
            return list(value)
        raise ValueError(f"expected a list, got {type(value).__name__}")
    if kind == "dict":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError("expected a JSON object") from None
        if isinstance(value, Mapping):
            return dict(value)
        raise ValueError(f"expected a mapping, got {type(value).__name__}")
    return value


def contact_email(value: str | None) -> str | None:
    """A contact's email as crmkit stores it: normalised by email-validator, then lower-cased.

    Mail systems treat addresses case-insensitively in practice, and people
    type them in any case, so crmkit compares and stores them in lower case;
    that is what makes duplicate detection and lookup by email reliable.
    """
    email = normalize_email(value)
    return email.lower() if email is not None else None


class RecordRules:
    """Validation for one entity type: known fields, types, normalisation, custom fields."""

    def __init__(
        self, etype: EntityType, custom: CustomFieldValidator, default_region: str | None
    ) -> None:
        self.etype = etype
        self.custom = custom
        self.default_region = default_region
        self._fields = {f.name: f for f in etype.fields}

    def check_fields(self, values: Mapping[str, Any], *, record: str | None = None) -> None:
        for name in values:
            if name not in self._fields:
                raise ValidationError(
                    self.etype.name,
                    name,
                    f"no such field; known fields: {', '.join(self._fields)}"
                    + (" (use custom fields for others)" if self.etype.has_custom_fields else ""),
                    record=record,
                )

    def phone_region(self, values: Mapping[str, Any], hint: str | None = None) -> str | None:
        """The region a national phone number is read in.

        The contact's own country wins (a French number written ``01 42 68 53 00``
        belongs to a contact in FR), then ``hint`` (the stored country on
        updates), then the project's ``default_region``.
        """
        country = values.get("country") or hint
        if isinstance(country, str) and len(country.strip()) == 2 and country.strip().isalpha():
            return country.strip().upper()
        return self.default_region

    def clean(
        self,
        values: Mapping[str, Any],
        *,
        partial: bool = False,
        record: str | None = None,
        region_hint: str | None = None,
    ) -> dict[str, Any]:
        """Coerce, normalise and check ``values``; return the row to store.

        With ``partial`` only the given fields are checked (for updates).
        """
        self.check_fields(values, record=record)
        out: dict[str, Any] = {}
        for name, raw in values.items():
            info = self._fields[name]
            if raw is not None and raw.__class__ is not str:
                masked = masked_field(name, raw)
                if masked is not None:
                    raise ValidationError(self.etype.name, masked, MASKED_WRITE, record=record)
            try:
                value = coerce(info, raw)
                if name == "email" and self.etype.name == "contact":
                    value = contact_email(value)
                elif name == "phone" and self.etype.name == "contact":
                    value = normalize_phone(value, self.phone_region(values, region_hint))
            except (ValueError, NormalizationError) as exc:
                raise ValidationError(self.etype.name, name, str(exc), record=record) from None
            out[name] = value
        if not partial:
            for info in self.etype.fields:
                if info.name in out:
                    continue
                if info.required:
                    raise ValidationError(self.etype.name, info.name, "is required", record=record)
        for name, value in out.items():
            if value is None and not self._fields[name].optional:
                raise ValidationError(self.etype.name, name, "may not be empty", record=record)
        if not partial and self.etype.has_custom_fields:
            # Validate even when no custom values were given: the schema may require some.
            out.setdefault("custom", {})
        if "custom" in out:
            self.custom.validate(out["custom"], record=record)
        return out
