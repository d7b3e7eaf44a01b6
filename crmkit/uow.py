"""The unit of work: several writes in one transaction, events after commit.

Events raised inside a unit of work go to the outbox in the same transaction
as the data. Only after the commit succeeds are they handed to subscribers; if
anything fails before that, nothing is kept and no subscriber hears of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from crmkit.events.model import Event
from crmkit.serialize import to_jsonable
from crmkit.storage.base import StorageTransaction, StoredEvent

if TYPE_CHECKING:
    from crmkit.contacts import Contacts
    from crmkit.crm import CRM
    from crmkit.interactions import Interactions
    from crmkit.organizations import Organizations


class UnitOfWork:
    """One transaction on a CRM; use it as a context manager.

    ``uow.contacts``, ``uow.organizations`` and ``uow.interactions`` work
    inside this transaction; ``uow.tx`` is the raw storage transaction that
    plugins use for their own entity types.
    """

    def __init__(self, crm: CRM, actor: str | None = None) -> None:
        self.crm = crm
        self.actor = actor
        self.events: list[Event] = []
        self.denials: list[dict[str, Any]] = []
        """Privacy denials to audit; kept even when the unit of work rolls back."""
        self._cm: AbstractContextManager[StorageTransaction] | None = None
        self._tx: StorageTransaction | None = None

    @property
    def tx(self) -> StorageTransaction:
        if self._tx is None:
            raise RuntimeError("the unit of work is not open; use it in a 'with' block")
        return self._tx

    def __enter__(self) -> UnitOfWork:
        self._cm = self.crm.backend.begin()
        self._tx = self._cm.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._cm is not None
        cm, self._cm = self._cm, None
        denials, self.denials = self.denials, []
        try:
            if exc_type is None:
                if self.events:
                    self.tx.append_events([_stored(e) for e in self.events])
                for denial in denials:
                    self.crm.privacy.audit_append(self.tx, **denial)
                denials = []
        except BaseException as failure:
            cm.__exit__(type(failure), failure, failure.__traceback__)
            self._tx = None
            self._audit_after_rollback(denials)
            raise
        try:
            cm.__exit__(exc_type, exc, tb)
        finally:
            self._tx = None
            if exc_type is not None:
                self._audit_after_rollback(denials)
        if exc_type is None and self.events:
            events, self.events = self.events, []
            self.crm.events.deliver(events)

    def _audit_after_rollback(self, denials: list[dict[str, Any]]) -> None:
        """Keep the record of denied requests although the work they stopped was undone."""
        if denials:
            self.crm.privacy.write_audit(denials)

    def audit(
        self,
        action: str,
        *,
        subject_id: str | None = None,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
        purpose: str | None = None,
        channel: str | None = None,
    ) -> None:
        """Add a privacy audit entry by this unit of work's actor, in its transaction."""
        self.crm.privacy.audit_append(
            self.tx,
            actor=self.crm.privacy.actor(self.actor).name,
            action=action,
            subject_id=subject_id,
            reason=reason,
            details=details,
            purpose=purpose,
            channel=channel,
        )

    def raise_event(
        self, name: str, payload: Mapping[str, Any] | None = None, *, subject_id: str | None = None
    ) -> Event:
        """Record an event to be written with this transaction and delivered after it."""
        etype = self.crm.events.bus.check_name(name)
        event = Event(
            name=name,
            payload=dict(payload or {}),
            subject_id=subject_id,
            actor=self.actor,
            version=etype.version,
        )
        self.events.append(event)
        return event

    def record_activity(
        self,
        name: str,
        payload: Mapping[str, Any] | None = None,
        *,
        contact_id: str | None,
        summary: str,
        channel: str = "system",
        direction: str = "internal",
    ) -> Event:
        """Raise event ``name`` about a contact and put the same fact on their timeline.

        What a plugin does about a person (a deal won, a ticket answered) belongs
        on the event bus and on that person's timeline, stored together with the
        change or not at all. With ``contact_id`` an interaction is logged in this
        unit of work: kind = the event name without its namespace (``deal.won``
        for ``sales.deal.won``), source = the namespace (``sales``), the given
        ``channel`` and ``direction``, and the event payload. Logging asks the
        privacy policy for a write about the person, so an erased or restricted
        person is refused (:class:`~crmkit.errors.PolicyDenied`). Without a
        contact only the event is raised.
        """
        data = to_jsonable(dict(payload or {}))
        if contact_id is not None:
            namespace, _, kind = name.partition(".")
            self.interactions.log(
                contact_id,
                channel=channel,
                direction=direction,
                kind=kind or name,
                summary=summary,
                payload=data,
                source=namespace,
            )
        return self.raise_event(name, data, subject_id=contact_id)

    @property
    def contacts(self) -> Contacts:
        from crmkit.contacts import Contacts

        return Contacts(self.crm, self)

    @property
    def organizations(self) -> Organizations:
        from crmkit.organizations import Organizations

        return Organizations(self.crm, self)

    @property
    def interactions(self) -> Interactions:
        from crmkit.interactions import Interactions

        return Interactions(self.crm, self)


def _stored(event: Event) -> StoredEvent:
    return StoredEvent(
        id=event.id,
        name=event.name,
        version=event.version,
        occurred_at=event.occurred_at,
        actor=event.actor,
        subject_id=event.subject_id,
        payload=_jsonable_payload(event.payload),
    )


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``to_jsonable(dict(payload))``, without walking lists of plain values item by item.

    Bulk events carry every id they are about (200,000 for a large import),
    and those lists need no conversion, only a copy.
    """
    out: dict[str, Any] = {}
    for key, value in payload.items():
        kind = type(value)
        if kind in _PLAIN:
            out[str(key)] = value
        elif kind is list and all(type(item) in _PLAIN for item in value):
            out[str(key)] = value.copy()
        else:
            out[str(key)] = to_jsonable(value)
    return out
