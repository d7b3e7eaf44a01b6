"""Custom fields: user-defined fields per entity type, described by JSON Schema.

Schemas come from the entity type itself, from plugins
(``crmkit_custom_fields``) and from the project's ``crmkit.toml``; they are
merged per entity type into one object schema and compiled once. Writes that
break it are refused with an error naming the entity, the field and the rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from crmkit.errors import ConfigError, ValidationError

TRUE = {"true", "yes", "y", "1", "on"}
FALSE = {"false", "no", "n", "0", "off"}


def merge_schemas(
    entity: str, parts: list[tuple[str, Mapping[str, Any]]], reserved: set[str]
) -> dict[str, Any] | None:
    """Merge ``(source, schema)`` parts into one closed object schema.

    A property defined by two sources, or named like a built-in field, is a
    configuration error naming both.
    """
    if not parts:
        return None
    properties: dict[str, Any] = {}
    owners: dict[str, str] = {}
    required: list[str] = []
    for source, schema in parts:
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            raise ConfigError(
                f"custom fields of {entity!r} from {source}: the schema needs a 'properties' table"
            )
        for name, prop in props.items():
            if name in reserved:
                raise ConfigError(
                    f"custom field {entity}.{name} from {source} clashes with a built-in field; "
                    "rename it"
                )
            if name in properties:
                raise ConfigError(
                    f"custom field {entity}.{name} is defined by both {owners[name]} and {source}"
                )
            properties[name] = dict(prop)
            owners[name] = source
        required.extend(schema.get("required", []))
    merged: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        merged["required"] = sorted(set(required))
    try:
        jsonschema.Draft202012Validator.check_schema(merged)
    except jsonschema.SchemaError as exc:
        raise ConfigError(
            f"custom fields of {entity!r} are not a valid JSON Schema: {exc.message}"
        ) from None
    return merged


class CustomFieldValidator:
    """Validates and coerces the ``custom`` mapping of one entity type."""

    def __init__(self, entity: str, schema: Mapping[str, Any] | None) -> None:
        self.entity = entity
        self.schema = schema
        self.properties: Mapping[str, Any] = (schema or {}).get("properties", {})
        self._validator = jsonschema.Draft202012Validator(schema) if schema else None

    def knows(self, name: str) -> bool:
        return name in self.properties

    def validate(self, values: Mapping[str, Any], *, record: str | None = None) -> None:
        """Raise :class:`ValidationError` for the most relevant problem, if any."""
        if self._validator is None:
            if values:
                name = next(iter(values))
                raise ValidationError(
                    self.entity,
                    name,
                    f"unknown custom field; define it under [custom_fields.{self.entity}] "
                    "in crmkit.toml",
                    record=record,
                )
            return
        error = best_match(self._validator.iter_errors(dict(values)))
        if error is None:
            return
        if error.validator == "additionalProperties":
            extra = sorted(set(values) - set(self.properties))
            raise ValidationError(
                self.entity,
                extra[0] if extra else None,
                f"unknown custom field; define it under [custom_fields.{self.entity}] "
                "in crmkit.toml",
                record=record,
            )
        if error.validator == "required":
            missing = [n for n in self.properties if n not in values and n in error.message]
            raise ValidationError(
                self.entity, missing[0] if missing else None, "is required", record=record
            )
        field = str(error.absolute_path[0]) if error.absolute_path else None
        raise ValidationError(
            self.entity, field, f"{error.message} (rule: {error.validator})", record=record
        )

    def coerce(self, name: str, raw: str) -> Any:
        """Turn text from a CSV cell or ``--set`` into the type the schema wants."""
        prop = self.properties.get(name, {})
        kind = prop.get("type")
        text = raw.strip()
        try:
            if kind == "integer":
                return int(text)
            if kind == "number":
                return float(text)
            if kind == "boolean":
                low = text.lower()
                if low in TRUE:
                    return True
                if low in FALSE:
                    return False
                raise ValueError(text)
            if kind == "array":
                return [p.strip() for p in text.split(";") if p.strip()]
            if kind == "object":
                return json.loads(text)
        except (ValueError, json.JSONDecodeError):
            raise ValidationError(self.entity, name, f"{raw!r} is not a valid {kind}") from None
        return raw
