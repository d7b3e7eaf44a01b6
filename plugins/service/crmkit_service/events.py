"""The events the service plugin raises, with the payload keys each one carries.

Every event's subject is the contact the ticket is about (``subject_id``), or
none for a ticket without one; ``uow.record_activity`` raises
them and puts the contact's ones on the timeline.
"""

from __future__ import annotations

from crmkit.events import EventType


def _event(name: str, description: str) -> EventType:
    return EventType(name, description=description)


EVENT_TYPES: list[EventType] = [
    _event(
        "service.ticket.created",
        "A ticket was opened; payload: ticket_id, key, channel, priority, status, team, "
        "tier, sla_policy, first_response_due, resolution_due.",
    ),
    _event(
        "service.ticket.updated", "A ticket's fields changed; payload: ticket_id, key, changed."
    ),
    _event(
        "service.ticket.assigned",
        "A ticket was given to an agent or team; payload: ticket_id, key, team, assignee, "
        "previous_assignee, method.",
    ),
    _event(
        "service.ticket.status_changed",
        "A ticket moved between statuses; payload: ticket_id, key, from_status, to_status.",
    ),
    _event(
        "service.ticket.reopened",
        "A resolved or closed ticket was opened again; payload: ticket_id, key, "
        "previous_status, reopened_count.",
    ),
    _event(
        "service.message.received",
        "A customer's message was added to a ticket; payload: ticket_id, key, message_id, channel.",
    ),
    _event(
        "service.message.sent",
        "A reply was sent to the customer; payload: ticket_id, key, message_id, author.",
    ),
    _event(
        "service.message.noted",
        "An internal note was added to a ticket; payload: ticket_id, key, message_id, author.",
    ),
    _event(
        "service.intake.rejected",
        "An incoming message could not become a ticket; payload: rejected_id, reason, source.",
    ),
    _event(
        "service.sla.warning",
        "An SLA target is close to being missed; payload: ticket_id, key, target, due, "
        "remaining_seconds.",
    ),
    _event(
        "service.sla.breached",
        "An SLA target was missed; payload: ticket_id, key, target, due, breached_at.",
    ),
    _event(
        "service.escalation.applied",
        "An escalation rule acted on a ticket; payload: ticket_id, key, when, target, action.",
    ),
    _event(
        "service.csat.recorded",
        "A customer rated a ticket; payload: ticket_id, key, feedback_id, csat, nps.",
    ),
    _event(
        "service.article.linked",
        "A knowledge-base article was linked to a ticket; payload: ticket_id, key, "
        "article_id, slug.",
    ),
]

EVENT_NAMES: frozenset[str] = frozenset(e.name for e in EVENT_TYPES)
