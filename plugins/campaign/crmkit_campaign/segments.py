"""Segments: who a campaign reaches, as a rule tree over contacts or a frozen list.

The rules are written and checked as :mod:`crmkit_campaign.segment_rules`
describes. A dynamic segment is worked out again at every use; a static one
keeps the members its last :meth:`Segments.snapshot` found.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.errors import DuplicateError, ValidationError
from crmkit.storage import AllOf, Cond, Query
from crmkit_campaign.entities import SEGMENT_KINDS, Segment, SegmentMember
from crmkit_campaign.records import find_segment
from crmkit_campaign.segment_rules import ENTITY, MEMBER_ENTITY, compile_rules, segment_filter

if TYPE_CHECKING:
    from crmkit.contacts import Contacts
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit.entities.types import EntityType
    from crmkit.storage import Filter, StorageReader
    from crmkit.uow import UnitOfWork

__all__ = ["Preview", "Segments", "Snapshot", "compile_rules", "segment_filter"]

PAGE = 1000


@attrs.frozen
class Preview:
    """How many contacts a segment holds now, and the first few by name."""

    count: int
    sample: tuple[Contact, ...]
    segment: Segment


@attrs.frozen
class Snapshot:
    """A static segment after a snapshot: its member count and how the list changed."""

    segment: Segment
    members: int
    added: int
    removed: int


class Segments:
    """Define, find, preview and freeze the segments campaigns are sent to."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    @property
    def _etype(self) -> EntityType:
        return self._crm.entity_type(ENTITY)

    def create(
        self,
        name: str,
        rules: Mapping[str, Any],
        *,
        kind: str = "dynamic",
        description: str | None = None,
        actor: str | None = None,
    ) -> Segment:
        """Define a segment; a static one takes its first snapshot at once.

        The rules are checked first (:func:`compile_rules`); a name already used
        is a :class:`~crmkit.errors.DuplicateError`. Event
        ``campaign.segment.created`` (and ``campaign.segment.snapshot``).
        """
        name = name.strip() if isinstance(name, str) else name
        if not name or not isinstance(name, str):
            raise ValidationError(ENTITY, "name", "a segment needs a name")
        if kind not in SEGMENT_KINDS:
            raise ValidationError(ENTITY, "kind", f"{kind!r}: use {' or '.join(SEGMENT_KINDS)}")
        if not isinstance(rules, Mapping):
            raise ValidationError(ENTITY, "rules", "give a rule tree such as {'all': [...]}")
        compile_rules(self._crm, rules)
        etype = self._etype
        with self._crm.unit_of_work(actor) as uow:
            self._crm.privacy.require("write", actor=uow.actor, entity=ENTITY, uow=uow)
            if uow.tx.get_by(etype, "name", name) is not None:
                raise DuplicateError(ENTITY, "name", f"a segment named {name!r} already exists")
            segment = Segment(name=name, description=description, rules=dict(rules), kind=kind)
            uow.tx.add(etype, etype.to_row(segment))
            uow.raise_event(
                "campaign.segment.created",
                {"segment_id": segment.id, "name": name, "kind": kind},
            )
            if kind == "static":
                segment = self._snapshot(uow, segment).segment
        return segment

    def get(self, ref: str) -> Segment:
        """The segment with this id or name; :class:`~crmkit.errors.NotFound` if none."""
        with self._crm.backend.read() as reader:
            return self._get(reader, ref)

    def _get(self, reader: StorageReader, ref: str) -> Segment:
        return find_segment(reader, self._crm, ref)

    def list(self) -> list[Segment]:
        """Every segment, by name."""
        etype = self._etype
        with self._crm.backend.read() as reader:
            rows = reader.query(etype, Query(order_by=("name",)))
        return [Segment(**row) for row in rows]

    def preview(
        self,
        ref: str,
        *,
        sample: int = 10,
        actor: str | None = None,
        now: dt.datetime | None = None,
    ) -> Preview:
        """How many contacts the segment holds now and the first ``sample`` by name.

        The count is one SQL count; the sample is read through the contacts
        service, so what ``actor`` may not see comes back masked. ``now``
        (default: the clock) anchors the rules' ``within_days``.
        """
        if sample < 0:
            raise ValidationError(ENTITY, None, f"sample {sample}: give 0 or more")
        with self._crm.backend.read() as reader:
            segment = self._get(reader, ref)
            flt = segment_filter(self._crm, reader, segment, now=now)
        if actor is None:
            return self._preview(self._crm.contacts, segment, flt, sample)
        with self._crm.unit_of_work(actor) as uow:
            return self._preview(uow.contacts, segment, flt, sample)

    @staticmethod
    def _preview(contacts: Contacts, segment: Segment, flt: Filter, sample: int) -> Preview:
        count = contacts.count(where=[flt])
        shown = contacts.list(where=[flt], limit=sample) if sample else []
        return Preview(count, tuple(shown), segment)

    def member_ids(
        self,
        reader: StorageReader,
        segment: Segment,
        *,
        after_id: str | None = None,
        limit: int = PAGE,
        now: dt.datetime | None = None,
    ) -> builtins.list[str]:
        """Up to ``limit`` member ids after ``after_id``, in id order (one SQL query a page)."""
        flt = segment_filter(self._crm, reader, segment, now=now)
        return self._member_page(reader, flt, after_id, limit)

    def _member_page(
        self, reader: StorageReader, members: Filter, after_id: str | None, limit: int
    ) -> builtins.list[str]:
        where = members if after_id is None else AllOf((members, Cond("id", "gt", after_id)))
        rows = reader.query(
            self._crm.entity_type("contact"), Query(where=where, order_by=("id",), limit=limit)
        )
        return [row["id"] for row in rows]

    def iter_member_ids(
        self,
        reader: StorageReader,
        segment: Segment,
        *,
        page: int = PAGE,
        now: dt.datetime | None = None,
    ) -> Iterator[builtins.list[str]]:
        """Every member id, in pages of ``page`` ids in id order, all as of one ``now``."""
        members = segment_filter(self._crm, reader, segment, now=now or utcnow())
        after: str | None = None
        while True:
            ids = self._member_page(reader, members, after, page)
            if ids:
                yield ids
            if len(ids) < page:
                return
            after = ids[-1]

    def snapshot(self, ref: str, *, actor: str | None = None) -> Snapshot:
        """Replace a static segment's members with the contacts its rules match now.

        One unit of work: the old list is deleted and the new one written in
        bulk, so a failure leaves the previous list in place. Event
        ``campaign.segment.snapshot`` with the member count and the change.
        """
        with self._crm.unit_of_work(actor) as uow:
            segment = self._get(uow.tx, ref)
            if segment.kind != "static":
                raise ValidationError(
                    ENTITY,
                    "kind",
                    f"segment {segment.name!r} is dynamic: its members are worked out at "
                    "every use; create a static segment (--static) to freeze a list",
                )
            return self._snapshot(uow, segment)

    def _snapshot(self, uow: UnitOfWork, segment: Segment) -> Snapshot:
        crm = self._crm
        member_type = crm.entity_type(MEMBER_ENTITY)
        crm.privacy.require("write", actor=uow.actor, entity=MEMBER_ENTITY, uow=uow)
        tx = uow.tx
        old = {
            row["contact_id"]
            for row in tx.query(member_type, Query(where=Cond("segment_id", "eq", segment.id)))
        }
        dynamic = attrs.evolve(segment, kind="dynamic")
        new: set[str] = set()
        for ids in self.iter_member_ids(tx, dynamic):
            new.update(ids)
        tx.delete_where(member_type, Cond("segment_id", "eq", segment.id))
        rows = [
            member_type.to_row(
                SegmentMember(segment_id=segment.id, contact_id=cid, key=f"{segment.id}:{cid}")
            )
            for cid in sorted(new)
        ]
        for start in range(0, len(rows), PAGE * 5):
            tx.add_many(member_type, rows[start : start + PAGE * 5])
        now = utcnow()
        tx.update(self._etype, segment.id, {"snapshot_at": now, "updated_at": now})
        uow.raise_event(
            "campaign.segment.snapshot",
            {
                "segment_id": segment.id,
                "name": segment.name,
                "members": len(new),
                "added": len(new - old),
                "removed": len(old - new),
            },
        )
        return Snapshot(
            attrs.evolve(segment, snapshot_at=now, updated_at=now),
            len(new),
            len(new - old),
            len(old - new),
        )
