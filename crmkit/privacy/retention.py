"""Retention sweeps: remove what a project keeps longer than ``[privacy.retention]`` allows.

Each key of the table is an entity type or a consent purpose with a period in
days. Records of an entity type older than their period (by ``created_at``)
are treated as their erasure declarations say: a type whose link to the
contact is declared ``erase="delete"`` (or, without such a link, one with any
``delete`` field) loses the records; any other type has its ``anonymise``
fields blanked and keeps the rest. Contacts themselves are erased as whole
people, through :meth:`~crmkit.privacy.facade.Privacy.erase`, when nothing
about them changed and nothing happened with them within the period. For a
purpose, grants older than the period lapse: the ledger gets a withdrawal.

Everything is selected by the database through the storage port's filters and
read a batch at a time. Deletions, anonymisation, lapses and the
``privacy.sweep`` audit entry are one transaction; each person is then erased
in a transaction of their own, as every erasure is (and audited on its own).
A dry run counts the same things and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities.base import utcnow
from crmkit.entities.types import EntityType
from crmkit.errors import ConfigError
from crmkit.privacy.config import WHERE
from crmkit.privacy.consent import raise_consent_event
from crmkit.privacy.entities import ConsentRecord
from crmkit.privacy.erasure import blank_value
from crmkit.privacy.facts import GRANTED, WITHDRAWN, consent_state
from crmkit.storage.query import AllOf, AnyOf, Cond, Filter, Query

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage.base import Row, StorageReader, StorageTransaction
    from crmkit.uow import UnitOfWork

BATCH = 500
RETENTION_SOURCE = "retention"
_STAMPS = frozenset({"id", "created_at", "updated_at"})


@attrs.frozen
class KeyCounts:
    """What the sweep did (or would do) for one key of ``[privacy.retention]``.

    ``kind`` is ``entity`` or ``purpose``; ``cutoff`` is the moment before
    which records count as past their period of ``days``.
    """

    key: str
    kind: str
    days: int
    cutoff: dt.datetime
    deleted: int = 0
    anonymised: int = 0
    erased: int = 0
    lapsed: int = 0

    @property
    def total(self) -> int:
        return self.deleted + self.anonymised + self.erased + self.lapsed

    def as_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "total": self.total}


@attrs.frozen
class SweepReport:
    """The counts of one sweep, key by key; ``dry_run`` sweeps changed nothing."""

    at: dt.datetime
    dry_run: bool
    keys: tuple[KeyCounts, ...] = ()

    @property
    def total(self) -> int:
        return sum(k.total for k in self.keys)

    def __getitem__(self, key: str) -> KeyCounts:
        for counts in self.keys:
            if counts.key == key:
                return counts
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "dry_run": self.dry_run,
            "keys": [k.as_dict() for k in self.keys],
            "total": self.total,
        }


def sweep(
    crm: CRM,
    *,
    dry_run: bool = False,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> SweepReport:
    """Apply every retention period of the project as of ``now`` (default: the current time).

    ``actor`` (default: the CRM's actor) needs a role that allows ``audit``,
    and ``erase`` too when contacts are to be erased.
    """
    privacy = crm.privacy
    who = privacy.actor(actor)
    privacy.require("audit", actor=who)
    at = now or utcnow()
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()} given; use a timezone-aware one")
    at = at.astimezone(dt.UTC)
    # People first: who counts as gone quiet must not depend on what the sweep removes.
    periods = sorted(privacy.settings.retention.items(), key=lambda p: (p[0] != "contact", p[0]))
    if dry_run:
        with crm.backend.read() as reader:
            counts, _ = _apply(crm, reader, None, periods, at, who.name)
        return SweepReport(at, True, counts)
    with crm.unit_of_work(who.name) as uow:
        counts, people = _apply(crm, uow.tx, uow, periods, at, who.name)
        if people:
            privacy.require("erase", actor=who, uow=uow)
        report = SweepReport(at, False, counts)
        uow.audit(
            "privacy.sweep",
            reason="records past their [privacy.retention] period",
            details={
                "at": at,
                "total": report.total,
                "keys": {k.key: k.as_dict() for k in counts},
            },
        )
    for person in people:
        privacy.erase(person, actor=who.name)
    return report


def _apply(
    crm: CRM,
    reader: StorageReader,
    uow: UnitOfWork | None,
    periods: list[tuple[str, int]],
    at: dt.datetime,
    actor: str,
) -> tuple[tuple[KeyCounts, ...], list[str]]:
    """Count (and in ``uow``, carry out) each period; returns the people to erase."""
    tx = uow.tx if uow is not None else None
    people: list[str] = []
    counts: list[KeyCounts] = []
    for key, days in periods:
        cutoff = at - dt.timedelta(days=days)
        if key == "contact":
            people = people_past(crm, reader, cutoff)
            counts.append(KeyCounts(key, "entity", days, cutoff, erased=len(people)))
        elif key in crm.entity_types:
            deleted, anonymised = _sweep_records(crm.entity_type(key), reader, tx, cutoff)
            counts.append(KeyCounts(key, "entity", days, cutoff, deleted, anonymised))
        else:
            lapsed = _lapse_grants(crm, reader, uow, key, days, (cutoff, at), actor)
            counts.append(KeyCounts(key, "purpose", days, cutoff, lapsed=lapsed))
    return tuple(counts), people


# -- records of an entity type ------------------------------------------------------


def deletes_records(etype: EntityType) -> bool:
    """Whether retention removes whole records of ``etype`` rather than blanking fields."""
    links = [f for f in etype.fields if f.spec.ref == "contact"]
    judged = links or list(etype.fields)
    return any(f.spec.erase == "delete" for f in judged)


def blanked_fields(etype: EntityType) -> dict[str, Any]:
    """The fields a retention sweep blanks in records it keeps, with their blank values.

    Those declared ``anonymise``, and ``delete`` ones whose record stays because
    its link to the contact is kept; ``keep`` fields are never touched. Blank
    values are the ones erasure writes, so an expired record looks like an erased one.
    """
    return {
        info.name: blank_value(info)
        for info in etype.fields
        if info.name not in _STAMPS and info.spec.erase in ("anonymise", "delete")
    }


def _older_than(etype: EntityType, cutoff: dt.datetime) -> Cond:
    if "created_at" not in etype.field_names:
        raise ConfigError(
            f"{WHERE}.retention.{etype.name}: entity type {etype.name} (plugin {etype.plugin}) "
            "has no created_at field, so the age of its records is unknown; remove the key"
        )
    return Cond("created_at", "lt", cutoff)


def _sweep_records(
    etype: EntityType, reader: StorageReader, tx: StorageTransaction | None, cutoff: dt.datetime
) -> tuple[int, int]:
    """Delete or anonymise records of ``etype`` made before ``cutoff``: (deleted, anonymised)."""
    old = _older_than(etype, cutoff)
    if deletes_records(etype):
        return (reader.count(etype, old) if tx is None else tx.delete_where(etype, old)), 0
    blanks = blanked_fields(etype)
    if not blanks:
        return 0, 0
    not_blank: Filter = AnyOf(
        tuple(
            Cond(name, "isnull", False) if value is None else Cond(name, "ne", value)
            for name, value in blanks.items()
        )
    )
    stamp = {"updated_at": utcnow()} if "updated_at" in etype.field_names else {}
    anonymised = 0
    for page in _pages(reader, etype, AllOf((old, not_blank))):
        for row in page:
            if all(row[name] == value for name, value in blanks.items()):
                continue
            anonymised += 1
            if tx is not None:
                tx.update(etype, row["id"], {**blanks, **stamp})
    return 0, anonymised


def _pages(reader: StorageReader, etype: EntityType, where: Filter) -> Iterator[list[Row]]:
    """Rows matching ``where`` in id order, a batch at a time (safe while changing them)."""
    after: str | None = None
    while True:
        flt = where if after is None else AllOf((where, Cond("id", "gt", after)))
        page = reader.query(etype, Query(flt, ("id",), BATCH))
        if page:
            yield page
        if len(page) < BATCH:
            return
        after = page[-1]["id"]


# -- whole people -----------------------------------------------------------------


def people_past(crm: CRM, reader: StorageReader, cutoff: dt.datetime) -> list[str]:
    """Contacts unchanged since ``cutoff`` with no interaction since then, not yet erased."""
    contacts = crm.entity_type("contact")
    interactions = crm.entity_type("interaction")
    subjects = crm.entity_type("privacy.subject")
    found: list[str] = []
    for page in _pages(reader, contacts, Cond("updated_at", "lt", cutoff)):
        ids = [row["id"] for row in page]
        mine = Cond("contact_id", "in", ids)
        recent = reader.query(
            interactions,
            Query(AllOf((mine, Cond("occurred_at", "ge", cutoff))), ("id",), None),
        )
        erased = reader.query(
            subjects, Query(AllOf((mine, Cond("erased_at", "isnull", False))), ("id",), None)
        )
        keep = {r["contact_id"] for r in recent} | {r["contact_id"] for r in erased}
        found.extend(i for i in ids if i not in keep)
    return found


# -- consent grants ---------------------------------------------------------------


def _lapse_grants(
    crm: CRM,
    reader: StorageReader,
    uow: UnitOfWork | None,
    purpose: str,
    days: int,
    when: tuple[dt.datetime, dt.datetime],
    actor: str,
) -> int:
    """Withdraw every current grant for ``purpose`` given before the cutoff; the count.

    ``when`` is (cutoff, the sweep's time). A grant lapses only while it is the
    current state of its (contact, purpose, channel): one renewed or withdrawn
    since is left alone. Each lapse raises ``consent.withdrawn`` like any
    withdrawal, so subscribers (a mailing list sync) hear of it.
    """
    cutoff, at = when
    etype = crm.entity_type("privacy.consent")
    old_grants = AllOf(
        (
            Cond("purpose", "eq", purpose),
            Cond("status", "eq", GRANTED),
            Cond("created_at", "lt", cutoff),
        )
    )
    lapsed = 0
    for page in _pages(reader, etype, old_grants):
        current = _current_entries(reader, etype, purpose, {r["contact_id"] for r in page})
        for grant in page:
            entry = current.get((grant["contact_id"], grant["channel"]))
            if entry is None or entry["id"] != grant["id"]:
                continue
            lapsed += 1
            if uow is not None:
                _withdraw(uow, etype, grant, days, at, actor)
    return lapsed


def _withdraw(
    uow: UnitOfWork,
    etype: EntityType,
    grant: Mapping[str, Any],
    days: int,
    at: dt.datetime,
    actor: str,
) -> None:
    """Append the withdrawal that ends ``grant`` and raise its event."""
    entry = ConsentRecord(
        contact_id=grant["contact_id"],
        purpose=grant["purpose"],
        channel=grant["channel"],
        status=WITHDRAWN,
        lawful_basis=grant["lawful_basis"],
        source=RETENTION_SOURCE,
        evidence=f"[privacy.retention] {grant['purpose']} = {days} days passed since the grant",
        actor=actor,
        created_at=at,
        updated_at=at,
    )
    uow.tx.add(etype, etype.to_row(entry))
    raise_consent_event(uow, entry)


def _current_entries(
    reader: StorageReader, etype: EntityType, purpose: str, people: set[str]
) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The current ledger entry of ``purpose`` per (contact, channel) for these people."""
    rows = reader.query(
        etype,
        Query(
            AllOf((Cond("contact_id", "in", sorted(people)), Cond("purpose", "eq", purpose))),
            ("id",),
            None,
        ),
    )
    ledgers: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        ledgers[row["contact_id"]].append(row)
    current: dict[tuple[str, str], Mapping[str, Any]] = {}
    for person, entries in ledgers.items():
        for (_, channel), entry in consent_state(entries).items():
            current[(person, channel)] = entry
    return current
