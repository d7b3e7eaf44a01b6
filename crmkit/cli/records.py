"""Helpers shared by the record commands (``crmkit contacts``, ``crmkit orgs``, ...).

Field options, ``--set``/``--unset`` assignments checked against built-in and
custom fields, confirmations that refuse to hang without a terminal, sort
orders and paging hints, so every record command behaves the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from crmkit.errors import NotFound, ValidationError

if TYPE_CHECKING:
    from crmkit.crm import CRM

F = TypeVar("F", bound=Callable[..., Any])

# Fields the store maintains itself; --set and --unset may not touch them.
SYSTEM_FIELDS = frozenset({"id", "created_at", "updated_at", "custom"})


def field_options(fields: Sequence[tuple[str, str, str]]) -> Callable[[F], F]:
    """Add one ``--field-name`` option per ``(field, metavar, help)``, all defaulting to None."""

    def decorate(func: F) -> F:
        for name, metavar, help_ in reversed(fields):
            option = click.option(
                "--" + name.replace("_", "-"), name, default=None, metavar=metavar, help=help_
            )
            func = option(func)
        return func

    return decorate


def set_options(*, unset: bool) -> Callable[[F], F]:
    """``--set FIELD=VALUE`` (and, for updates, ``--unset FIELD``), both repeatable."""

    def decorate(func: F) -> F:
        if unset:
            func = click.option(
                "--unset",
                "unset",
                multiple=True,
                metavar="FIELD",
                help="Clear a built-in or custom field (repeatable).",
            )(func)
        return click.option(
            "--set",
            "assignments",
            multiple=True,
            metavar="FIELD=VALUE",
            help="Set any built-in or custom field (repeatable).",
        )(func)

    return decorate


def given_fields(
    options: Mapping[str, Any], fields: Sequence[tuple[str, str, str]]
) -> dict[str, Any]:
    """The field options that were given on the command line."""
    return {name: options[name] for name, _, _ in fields if options.get(name) is not None}


def apply_assignments(
    crm: CRM,
    entity: str,
    values: dict[str, Any],
    assignments: Sequence[str] = (),
    unset: Sequence[str] = (),
) -> dict[str, Any]:
    """Merge ``--set FIELD=VALUE`` and ``--unset FIELD`` into ``values``.

    Built-in fields get the text as given (the record rules coerce and check
    it); custom fields are coerced with their JSON Schema type and end up in
    ``values["custom"]`` (``None`` removes one on update).
    """
    etype = crm.entity_type(entity)
    builtin = [n for n in etype.field_names if n not in SYSTEM_FIELDS]
    custom_fields = crm.custom_fields(entity)
    custom: dict[str, Any] = {}

    def place(name: str, text: str | None) -> None:
        key = name.replace("-", "_")
        if key in builtin:
            values[key] = text
        elif custom_fields.knows(name):
            custom[name] = None if text is None else custom_fields.coerce(name, text)
        else:
            raise unknown_field(crm, entity, name, builtin)

    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint="'--set'")
        place(name.strip(), text)
    for name in unset:
        place(name.strip(), None)
    if custom:
        values["custom"] = {**values.get("custom", {}), **custom}
    return values


def unknown_field(crm: CRM, entity: str, name: str, builtin: Sequence[str]) -> ValidationError:
    """The error for a field that is neither built in nor a defined custom field."""
    defined = sorted(crm.custom_fields(entity).properties)
    return ValidationError(
        entity,
        name,
        f"no such field; built-in fields: {', '.join(builtin)}; custom fields: "
        f"{', '.join(defined) or 'none defined'}. Define a custom field under "
        f"[custom_fields.{entity}.properties.{name}] in crmkit.toml",
    )


def record_fields(record: Any) -> dict[str, Any]:
    """A record's fields for ``echo_record``, custom fields flattened as ``custom.NAME``."""
    import attrs

    values = attrs.asdict(record, recurse=False)
    custom = values.pop("custom", None) or {}
    stamps = {k: values.pop(k) for k in ("created_at", "updated_at")}
    values.update({f"custom.{k}": v for k, v in sorted(custom.items())})
    values.update(stamps)
    return values


@contextmanager
def hint_on_not_found(entity: str, hint: str) -> Iterator[None]:
    """Add how to name a record to a :class:`NotFound` about ``entity``."""
    try:
        yield
    except NotFound as exc:
        if exc.entity != entity:
            raise
        better = NotFound(exc.entity, exc.key)
        better.args = (f"{exc}; {hint}",)
        raise better from None


def confirm_delete(
    question: str, what: str, *, verb: str = "delete", done: str = "deleted"
) -> None:
    """Ask before deleting (or erasing: ``verb``/``done``); with nobody to answer, refuse.

    Declining exits 1 ("Nothing deleted."); end of input (not a terminal)
    refuses with a hint to pass ``--yes`` instead of waiting.
    """
    try:
        ok = click.confirm(question, default=False, err=True)
    except click.Abort as exc:
        # click.confirm turns end of input into Abort; its context keeps the EOFError.
        if isinstance(exc.__context__, EOFError):
            click.echo(err=True)
            raise click.ClickException(
                f"{what} was not {done}: nobody answered the confirmation (input is not a "
                f"terminal); pass --yes to {verb} without asking"
            ) from None
        raise
    if not ok:
        click.echo(f"Nothing {done}.", err=True)
        raise click.exceptions.Exit(1)


def sort_order(sort: str | None, default: Sequence[str]) -> tuple[str, ...]:
    """``--sort city,-last-name`` as storage ordering (``-`` for descending)."""
    if not sort:
        return tuple(default)
    parts = [p.strip() for p in sort.split(",") if p.strip()]
    return tuple(
        p[0] + p[1:].replace("-", "_") if p[0] == "-" else p.replace("-", "_") for p in parts
    )


def page_hint(shown: int, limit: int, offset: int) -> None:
    """Tell on stderr how to see the next page when this one is full."""
    if limit and shown == limit:
        click.echo(
            f"Showing {offset + 1}-{offset + shown}; more with --offset {offset + shown}", err=True
        )
