"""Events: frozen records of something that happened, with a stable dotted name."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import attrs

from crmkit.entities.base import utcnow
from crmkit.ids import new_id

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@attrs.frozen
class EventType:
    """A kind of event a plugin (or the core) raises.

    ``name`` is stable and dotted (``sales.deal.won``); ``version`` is the
    payload version, bumped when the payload's shape changes.
    """

    name: str
    version: int = 1
    description: str = ""
    subject: str | None = "contact"

    def __attrs_post_init__(self) -> None:
        if not EVENT_NAME.match(self.name):
            raise ValueError(
                f"event name {self.name!r} must be dotted lowercase words, e.g. 'sales.deal.won'"
            )


@attrs.frozen
class Event:
    """Something that happened, delivered to subscribers after commit.

    ``subject_id`` is the contact (or other record) the event is about, so a
    person's events can be found for export and erasure.
    """

    name: str
    payload: Mapping[str, Any] = attrs.field(factory=dict)
    subject_id: str | None = None
    actor: str | None = None
    version: int = 1
    id: str = attrs.field(factory=new_id)
    occurred_at: dt.datetime = attrs.field(factory=utcnow)


CORE_EVENT_TYPES: tuple[EventType, ...] = (
    EventType("contact.created", description="A contact was added."),
    EventType("contact.updated", description="Fields of a contact changed; payload: changes."),
    EventType("contact.deleted", description="A contact and its timeline were deleted."),
    EventType(
        "contact.imported",
        description="A batch of contacts was bulk-added; payload: ids, count, source.",
        subject=None,
    ),
    EventType("contact.linked", description="A contact was linked to an organization."),
    EventType("contact.unlinked", description="A contact's link to an organization ended."),
    EventType("organization.created", subject="organization"),
    EventType("organization.updated", subject="organization"),
    EventType("organization.deleted", subject="organization"),
    EventType("interaction.logged", description="An interaction was logged on a timeline."),
    EventType(
        "privacy.erased",
        description="A person was erased; payload: contact_id and counts per entity type.",
    ),
    EventType(
        "privacy.restricted",
        description="Processing of a person was restricted; payload: contact_id, reason.",
    ),
    EventType(
        "privacy.restriction_lifted",
        description="A restriction of processing ended; payload: contact_id.",
    ),
    EventType(
        "consent.granted",
        description="Consent was granted or a double opt-in confirmed; payload: record_id, "
        "contact_id, purpose, channel, status, lawful_basis (confirms: the pending entry).",
    ),
    EventType(
        "consent.withdrawn",
        description="Consent was withdrawn; payload: record_id, contact_id, purpose, channel, "
        "status, lawful_basis.",
    ),
    EventType(
        "consent.requested",
        description="A double opt-in was requested; payload: record_id, contact_id, purpose, "
        "channel, status, lawful_basis, expires_at.",
    ),
)
