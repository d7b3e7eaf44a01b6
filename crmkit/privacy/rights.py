"""Data subject rights: access and portability, restriction and rectification.

What is held on a person is found from the entity types' declarations, never
from a hand-written list: the contact row itself, and every record of every
loaded entity type with a field declared ``ref="contact"`` holding the
contact's id. A plugin's records are therefore exported (and erased, see
:mod:`crmkit.privacy.erasure`) as soon as its entity types declare that link.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.contacts import contact_row
from crmkit.entities.base import utcnow
from crmkit.entities.core import Contact
from crmkit.entities.types import EntityType, FieldInfo
from crmkit.errors import NotFound, ValidationError
from crmkit.privacy.entities import SubjectState
from crmkit.serialize import to_jsonable
from crmkit.storage.base import Row, StorageReader, StorageTransaction, StoredEvent
from crmkit.storage.query import AnyOf, Cond, Filter, Query

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.privacy.model import Actor
    from crmkit.uow import UnitOfWork

BUNDLE_FORMAT = "crmkit.subject-export"
BUNDLE_VERSION = 1
NOT_ABOUT_PEOPLE = frozenset({"privacy.key"})
"""Entity types never exported or erased: the CRM's own secrets."""
EVENT_PAGE = 1000


# -- what belongs to a person ------------------------------------------------------


def contact_links(etype: EntityType) -> tuple[FieldInfo, ...]:
    """The fields of ``etype`` that point to a contact (declared ``ref="contact"``)."""
    return tuple(f for f in etype.fields if f.spec.ref == "contact")


def person_types(crm: CRM) -> list[EntityType]:
    """The entity types that can hold records about a person, the contact type first."""
    types = [
        etype
        for etype in crm.entity_types.values()
        if etype.name not in NOT_ABOUT_PEOPLE and (etype.name == "contact" or contact_links(etype))
    ]
    return sorted(types, key=lambda etype: (etype.name != "contact", etype.name))


def records_of(reader: StorageReader, etype: EntityType, contact_id: str) -> list[Row]:
    """The records of ``etype`` that belong to the contact, in id order."""
    if etype.name == "contact":
        row = reader.get(etype, contact_id)
        return [row] if row is not None else []
    conds = [Cond(f.name, "eq", contact_id) for f in contact_links(etype)]
    if not conds:
        return []
    where: Filter = conds[0] if len(conds) == 1 else AnyOf(tuple(conds))
    return reader.query(etype, Query(where, ("id",), None))


def events_about(tx: StorageTransaction, contact_id: str) -> Iterator[StoredEvent]:
    """Every outbox event about the contact, oldest first, read a page at a time."""
    after: str | None = None
    while True:
        page = tx.read_events(after=after, limit=EVENT_PAGE, subject_id=contact_id)
        yield from page
        if len(page) < EVENT_PAGE:
            return
        after = page[-1].id


def find_contact(crm: CRM, reader: StorageReader, ref: str) -> Row:
    """The stored row of the contact named by ``ref`` (id or email); :class:`NotFound` if none."""
    row = contact_row(reader, crm.entity_type("contact"), ref)
    if row is None:
        raise NotFound("contact", ref)
    return row


def declarations(crm: CRM, etype: EntityType) -> dict[str, Any]:
    """An entity type's privacy declarations as data: per field its class and erasure."""
    fields = {
        f.name: {
            "privacy": f.spec.privacy,
            "erase": f.spec.erase,
            **({"hold": f.spec.hold} if f.spec.hold else {}),
            **({"ref": f.spec.ref} if f.spec.ref else {}),
        }
        for f in etype.fields
    }
    custom = {
        name[len("custom.") :]: level
        for name, level in crm.privacy.field_levels(etype)
        if name.startswith("custom.")
    }
    out: dict[str, Any] = {"plugin": etype.plugin, "description": etype.description}
    out["fields"] = fields
    if custom:
        out["custom_fields"] = custom
    return out


# -- access and portability --------------------------------------------------------


def export_bundle(crm: CRM, contact: str, *, actor: str | None = None) -> dict[str, Any]:
    """Everything held on a person as one JSON-ready mapping.

    ``records`` holds, per entity type, the person's records (the contact
    itself, organization links, the timeline, the consent ledger, the
    processing state, audit entries about them and every plugin's records);
    ``declarations`` says for each of those types which privacy class and
    erasure strategy each field has; ``referenced`` holds the records theirs
    point to (the organizations they belong to); ``events`` the outbox events
    about them. Values the actor may not see are masked and named under
    ``masked``. Allowed while processing is restricted; audited.
    """
    with crm.unit_of_work(actor) as uow:
        row = find_contact(crm, uow.tx, contact)
        contact_id = row["id"]
        who = crm.privacy.actor(uow.actor)
        crm.privacy.require("export", actor=who, subject_id=contact_id, uow=uow)
        records: dict[str, list[Any]] = {}
        declared: dict[str, Any] = {}
        masked: dict[str, list[str]] = {}
        pointers: dict[str, set[str]] = {}
        for etype in person_types(crm):
            rows = records_of(uow.tx, etype, contact_id)
            shown = []
            for stored in rows:
                visible, hidden = crm.privacy.mask(etype, stored, who)
                shown.append(to_jsonable(visible))
                for name in hidden:
                    if name not in masked.setdefault(etype.name, []):
                        masked[etype.name].append(name)
                _collect_pointers(etype, stored, pointers)
            records[etype.name] = shown
            declared[etype.name] = declarations(crm, etype)
        referenced = _referenced(crm, uow, pointers)
        events = [_event_data(e, who) for e in events_about(uow.tx, contact_id)]
        counts = {name: len(rows) for name, rows in records.items() if rows}
        uow.audit(
            "privacy.export",
            subject_id=contact_id,
            details={"records": counts, "events": len(events)},
        )
    bundle: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "contact_id": contact_id,
        "exported_at": utcnow().isoformat(),
        "exported_by": who.name,
        "records": records,
        "declarations": declared,
        "referenced": referenced,
        "events": events,
    }
    if masked:
        bundle["masked"] = masked
    return bundle


def _collect_pointers(
    etype: EntityType, row: Mapping[str, Any], found: dict[str, set[str]]
) -> None:
    """Note the ids ``row`` points to in entity types other than contacts."""
    for f in etype.fields:
        target = f.spec.ref
        if target and target != "contact" and isinstance(row.get(f.name), str):
            found.setdefault(target, set()).add(row[f.name])


def _referenced(
    crm: CRM, uow: UnitOfWork, pointers: Mapping[str, set[str]]
) -> dict[str, list[Any]]:
    """The records the person's records point to, by entity type (say, organizations).

    Only their fields declared ``privacy="none"`` are given: such a record may
    be about someone else.
    """
    out: dict[str, list[Any]] = {}
    for name, ids in sorted(pointers.items()):
        if name not in crm.entity_types or name in NOT_ABOUT_PEOPLE:
            continue
        etype = crm.entity_type(name)
        plain = [f.name for f in etype.fields if f.spec.privacy == "none"]
        rows = uow.tx.query(etype, Query(Cond("id", "in", sorted(ids)), ("id",), None))
        out[name] = [to_jsonable({k: r[k] for k in plain}) for r in rows]
    return out


def _event_data(event: StoredEvent, who: Actor) -> dict[str, Any]:
    """An outbox event for the bundle; its payload is hidden from actors who may not see
    every privacy class (events carry values of any class)."""
    shows_all = who.sees("personal") and who.sees("sensitive")
    return {
        "id": event.id,
        "name": event.name,
        "version": event.version,
        "occurred_at": to_jsonable(event.occurred_at),
        "actor": event.actor,
        "payload": to_jsonable(event.payload) if shows_all else "[masked]",
    }


# -- processing state: restriction ---------------------------------------------------


@attrs.frozen
class ProcessingState:
    """Whether processing of a contact is restricted (and why) and when they were erased."""

    contact_id: str
    restricted: bool = False
    reason: str | None = None
    erased_at: dt.datetime | None = None


def processing_state(crm: CRM, contact: str) -> ProcessingState:
    """The processing state of the contact named by ``contact`` (id or email)."""
    with crm.backend.read() as reader:
        row = find_contact(crm, reader, contact)
        state = reader.get_by(crm.entity_type("privacy.subject"), "contact_id", row["id"])
    if state is None:
        return ProcessingState(row["id"])
    return ProcessingState(
        row["id"], bool(state["restricted"]), state["restricted_reason"], state["erased_at"]
    )


def save_state(uow: UnitOfWork, contact_id: str, **changes: Any) -> None:
    """Write ``changes`` to the contact's ``privacy.subject`` row, adding the row if needed."""
    etype = uow.crm.entity_type("privacy.subject")
    current = uow.tx.get_by(etype, "contact_id", contact_id)
    if current is None:
        uow.tx.add(etype, etype.to_row(SubjectState(contact_id=contact_id, **changes)))
    else:
        uow.tx.update(etype, current["id"], {**changes, "updated_at": utcnow()})


def restrict(crm: CRM, contact: str, *, reason: str, actor: str | None = None) -> None:
    """Restrict processing of a person: their data is kept, read, handed over and
    corrected, and nothing else is done with it until the restriction is lifted.

    Restricting an already restricted person replaces the reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "privacy.subject",
            "restricted_reason",
            "say why processing is restricted (e.g. 'disputes accuracy')",
        )
    with crm.unit_of_work(actor) as uow:
        contact_id = find_contact(crm, uow.tx, contact)["id"]
        crm.privacy.require("restrict", actor=uow.actor, subject_id=contact_id, uow=uow)
        save_state(uow, contact_id, restricted=True, restricted_reason=reason)
        uow.raise_event(
            "privacy.restricted",
            {"contact_id": contact_id, "reason": reason},
            subject_id=contact_id,
        )
        uow.audit("privacy.restrict", subject_id=contact_id, reason=reason)


def lift_restriction(crm: CRM, contact: str, *, actor: str | None = None) -> None:
    """End a restriction of processing; nothing happens if there is none."""
    with crm.unit_of_work(actor) as uow:
        contact_id = find_contact(crm, uow.tx, contact)["id"]
        crm.privacy.require("restrict", actor=uow.actor, subject_id=contact_id, uow=uow)
        state = uow.tx.get_by(crm.entity_type("privacy.subject"), "contact_id", contact_id)
        if state is None or not state["restricted"]:
            return
        save_state(uow, contact_id, restricted=False, restricted_reason=None)
        uow.raise_event(
            "privacy.restriction_lifted", {"contact_id": contact_id}, subject_id=contact_id
        )
        uow.audit("privacy.lift_restriction", subject_id=contact_id)


# -- rectification -----------------------------------------------------------------


def rectify(crm: CRM, contact: str, *, actor: str | None = None, **changes: Any) -> Contact:
    """Correct a person's data, also while their processing is restricted.

    The change goes through the contacts service (the same validation,
    normalisation and ``contact.updated`` event as any update, asked of the
    policy as ``rectify``); the audit entry names the fields that changed,
    never their values.
    """
    if not changes:
        raise ValidationError(
            "contact", None, "nothing to rectify; give the corrected fields (field=value)"
        )
    etype = crm.entity_type("contact")
    with crm.unit_of_work(actor) as uow:
        before = find_contact(crm, uow.tx, contact)
        contact_id = before["id"]
        crm.privacy.require("rectify", actor=uow.actor, subject_id=contact_id, uow=uow)
        corrected = uow.contacts.rectify(contact_id, **changes)
        changed = _changed_fields(before, uow.tx.get(etype, contact_id) or before)
        if changed:
            uow.audit("privacy.rectify", subject_id=contact_id, details={"fields": changed})
    return corrected


def _changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Names of the fields that differ (custom fields as ``custom.<key>``), timestamps aside."""
    names: list[str] = []
    for name, value in after.items():
        if name in ("updated_at", "created_at"):
            continue
        if name == "custom":
            old = before.get("custom") or {}
            new = value or {}
            names.extend(
                f"custom.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
            )
        elif before.get(name) != value:
            names.append(name)
    return names
