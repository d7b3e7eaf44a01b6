"""A ticket's thread: messages from the customer, replies to them, internal notes.

A message moves its ticket: a customer's message on a waiting ticket resumes
its clock (the ticket is open again) and one on a resolved or closed ticket
reopens it; the first reply to the customer marks the first response (and a new
or reopened ticket is open from then on); an internal note changes nothing but
the thread. Every message also shows on the contact's timeline, on the ticket's
channel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from crmkit.errors import ValidationError
from crmkit_service.entities import DIRECTIONS, Message, Ticket
from crmkit_service.statuses import change_status
from crmkit_service.ticket_records import (
    MESSAGE,
    message_type,
    require_contact,
    save_ticket,
    ticket_ref,
)
from crmkit_service.values import aware_time, choice

if TYPE_CHECKING:
    from crmkit.uow import UnitOfWork

MESSAGE_EVENTS: dict[str, tuple[str, str, str]] = {
    "inbound": ("service.message.received", "inbound", "Customer wrote on {key}"),
    "outbound": ("service.message.sent", "outbound", "Reply on {key} sent by {author}"),
    "note": ("service.message.noted", "internal", "Note on {key} by {author}"),
}
"""Per direction: the event, the direction on the timeline, and the timeline summary."""


def clean_attachments(values: Iterable[Mapping[str, Any]], record: str) -> list[dict[str, Any]]:
    """Attachments as ``{filename, content_type, size}`` dicts, checked."""
    cleaned: list[dict[str, Any]] = []
    for item in values:
        if not isinstance(item, Mapping) or not isinstance(item.get("filename"), str):
            raise ValidationError(
                MESSAGE,
                "attachments",
                f"{item!r}: each attachment needs a filename",
                record=record,
            )
        size = item.get("size", 0)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValidationError(
                MESSAGE,
                "attachments",
                f"{item['filename']}: size must be bytes (0 or more)",
                record=record,
            )
        content_type = item.get("content_type") or "application/octet-stream"
        cleaned.append(
            {"filename": item["filename"], "content_type": str(content_type), "size": size}
        )
    return cleaned


def thread_effects(uow: UnitOfWork, ticket: Ticket, direction: str, at: dt.datetime) -> None:
    """How a new message moves the ticket (see the module docstring)."""
    if direction == "inbound":
        if ticket.status == "waiting":
            change_status(uow, ticket, "open", at=at)
        elif ticket.status in ("resolved", "closed"):
            change_status(uow, ticket, "reopened", at=at)
    elif direction == "outbound":
        if ticket.first_responded_at is None:
            save_ticket(uow, ticket, {"first_responded_at": at})
        if ticket.status in ("new", "reopened"):
            change_status(uow, ticket, "open", at=at)


def add_message(
    uow: UnitOfWork,
    ticket: Ticket,
    *,
    direction: str,
    body: str,
    author: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    attachments: Iterable[Mapping[str, Any]] = (),
    occurred_at: dt.datetime | None = None,
) -> Message:
    """Add a message to ``ticket``'s thread inside ``uow`` and return it.

    ``direction`` is ``inbound`` (from the customer), ``outbound`` (a reply to
    them) or ``note`` (internal). The ticket moves as the module docstring says;
    the message is logged on the contact's timeline on the ticket's channel. A
    reply or note without ``author`` is signed with the actor's name.
    """
    kind = choice(direction, DIRECTIONS, MESSAGE, "direction", ticket.key)
    files = clean_attachments(attachments, ticket.key)
    text = body.strip() if isinstance(body, str) else ""
    if not text and not files:
        raise ValidationError(
            MESSAGE, "body", "a message needs some text (or an attachment)", record=ticket.key
        )
    require_contact(uow, ticket.contact_id)
    at = aware_time(occurred_at, MESSAGE, "occurred_at")
    writer = (
        author.strip()
        if author and author.strip()
        else (None if kind == "inbound" else uow.crm.privacy.actor(uow.actor).name)
    )
    message = Message(
        ticket_id=ticket.id,
        contact_id=ticket.contact_id,
        direction=kind,
        author=writer,
        body=text,
        message_id=message_id,
        in_reply_to=in_reply_to,
        attachments=files,
        occurred_at=at,
    )
    uow.tx.add(message_type(uow.crm), message_type(uow.crm).to_row(message))
    event, timeline_direction, summary = MESSAGE_EVENTS[kind]
    uow.record_activity(
        event,
        ticket_ref(ticket, message_id=message.id, channel=ticket.channel, author=writer),
        contact_id=ticket.contact_id,
        summary=summary.format(key=ticket.key, author=writer or "the desk"),
        channel=ticket.channel,
        direction=timeline_direction,
    )
    thread_effects(uow, ticket, kind, at)
    return message
