"""What the service plugin stores: tickets, their messages, agents, feedback and knowledge.

Privacy: a ticket is a record of the service given, so erasing its contact
blanks the link to them and the personal text (subject, description) and keeps
the ticket's numbers for the report. Messages, rejected intake and a person's
link to them are deleted with the person; feedback keeps its scores and loses
the link and the comment. Agents, canned replies and articles are the desk's
own material and hold nothing about customers.

Times are aware UTC datetimes. SLA due times are instants; business time left
while a ticket is paused (``resolution_remaining``) is whole seconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

import crmkit
from crmkit.entities import utcnow

CHANNELS: tuple[str, ...] = ("email", "phone", "chat", "web", "social")
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
STATUSES: tuple[str, ...] = ("new", "open", "waiting", "resolved", "closed", "reopened")
DIRECTIONS: tuple[str, ...] = ("inbound", "outbound", "note")
ASSIGNMENT_METHODS: tuple[str, ...] = ("round_robin", "least_open")


def _plain(default: Any = None, *, indexed: bool = False, unique: bool = False) -> Any:
    """A value that is not about a person, kept as it is when a person is erased."""
    return crmkit.field(
        default=default, privacy="none", erase="keep", indexed=indexed, unique=unique
    )


def _personal(*, indexed: bool = False, unique: bool = False) -> Any:
    """An optional personal value, blanked when its person is erased."""
    return crmkit.field(
        default=None, privacy="personal", erase="anonymise", indexed=indexed, unique=unique
    )


@crmkit.entity("service.ticket", description="A customer's request to the service desk.")
@attrs.define(kw_only=True)
class Ticket(crmkit.Entity):
    """A request: who asked, how urgent, who works on it, and its SLA clock."""

    key: str = crmkit.field(privacy="none", erase="keep", unique=True)
    subject: str = crmkit.field(privacy="personal", erase="anonymise")
    description: str | None = _personal()
    contact_id: str | None = crmkit.field(
        default=None, ref="contact", privacy="personal", erase="anonymise"
    )
    organization_id: str | None = _plain(indexed=True)
    channel: str = _plain("email")
    priority: str = _plain("normal", indexed=True)
    status: str = _plain("new", indexed=True)
    team: str | None = _plain(indexed=True)
    assignee: str | None = _plain(indexed=True)
    assigned_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")
    tags: list[str] = crmkit.field(factory=list, privacy="none", erase="keep")
    tier: str = _plain("standard")
    sla_policy: str | None = _plain()
    first_response_due: dt.datetime | None = crmkit.field(
        default=None, privacy="none", erase="keep", indexed=True
    )
    resolution_due: dt.datetime | None = crmkit.field(
        default=None, privacy="none", erase="keep", indexed=True
    )
    first_responded_at: dt.datetime | None = crmkit.field(
        default=None, privacy="none", erase="keep"
    )
    resolved_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")
    closed_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")
    paused_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")
    resolution_remaining: int | None = _plain()
    first_response_breached_at: dt.datetime | None = crmkit.field(
        default=None, privacy="none", erase="keep"
    )
    resolution_breached_at: dt.datetime | None = crmkit.field(
        default=None, privacy="none", erase="keep"
    )
    first_response_warned_at: dt.datetime | None = crmkit.field(
        default=None, privacy="none", erase="keep"
    )
    resolution_warned_at: dt.datetime | None = crmkit.field(
        default=None, privacy="none", erase="keep"
    )
    message_id: str | None = _personal(indexed=True)
    reopened_count: int = _plain(0)


@crmkit.entity("service.message", description="One message on a ticket's thread.")
@attrs.define(kw_only=True)
class Message(crmkit.Entity):
    """A message from the customer, a reply to them, or an internal note.

    ``message_id`` (the email's Message-ID) is unique in the database, so an
    email delivered twice at the same moment is stored once; messages without
    one (replies, notes, phone calls) leave it empty.
    """

    ticket_id: str = _plain(indexed=True)
    contact_id: str | None = crmkit.field(
        default=None, ref="contact", privacy="personal", erase="delete"
    )
    direction: str = _plain("inbound")
    author: str | None = _personal()
    body: str = crmkit.field(privacy="personal", erase="anonymise")
    message_id: str | None = _personal(unique=True)
    in_reply_to: str | None = _personal()
    attachments: list[dict[str, Any]] = crmkit.field(
        factory=list, privacy="personal", erase="anonymise"
    )
    occurred_at: dt.datetime = crmkit.field(factory=utcnow, privacy="none", erase="keep")


@crmkit.entity(
    "service.rejected_intake",
    description="An incoming message that could not become a ticket, kept for review.",
)
@attrs.define(kw_only=True)
class RejectedIntake(crmkit.Entity):
    """A message refused by intake, with the reason and the message as received.

    ``contact_id`` links it to the contact whose address sent it, when known,
    so export and erasure find it.
    """

    received_at: dt.datetime = crmkit.field(
        factory=utcnow, privacy="none", erase="keep", indexed=True
    )
    reason: str = crmkit.field(privacy="none", erase="keep")
    contact_id: str | None = crmkit.field(
        default=None, ref="contact", privacy="personal", erase="delete"
    )
    sender: str | None = crmkit.field(default=None, privacy="personal", erase="delete")
    subject: str | None = crmkit.field(default=None, privacy="personal", erase="delete")
    raw: str = crmkit.field(privacy="personal", erase="delete")
    source: str = _plain("stdin")


@crmkit.entity("service.agent", description="A person of the service desk who works tickets.")
@attrs.define(kw_only=True)
class Agent(crmkit.Entity):
    """An agent known by name, their team, and whether they take new tickets."""

    name: str = crmkit.field(privacy="none", erase="keep", unique=True)
    team: str | None = _plain(indexed=True)
    available: bool = _plain(True)


@crmkit.entity("service.csat", description="A customer's satisfaction (CSAT) and NPS answer.")
@attrs.define(kw_only=True)
class Feedback(crmkit.Entity):
    """How satisfied a customer was with a ticket (CSAT 1-5) and would recommend us (NPS 0-10).

    One answer per ticket: ``ticket_id`` is unique, so the database refuses a
    second answer even when two are recorded at the same moment.
    """

    ticket_id: str = _plain(unique=True)
    contact_id: str | None = crmkit.field(
        default=None, ref="contact", privacy="personal", erase="anonymise"
    )
    csat: int | None = _plain()
    nps: int | None = _plain()
    comment: str | None = _personal()
    recorded_at: dt.datetime = crmkit.field(factory=utcnow, privacy="none", erase="keep")


@crmkit.entity("service.canned_reply", description="A reusable reply with placeholders.")
@attrs.define(kw_only=True)
class CannedReply(crmkit.Entity):
    """A named reply text; placeholders are filled from the ticket when it is used."""

    name: str = crmkit.field(privacy="none", erase="keep", unique=True)
    body: str = crmkit.field(privacy="none", erase="keep")


@crmkit.entity("service.article", description="A knowledge-base article.")
@attrs.define(kw_only=True)
class Article(crmkit.Entity):
    """An article of the knowledge base, found by slug, words and tags."""

    slug: str = crmkit.field(privacy="none", erase="keep", unique=True)
    title: str = crmkit.field(privacy="none", erase="keep")
    body: str = crmkit.field(privacy="none", erase="keep")
    tags: list[str] = crmkit.field(factory=list, privacy="none", erase="keep")


@crmkit.entity("service.ticket_article", description="An article linked to a ticket.")
@attrs.define(kw_only=True)
class TicketArticle(crmkit.Entity):
    """A knowledge-base article that answered (or was sent for) a ticket."""

    ticket_id: str = _plain(indexed=True)
    article_id: str = _plain(indexed=True)


ENTITY_CLASSES: tuple[type, ...] = (
    Ticket,
    Message,
    RejectedIntake,
    Agent,
    Feedback,
    CannedReply,
    Article,
    TicketArticle,
)
