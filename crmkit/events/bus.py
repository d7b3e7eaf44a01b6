"""The event bus: subscribers by name or pattern, resolved once per event name.

Dispatch happens after a unit of work commits. Each subscriber runs in
isolation: an exception is caught, recorded as a delivery failure (with the
event still in the outbox) and retried on request; the others still run.
"""

from __future__ import annotations

import fnmatch
import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from crmkit.errors import EventError
from crmkit.events.model import EVENT_NAME, Event, EventType

Handler = Callable[[Event], Any]
log = logging.getLogger("crmkit.events")


@attrs.frozen
class Subscription:
    """A handler for every event whose name matches ``pattern`` (fnmatch style)."""

    pattern: str
    handler: Handler
    owner: str = "app"

    @property
    def qualified_name(self) -> str:
        """``owner:module.function`` — how failures name the subscriber."""
        fn = self.handler
        module = getattr(fn, "__module__", "?")
        name = getattr(fn, "__qualname__", repr(fn))
        return f"{self.owner}:{module}.{name}"


@attrs.frozen
class Failure:
    """A subscriber that raised on an event (before it is stored)."""

    event: Event
    subscription: Subscription
    error: str


class EventBus:
    """Subscriptions of one CRM and the per-name dispatch table built from them."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._types: dict[str, EventType] = {}
        self._table: dict[str, tuple[Subscription, ...]] = {}

    # -- event types ------------------------------------------------------
    def register_type(self, etype: EventType) -> None:
        known = self._types.get(etype.name)
        if known is not None and known != etype:
            raise EventError(f"event type {etype.name!r} is registered twice with different shapes")
        self._types[etype.name] = etype

    @property
    def types(self) -> dict[str, EventType]:
        return dict(self._types)

    def check_name(self, name: str) -> EventType:
        """The registered type of ``name``; raising for unknown names catches typos."""
        etype = self._types.get(name)
        if etype is None:
            raise EventError(
                f"event {name!r} is not registered; register it through crmkit_register_event_types"
            )
        return etype

    # -- subscriptions ----------------------------------------------------
    def subscribe(self, pattern: str, handler: Handler, *, owner: str = "app") -> Subscription:
        """Call ``handler`` after commit for every event matching ``pattern``.

        ``pattern`` is an event name (``contact.created``) or a glob
        (``contact.*``, ``*``).
        """
        probe = pattern.replace("*", "x").replace("?", "x")
        if pattern != "*" and not EVENT_NAME.match(probe) and "[" not in pattern:
            raise EventError(f"subscriber pattern {pattern!r} is not an event name or glob")
        sub = Subscription(pattern, handler, owner)
        self._subscriptions.append(sub)
        self._table.clear()
        return sub

    def subscriber(self, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`subscribe`."""

        def register(handler: Handler) -> Handler:
            self.subscribe(pattern, handler)
            return handler

        return register

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.remove(sub)
        self._table.clear()

    def subscriptions_for(self, name: str) -> tuple[Subscription, ...]:
        """The subscriptions matching ``name``, cached until subscriptions change."""
        subs = self._table.get(name)
        if subs is None:
            subs = tuple(s for s in self._subscriptions if fnmatch.fnmatchcase(name, s.pattern))
            self._table[name] = subs
        return subs

    # -- dispatch ---------------------------------------------------------
    def dispatch(self, events: Iterable[Event]) -> list[Failure]:
        """Deliver ``events`` in order; return the failures instead of raising."""
        failures: list[Failure] = []
        table = self._table
        for event in events:
            subs = table.get(event.name)
            if subs is None:
                subs = self.subscriptions_for(event.name)
            for sub in subs:
                try:
                    sub.handler(event)
                except Exception as exc:
                    log.warning(
                        "subscriber %s failed on %s: %r", sub.qualified_name, event.name, exc
                    )
                    failures.append(Failure(event, sub, _describe(exc)))
        return failures

    @staticmethod
    def run_one(sub: Subscription, event: Event) -> str | None:
        """Run one subscriber on one event; the error text, or ``None`` on success."""
        try:
            sub.handler(event)
        except Exception as exc:
            return _describe(exc)
        return None

    def find(self, qualified_name: str, event_name: str) -> Subscription | None:
        """The subscription with this qualified name that receives ``event_name``."""
        for sub in self.subscriptions_for(event_name):
            if sub.qualified_name == qualified_name:
                return sub
        return None


def _describe(exc: BaseException) -> str:
    lines = traceback.format_exception_only(type(exc), exc)
    return "".join(lines).strip()
