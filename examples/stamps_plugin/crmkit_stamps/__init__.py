"""crmkit-stamps: records kept on crmkit contacts.

A crmkit plugin. It stores one entity type, ``stamps.record``;
raises one event, ``stamps.recorded``, when a record is added;
adds a section to the single customer view and a command group,
``crmkit stamps``; and owns the migration branch
``stamps``.
Importing it has no side effects: crmkit finds everything through the
hook implementations at the end of the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import click

import crmkit
from crmkit.errors import ValidationError
from crmkit.storage.query import Cond, Query

if TYPE_CHECKING:
    from crmkit import CRM, EventType, MigrationBranch, ViewSection
    from crmkit.entities import Contact

__version__ = "0.1.0"

# -- What the plugin stores -------------------------------------------------


@crmkit.entity(
    "stamps.record",
    description="A note kept on a contact.",
)
@attrs.define(kw_only=True)
class StampsRecord(crmkit.Entity):
    """One note about one contact.

    Every field declares its privacy class and what erasing the contact does
    to it; the table comes from the plugin's migration.
    """

    contact_id: str = crmkit.field(ref="contact", privacy="personal", erase="delete")
    note: str = crmkit.field(privacy="personal", erase="delete")
    kind: str = crmkit.field(default="note", privacy="none", erase="delete")


# -- What the plugin does ---------------------------------------------------


def add_record(
    crm: CRM,
    contact: str,
    note: str,
    *,
    kind: str = "note",
    actor: str | None = None,
) -> StampsRecord:
    """Add a record about ``contact`` (an id or email) and raise the plugin's event.

    The record and the event are written in one unit of work: subscribers hear
    of the record only once it is stored, and a refused write keeps neither.
    """
    etype = crm.entity_type("stamps.record")
    if not note.strip():
        raise ValidationError(
            etype.name,
            "note",
            'is empty; say what to record, e.g. --note "Met at the fair"',
        )
    with crm.unit_of_work(actor) as uow:
        person = uow.contacts.get(contact)
        crm.privacy.require(
            "write", actor=uow.actor, subject_id=person.id, entity=etype.name, uow=uow
        )
        record = StampsRecord(
            contact_id=person.id,
            note=note.strip(),
            kind=kind,
        )
        uow.tx.add(etype, etype.to_row(record))
        uow.raise_event(
            "stamps.recorded",
            {"record_id": record.id, "contact_id": person.id, "kind": kind},
            subject_id=person.id,
        )
    return record


def records_of(
    crm: CRM,
    contact: str,
    *,
    actor: str | None = None,
) -> list[StampsRecord]:
    """The records kept on ``contact`` (an id or email), newest first."""
    etype = crm.entity_type("stamps.record")
    with crm.unit_of_work(actor) as uow:
        person = uow.contacts.get(contact)
        rows = uow.tx.query(
            etype, Query(Cond("contact_id", "eq", person.id), ("-created_at", "-id"))
        )
    return [StampsRecord(**row) for row in rows]


# -- Command line: crmkit stamps ...


@click.group("stamps")
def stamps_group() -> None:
    """Notes kept on contacts."""


@stamps_group.command("add")
@click.argument("contact")
@click.option("--note", required=True, help="What to record about the contact.")
@click.option("--kind", default="note", show_default=True, help="What sort of record it is.")
def add_command(contact: str, note: str, kind: str) -> None:
    """Record NOTE about CONTACT (an id or email)."""
    from crmkit.cli.context import get_crm

    record = add_record(get_crm(), contact, note, kind=kind)
    click.echo(f"Added record {record.id} to {contact}")


# -- Hook implementations: how crmkit finds all of the above --------------


@crmkit.hookimpl
def crmkit_register_entity_types() -> Sequence[type]:
    return [
        StampsRecord,
    ]


@crmkit.hookimpl
def crmkit_register_event_types() -> Sequence[EventType]:
    return [
        crmkit.EventType(
            "stamps.recorded",
            description="A record was added; payload: record_id, contact_id, kind.",
        )
    ]


@crmkit.hookimpl
def crmkit_customer_view(crm: CRM, contact: Contact, actor: str | None) -> ViewSection | None:
    records = records_of(crm, contact.id, actor=actor)
    if not records:
        return None
    etype = crm.entity_type("stamps.record")
    shown = [crm.privacy.mask(etype, etype.to_row(r), actor)[0] for r in records]
    return crmkit.ViewSection(
        "Stamps",
        [{"added": row["created_at"], "kind": row["kind"], "note": row["note"]} for row in shown],
    )


@crmkit.hookimpl
def crmkit_migrations() -> Sequence[MigrationBranch]:
    return [
        crmkit.MigrationBranch(
            "stamps",
            "crmkit_stamps:migrations",
        ),
    ]


@crmkit.hookimpl
def crmkit_register_commands() -> Sequence[click.Command]:
    return [
        stamps_group,
    ]
