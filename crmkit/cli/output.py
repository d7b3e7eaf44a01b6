"""Printing results: aligned tables for people, JSON for scripts.

Values the acting user may not see arrive as :class:`~crmkit.privacy.Masked`
strings (``[masked: sensitive]``) and print and serialise as such; a record's
masked fields are named on a line of their own (:func:`echo_masked`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click

from crmkit.privacy.model import Masked
from crmkit.serialize import to_jsonable


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON (entities, dates and decimals converted)."""
    click.echo(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return str(text[:16].replace("T", " ") if "T" in text else text)
    return str(value)


def echo_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    empty: str = "",
    indent: int = 0,
) -> None:
    """Print ``rows`` as an aligned table with ``(key, header)`` columns, ``indent`` spaces in."""
    if not rows:
        if empty:
            click.echo(empty)
        return
    cells = [[_cell(r.get(key)) for key, _ in columns] for r in rows]
    widths = [
        min(40, max(len(header), *(len(c[i]) for c in cells)))
        for i, (_, header) in enumerate(columns)
    ]

    def fit(text: str, width: int) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    pad = " " * indent
    header = "  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True))
    click.echo(pad + header.rstrip())
    click.echo(pad + "  ".join("-" * w for w in widths))
    for row in cells:
        line = "  ".join(fit(c, w).ljust(w) for c, w in zip(row, widths, strict=True))
        click.echo(pad + line.rstrip())


def echo_record(record: Mapping[str, Any]) -> None:
    """Print one record as ``field: value`` lines, skipping empty values."""
    items = [(k, _cell(v)) for k, v in record.items() if v not in (None, "", [], {})]
    width = max((len(k) for k, _ in items), default=0)
    for key, value in items:
        click.echo(f"{key.ljust(width)}  {value}")


def masked_fields(record: Any) -> list[str]:
    """The fields of an entity (``custom.KEY`` for custom fields) that hold masked values."""
    import attrs

    names: list[str] = []
    for name, value in attrs.asdict(record, recurse=False).items():
        if isinstance(value, Masked):
            names.append(name)
        elif name == "custom" and isinstance(value, Mapping):
            names.extend(f"custom.{k}" for k, v in value.items() if isinstance(v, Masked))
    return names


def echo_masked(actor: str, names: Sequence[str]) -> None:
    """``masked for ACTOR: field, field`` when something was masked; nothing otherwise."""
    if names:
        click.echo(f"masked for {actor}: {', '.join(names)}")
