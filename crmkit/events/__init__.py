"""Events and the after-commit event bus."""

from crmkit.events.bus import EventBus, Subscription
from crmkit.events.model import CORE_EVENT_TYPES, Event, EventType

__all__ = ["CORE_EVENT_TYPES", "Event", "EventBus", "EventType", "Subscription"]
