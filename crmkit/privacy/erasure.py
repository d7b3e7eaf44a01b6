"""Erasure of a person across the core and every plugin, from the entity types' declarations.

For every record that belongs to the person (see :mod:`crmkit.privacy.rights`):
when the field linking it to the contact is declared ``erase="delete"`` the
record is deleted; otherwise its ``anonymise`` (and ``delete``) fields are
blanked and its ``keep`` fields stay, under the legal hold they declare. The
contact row itself stays as an anonymised shell, because kept records point to
it. Then the person's values are scrubbed from the event outbox (see
:class:`EventScrubber`), the processing state records the erasure, their
email and phone become suppression markers (keyed hashes, never the values),
and the erasure is audited with counts only. All of it is one unit of work:
either the person is erased or nothing changed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.contacts import looks_like_id
from crmkit.entities.base import utcnow
from crmkit.entities.types import EntityType, FieldInfo
from crmkit.privacy import suppression
from crmkit.privacy.rights import (
    EVENT_PAGE,
    events_about,
    find_contact,
    person_types,
    records_of,
    save_state,
)
from crmkit.storage.base import Row, StorageTransaction, StoredEvent

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.uow import UnitOfWork

ERASED = "[erased]"
BLANKED = ("anonymise", "delete")
OWN_EVENTS = frozenset({"privacy.erased", "privacy.restricted", "privacy.restriction_lifted"})
"""Events raised here and in :mod:`crmkit.privacy.rights`: ids, counts and reasons only."""
PERSONAL = ("personal", "sensitive")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EMPTY_OF_KIND: dict[str, Any] = {
    "str": ERASED,
    "int": 0,
    "float": 0.0,
    "decimal": decimal.Decimal(0),
    "bool": False,
    "date": EPOCH.date(),
    "datetime": EPOCH,
}


def blank_value(info: FieldInfo) -> Any:
    """What an erased value of this field becomes: ``None`` when the field may be empty,
    otherwise an empty value of its kind (``"[erased]"`` for required text)."""
    if info.optional:
        return None
    if info.kind == "list":
        return []
    if info.kind == "dict":
        return {}
    return _EMPTY_OF_KIND[info.kind]


# -- the event outbox -------------------------------------------------------------


def _key_classes(entity_types: Iterable[EntityType]) -> tuple[frozenset[str], frozenset[str]]:
    """Field names that hold personal values in some entity type, and names that never do.

    Custom fields count as personal unless their schema says ``"x-privacy": "none"``;
    undeclared fields count as personal.
    """
    personal: set[str] = set()
    plain: set[str] = set()
    for etype in entity_types:
        for f in etype.fields:
            (plain if f.spec.privacy == "none" else personal).add(f.name)
        props = (etype.custom_schema or {}).get("properties", {})
        for key, schema in props.items():
            level = schema.get("x-privacy") if isinstance(schema, Mapping) else None
            (plain if level == "none" else personal).add(key)
    return frozenset(personal), frozenset(plain - personal)


def _strings(value: Any) -> Iterator[str]:
    """The text values inside ``value`` (nested lists and mappings included), ids aside."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) >= 2 and text != ERASED and not looks_like_id(text):
            yield text
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def personal_strings(etype: EntityType, row: Mapping[str, Any]) -> list[str]:
    """The text values of ``row``'s personal and sensitive (or undeclared) fields."""
    return [
        text for f in etype.fields if f.spec.privacy != "none" for text in _strings(row.get(f.name))
    ]


def _pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern finding any of ``values`` as whole words, ignoring case (longest first)."""
    words = sorted({v for v in values if v and v != ERASED}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _replace(value: Any, pattern: re.Pattern[str]) -> Any:
    """``value`` with every match of ``pattern`` in its texts replaced by ``[erased]``."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, Mapping):
        return {k: _replace(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, pattern) for v in value]
    return value


def _finds(value: Any, pattern: re.Pattern[str]) -> bool:
    if isinstance(value, str):
        return pattern.search(value) is not None
    if isinstance(value, Mapping):
        return any(_finds(v, pattern) for v in value.values())
    if isinstance(value, list):
        return any(_finds(v, pattern) for v in value)
    return False


class EventScrubber:
    """Works out the outbox payloads that erasing one person rewrites.

    Events about the person (``subject_id`` is their id) lose every value
    under a key that names a personal field anywhere (``first_name``,
    ``summary``, ``custom``, ...) and every text under keys no entity type
    declares; ids and values under keys that only ever name non-personal
    fields (``channel``, ``source``, ...) stay. What those payloads held,
    including values the person has since changed, joins the values of their
    records as what to look for elsewhere. The privacy layer's own events
    (:data:`OWN_EVENTS`) hold ids, counts and reasons, and keep their shape.

    Other events are rewritten only when they mention the person: their id,
    email, phone or full name. In those, each of the person's values found as
    a whole word (ignoring case) becomes ``[erased]``; events that do not
    mention them are left alone, so a namesake keeps their own history.
    """

    def __init__(
        self, entity_types: Iterable[EntityType], contact: Mapping[str, Any], values: Iterable[str]
    ) -> None:
        self.contact_id: str = contact["id"]
        self.personal, self.plain = _key_classes(entity_types)
        self.values = set(values)
        self.identifiers = {str(contact[kind]) for kind in suppression.KINDS if contact.get(kind)}
        name = " ".join(str(contact[k]) for k in ("first_name", "last_name") if contact.get(k))
        if " " in name:
            self.identifiers.add(name)

    def scrub_outbox(self, tx: StorageTransaction) -> list[tuple[str, dict[str, Any]]]:
        """``(event id, new payload)`` for every event whose payload changes."""
        found: dict[str, set[str]] = {}
        about = {
            e.id: self._structural(e.payload, None, found)
            for e in events_about(tx, self.contact_id)
            if e.name not in OWN_EVENTS
        }
        for kind in suppression.KINDS:
            self.identifiers.update(found.get(kind, ()))
        every = self.identifiers | self.values | {v for vs in found.values() for v in vs}
        naming, everything = _pattern(self.identifiers), _pattern(every)
        changed: list[tuple[str, dict[str, Any]]] = []
        for event in _outbox(tx):
            payload = about.get(event.id, event.payload)
            if everything is not None and self._mentions(event, naming):
                payload = _replace(payload, everything)
            if payload != event.payload:
                changed.append((event.id, payload))
        return changed

    def _mentions(self, event: StoredEvent, naming: re.Pattern[str] | None) -> bool:
        if event.subject_id == self.contact_id:
            return True
        if self.contact_id in json.dumps(event.payload, default=str):
            return True
        return naming is not None and _finds(event.payload, naming)

    def _structural(self, value: Any, key: str | None, found: dict[str, set[str]]) -> Any:
        if key is not None and key in self.plain:
            return value
        if key is not None and key in self.personal:
            return self._blank(value, key, found)
        if isinstance(value, Mapping):
            return {k: self._structural(v, str(k), found) for k, v in value.items()}
        if isinstance(value, list):
            return [self._structural(v, key, found) for v in value]
        if isinstance(value, str) and not looks_like_id(value):
            return ERASED
        return value

    def _blank(self, value: Any, key: str, found: dict[str, set[str]]) -> Any:
        if value is None:
            return None
        if isinstance(value, Mapping):
            return {k: self._blank(v, key, found) for k, v in value.items()}
        if isinstance(value, list):
            return [self._blank(v, key, found) for v in value]
        if isinstance(value, str):
            if looks_like_id(value):
                return value
            found.setdefault(key, set()).update(_strings(value))
            return ERASED
        return None


def _outbox(tx: StorageTransaction) -> Iterator[StoredEvent]:
    """Every outbox event, oldest first, a page at a time."""
    after: str | None = None
    while True:
        page = tx.read_events(after=after, limit=EVENT_PAGE)
        yield from page
        if len(page) < EVENT_PAGE:
            return
        after = page[-1].id


# -- the plan ---------------------------------------------------------------------


@attrs.frozen
class EntityErasure:
    """What erasure does (or did) to one entity type's records about the person.

    ``fields`` are the fields blanked on the records that stay; ``held`` the
    personal fields kept under legal hold, with the reason each declares.
    """

    entity: str
    plugin: str
    deleted: int = 0
    anonymised: int = 0
    kept: int = 0
    fields: tuple[str, ...] = ()
    held: tuple[tuple[str, str], ...] = ()

    @property
    def records(self) -> int:
        return self.deleted + self.anonymised + self.kept


@attrs.frozen
class ErasurePlan:
    """Erasure of one person, entity type by entity type.

    ``done`` is true once it was carried out (``erased_at`` is then when);
    ``already_erased`` means the person had been erased before (at
    ``erased_at``) and nothing was left to do. ``events`` counts the outbox
    events whose payloads are scrubbed; ``suppressed`` names what becomes a
    suppression marker (``email``, ``phone``).
    """

    contact_id: str
    entities: tuple[EntityErasure, ...] = ()
    events: int = 0
    suppressed: tuple[str, ...] = ()
    done: bool = False
    already_erased: bool = False
    erased_at: dt.datetime | None = None

    @property
    def deleted(self) -> int:
        return sum(e.deleted for e in self.entities)

    @property
    def anonymised(self) -> int:
        return sum(e.anonymised for e in self.entities)

    @property
    def nothing_to_do(self) -> bool:
        return not (self.deleted or self.anonymised or self.events)

    def entity(self, name: str) -> EntityErasure:
        """The part of the plan for entity type ``name``."""
        for part in self.entities:
            if part.entity == name:
                return part
        raise KeyError(name)

    def counts(self) -> dict[str, Any]:
        """Counts per entity type, for the audit log and the ``privacy.erased`` event."""
        return {
            "deleted": {e.entity: e.deleted for e in self.entities if e.deleted},
            "anonymised": {e.entity: e.anonymised for e in self.entities if e.anonymised},
            "events": self.events,
            "suppressed": len(self.suppressed),
        }


@attrs.define
class _Work:
    """A plan together with the writes that carry it out."""

    plan: ErasurePlan
    contact: Row
    deletes: list[tuple[EntityType, str]] = attrs.field(factory=list)
    updates: list[tuple[EntityType, str, Row]] = attrs.field(factory=list)
    payloads: list[tuple[str, dict[str, Any]]] = attrs.field(factory=list)


def _deletes(etype: EntityType, row: Mapping[str, Any], contact_id: str) -> bool:
    """Whether a field linking ``row`` to the contact says to delete the record."""
    return any(
        f.spec.ref == "contact" and f.spec.erase == "delete" and row.get(f.name) == contact_id
        for f in etype.fields
    )


def _survey(crm: CRM, tx: StorageTransaction, contact: Row) -> _Work:
    """Read everything held on the person and work out what erasure writes."""
    contact_id = contact["id"]
    work = _Work(ErasurePlan(contact_id), contact)
    found: list[str] = []
    parts = []
    for etype in person_types(crm):
        blankable = [f for f in etype.fields if f.spec.erase in BLANKED and f.name != "id"]
        held = tuple(
            (f.name, f.spec.hold or "no reason declared")
            for f in etype.fields
            if f.spec.erase == "keep" and f.spec.privacy in PERSONAL
        )
        deleted = anonymised = kept = 0
        for row in records_of(tx, etype, contact_id):
            found.extend(personal_strings(etype, row))
            if _deletes(etype, row, contact_id):
                work.deletes.append((etype, row["id"]))
                deleted += 1
                continue
            changes = {
                f.name: blank_value(f) for f in blankable if row.get(f.name) != blank_value(f)
            }
            if changes:
                if "updated_at" in etype.field_names:
                    changes["updated_at"] = utcnow()
                work.updates.append((etype, row["id"], changes))
                anonymised += 1
            else:
                kept += 1
        parts.append(
            EntityErasure(
                etype.name,
                etype.plugin,
                deleted,
                anonymised,
                kept,
                tuple(f.name for f in blankable),
                held,
            )
        )
    scrubber = EventScrubber(crm.entity_types.values(), contact, found)
    work.payloads = scrubber.scrub_outbox(tx)
    kinds = tuple(kind for kind in suppression.KINDS if contact.get(kind))
    work.plan = ErasurePlan(contact_id, tuple(parts), len(work.payloads), kinds)
    return work


def plan_erasure(crm: CRM, contact: str) -> ErasurePlan:
    """What erasing ``contact`` (an id or email) would do; writes nothing."""
    return erase(crm, contact, dry_run=True)


def erase(
    crm: CRM, contact: str, *, actor: str | None = None, dry_run: bool = False
) -> ErasurePlan:
    """Erase a person in one unit of work, following each entity type's declarations.

    With ``dry_run`` only the plan is made. Erasing someone already erased,
    with nothing of theirs left, changes nothing and returns a plan with
    ``already_erased`` set.
    """
    with crm.unit_of_work(actor) as uow:
        row = find_contact(crm, uow.tx, contact)
        contact_id = row["id"]
        crm.privacy.require("erase", actor=uow.actor, subject_id=contact_id, uow=uow)
        state = uow.tx.get_by(crm.entity_type("privacy.subject"), "contact_id", contact_id)
        before = state["erased_at"] if state is not None else None
        work = _survey(crm, uow.tx, row)
        if before is not None and work.plan.nothing_to_do:
            return attrs.evolve(work.plan, already_erased=True, erased_at=before)
        if dry_run:
            return work.plan
        at = utcnow()
        _carry_out(crm, uow, work, at)
        return attrs.evolve(work.plan, done=True, erased_at=at)


def _carry_out(crm: CRM, uow: UnitOfWork, work: _Work, at: dt.datetime) -> None:
    """Write the erasure: deletions, blanks, scrubbed events, state, suppression, audit."""
    tx = uow.tx
    contact_id = work.plan.contact_id
    for etype, record_id in work.deletes:
        tx.delete(etype, record_id)
    for etype, record_id, changes in work.updates:
        tx.update(etype, record_id, changes)
    for event_id, payload in work.payloads:
        tx.replace_event_payload(event_id, payload)
    save_state(uow, contact_id, erased_at=at)
    _suppress(crm, tx, work.contact)
    counts = work.plan.counts()
    uow.audit("privacy.erase", subject_id=contact_id, details=counts)
    uow.raise_event("privacy.erased", {"contact_id": contact_id, **counts}, subject_id=contact_id)


def _suppress(crm: CRM, tx: StorageTransaction, contact: Mapping[str, Any]) -> int:
    """Add suppression markers for the person's email and phone (keyed hashes only)."""
    pairs: list[tuple[str, str]] = []
    for kind in suppression.KINDS:
        value = contact.get(kind)
        if value:
            pairs.extend(
                (kind, key) for key in crm.privacy.suppression_keys(tx=tx, **{kind: value})
            )
    return suppression.suppress(tx, crm.entity_type("privacy.suppression"), pairs, reason="erased")
