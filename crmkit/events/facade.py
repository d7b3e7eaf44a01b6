"""``crm.events``: subscribe, read the outbox, inspect and retry failed deliveries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from crmkit.entities.base import utcnow
from crmkit.events.bus import EventBus, Failure, Handler, Subscription
from crmkit.events.model import Event, EventType
from crmkit.ids import new_id
from crmkit.storage.base import DeliveryFailure, StoredEvent

if TYPE_CHECKING:
    from crmkit.storage.base import StorageBackend


def _from_stored(stored: StoredEvent) -> Event:
    return Event(
        name=stored.name,
        payload=stored.payload,
        subject_id=stored.subject_id,
        actor=stored.actor,
        version=stored.version,
        id=stored.id,
        occurred_at=stored.occurred_at,
    )


class Events:
    """The events side of one CRM."""

    def __init__(self, bus: EventBus, backend: StorageBackend) -> None:
        self.bus = bus
        self._backend = backend

    @property
    def types(self) -> dict[str, EventType]:
        """Registered event types by name."""
        return self.bus.types

    def subscribe(self, pattern: str, handler: Handler) -> Subscription:
        """Run ``handler(event)`` after commit for events matching ``pattern``."""
        return self.bus.subscribe(pattern, handler)

    def subscriber(self, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator: ``@crm.events.subscriber("contact.*")``."""
        return self.bus.subscriber(pattern)

    def unsubscribe(self, subscription: Subscription) -> None:
        self.bus.unsubscribe(subscription)

    def deliver(self, events: Sequence[Event]) -> list[Failure]:
        """Hand committed events to subscribers; record the failures for retry."""
        failures = self.bus.dispatch(events)
        if failures:
            self._record(failures)
        return failures

    def _record(self, failures: Sequence[Failure]) -> None:
        now = utcnow()
        with self._backend.begin() as tx:
            for f in failures:
                tx.record_failure(
                    DeliveryFailure(
                        id=new_id(),
                        event_id=f.event.id,
                        subscriber=f.subscription.qualified_name,
                        error=f.error,
                        attempts=1,
                        failed_at=now,
                    )
                )

    def read(
        self, *, after: str | None = None, limit: int = 1000, names: Sequence[str] = ()
    ) -> list[Event]:
        """Events from the outbox in commit-id order, after the id ``after``.

        This is the feed a relay to an external broker reads, keeping the last
        id it sent as its cursor.
        """
        with self._backend.begin() as tx:
            return [_from_stored(s) for s in tx.read_events(after=after, limit=limit, names=names)]

    def failures(self, *, unresolved_only: bool = True) -> list[DeliveryFailure]:
        """Deliveries that raised, oldest first."""
        with self._backend.begin() as tx:
            return tx.failures(unresolved_only=unresolved_only)

    def retry_failures(self) -> tuple[int, int]:
        """Run each failed delivery again; returns ``(succeeded, still_failing)``."""
        ok = failing = 0
        with self._backend.begin() as tx:
            pending = tx.failures(unresolved_only=True)
            stored = {s.id: s for s in tx.read_events(ids=[f.event_id for f in pending],
                                                      limit=len(pending) or 1)}
        for failure in pending:
            event = stored.get(failure.event_id)
            sub = self.bus.find(failure.subscriber, event.name) if event else None
            error: str | None
            if event is None:
                error = "the event is no longer in the outbox"
            elif sub is None:
                error = f"subscriber {failure.subscriber} is no longer registered"
            else:
                result = EventBus.run_one(sub, _from_stored(event))
                error = result
            with self._backend.begin() as tx:
                tx.resolve_failure(failure.id, attempts=failure.attempts + 1, error=error)
            if error is None:
                ok += 1
            else:
                failing += 1
        return ok, failing
