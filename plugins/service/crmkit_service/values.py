"""Checking what a caller gives the desk: a choice, text, tags, a time.

Each check returns the cleaned value or raises :class:`~crmkit.errors.ValidationError`
naming the record type, the field and what to give instead, so tickets,
messages, feedback and knowledge refuse bad input in the same words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from crmkit.entities import utcnow
from crmkit.errors import ValidationError


def choice(
    value: str, choices: Sequence[str], entity: str, field: str, record: str | None = None
) -> str:
    """``value`` (any case, spaces around) as one of ``choices``."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if text not in choices:
        raise ValidationError(
            entity, field, f"{value!r} is not one of {', '.join(choices)}", record=record
        )
    return text


def required_text(
    value: Any, entity: str, field: str, record: str | None = None, *, what: str | None = None
) -> str:
    """``value`` stripped of surrounding space; empty text is refused as ``what`` (default:
    "the <field>") that "cannot be empty"."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError(
            entity, field, f"{what or f'the {field}'} cannot be empty", record=record
        )
    return text


def optional_text(value: str | None) -> str | None:
    """Text stripped of surrounding space; empty text is no value."""
    return (value.strip() or None) if isinstance(value, str) else None


def clean_tags(values: Iterable[str], entity: str, *, lower: bool = False) -> list[str]:
    """Tags stripped (and lower-cased with ``lower``), each once, in the order given.

    A single string is one tag; an empty tag is refused.
    """
    given = [values] if isinstance(values, str) else list(values)
    tags = [t.strip() for t in given if isinstance(t, str) and t.strip()]
    if len(tags) != len(given):
        raise ValidationError(entity, "tags", "each tag must be non-empty text")
    return list(dict.fromkeys(t.lower() for t in tags) if lower else dict.fromkeys(tags))


def aware_time(value: dt.datetime | None, entity: str, field: str) -> dt.datetime:
    """``value`` in UTC, or now when it is ``None``; a time without a zone is refused."""
    if value is None:
        return utcnow()
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(entity, field, f"{value!r} has no time zone; give an aware time")
    return value.astimezone(dt.UTC)
