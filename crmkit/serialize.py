"""Turn entities and values into JSON-serialisable data (for --json and exports)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import attrs


def to_jsonable(value: Any) -> Any:
    """Recursively convert attrs objects, dates and decimals to JSON types."""
    if attrs.has(type(value)):
        return {a.name: to_jsonable(getattr(value, a.name)) for a in attrs.fields(type(value))}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value
