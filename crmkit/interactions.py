"""Interactions: touchpoints on a contact's timeline, from any channel or plugin.

Logging one is a write about the person (refused while their processing is
restricted or after erasure); reading the timeline masks what the actor may
not see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crmkit.contacts import contact_row
from crmkit.entities.core import CHANNELS, DIRECTIONS, Interaction
from crmkit.entities.types import EntityType
from crmkit.errors import NotFound, ValidationError
from crmkit.privacy.processing import ReadCheck
from crmkit.repository import Service
from crmkit.serialize import to_jsonable
from crmkit.storage.query import AllOf, Cond, Query

if TYPE_CHECKING:
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork


class Interactions(Service):
    """The timeline: what happened with a contact, newest first."""

    @property
    def _etype(self) -> EntityType:
        return self._crm.entity_type("interaction")

    def log(
        self,
        contact: str,
        *,
        channel: str,
        kind: str = "note",
        summary: str | None = None,
        direction: str = "inbound",
        occurred_at: dt.datetime | str | None = None,
        payload: Mapping[str, Any] | None = None,
        source: str = "crmkit",
    ) -> Interaction:
        """Record an interaction on a contact's timeline (contact by id or email).

        ``channel`` is one of email, phone, sms, chat, social, in_person, post,
        web, partner or system (an entry a plugin records about the customer, such
        as a deal won); ``direction`` inbound, outbound or internal. Refused
        (:class:`~crmkit.errors.PolicyDenied`) while the person's processing is
        restricted or after they were erased.
        """
        if channel not in CHANNELS:
            raise ValidationError(
                "interaction",
                "channel",
                f"{channel!r} is not a channel; use one of " + ", ".join(CHANNELS),
            )
        if direction not in DIRECTIONS:
            raise ValidationError(
                "interaction", "direction", f"{direction!r} is not one of " + ", ".join(DIRECTIONS)
            )

        def work(uow: UnitOfWork) -> Interaction:
            who = contact_row(uow.tx, self._crm.entity_type("contact"), contact)
            if who is None:
                raise NotFound("contact", contact)
            self._crm.privacy.require(
                "write", actor=uow.actor, subject_id=who["id"], entity="interaction", uow=uow
            )
            values: dict[str, Any] = {
                "contact_id": who["id"],
                "channel": channel,
                "kind": kind,
                "summary": summary,
                "direction": direction,
                "payload": dict(payload or {}),
                "source": source,
            }
            if occurred_at is not None:
                values["occurred_at"] = occurred_at
            row = self._crm.rules("interaction").clean(values)
            item = Interaction(**row)
            uow.tx.add(self._etype, self._etype.to_row(item))
            uow.raise_event(
                "interaction.logged",
                {"interaction": to_jsonable(item)},
                subject_id=who["id"],
            )
            return item

        return self._write(work)

    def timeline(
        self,
        contact: str,
        *,
        limit: int | None = 50,
        before: dt.datetime | None = None,
        channel: str | None = None,
    ) -> list[Interaction]:
        """A contact's interactions, newest first (page back with ``before``).

        Fields the actor may not see come back as :class:`~crmkit.privacy.Masked` values.
        """
        contact_type, etype = self._crm.entity_type("contact"), self._etype
        check = ReadCheck(self._crm, self._uow.actor if self._uow is not None else None)
        subject: list[str] = []

        def read(reader: StorageReader) -> list[Interaction]:
            who = contact_row(reader, contact_type, contact)
            if who is None:
                raise NotFound("contact", contact)
            subject.append(who["id"])
            if not check.decide(reader, etype, who["id"]).allowed:
                return []
            return latest_interactions(reader, etype, who["id"], limit, before, channel)

        items = self._reading(read)
        check.enforce(self._uow)
        if not check.needs_rows(etype):
            return items
        shown = [Interaction(**check.show(etype, etype.to_row(item))) for item in items]
        check.audit(self._uow, subject_id=subject[0], contacts=1)
        return shown


def latest_interactions(
    reader: StorageReader,
    etype: EntityType,
    contact_id: str,
    limit: int | None,
    before: dt.datetime | None = None,
    channel: str | None = None,
) -> list[Interaction]:
    """The newest interactions of a contact (ties broken by id, newest first)."""
    conds = [Cond("contact_id", "eq", contact_id)]
    if before is not None:
        conds.append(Cond("occurred_at", "lt", before))
    if channel is not None:
        conds.append(Cond("channel", "eq", channel))
    flt = conds[0] if len(conds) == 1 else AllOf(tuple(conds))
    rows = reader.query(etype, Query(flt, ("-occurred_at", "-id"), limit))
    return [Interaction(**r) for r in rows]
