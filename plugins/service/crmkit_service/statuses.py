"""A ticket's status and what moving it does to the SLA clock.

Statuses move only along these lines; anything else is refused naming the moves
that are allowed::

    new      -> open, waiting, resolved
    open     -> waiting, resolved
    waiting  -> open, resolved          (waiting pauses the resolution clock;
    resolved -> closed, reopened         leaving waiting resumes it)
    closed   -> reopened
    reopened -> open, waiting, resolved (reopening restarts the resolution clock)
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from crmkit.errors import ValidationError
from crmkit_service import sla
from crmkit_service.entities import STATUSES, Ticket
from crmkit_service.settings import ServiceSettings, service_settings
from crmkit_service.ticket_records import TICKET, require_contact, save_ticket, ticket_ref
from crmkit_service.values import aware_time, choice

if TYPE_CHECKING:
    from crmkit.uow import UnitOfWork

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("open", "waiting", "resolved"),
    "open": ("waiting", "resolved"),
    "waiting": ("open", "resolved"),
    "resolved": ("closed", "reopened"),
    "closed": ("reopened",),
    "reopened": ("open", "waiting", "resolved"),
}
"""The statuses each status may move to."""


def status_effects(
    settings: ServiceSettings, ticket: Ticket, to: str, at: dt.datetime
) -> dict[str, Any]:
    """What moving ``ticket`` to status ``to`` at ``at`` changes besides the status."""
    policy = sla.policy_of(settings, ticket)
    changes: dict[str, Any] = {}
    if ticket.status == "waiting" and ticket.paused_at is not None and policy is not None:
        changes.update(sla.resume(ticket, policy.calendar, at))
    if to == "waiting" and policy is not None:
        changes.update(sla.pause(ticket, policy.calendar, at))
    elif to == "resolved":
        changes["resolved_at"] = at
    elif to == "closed":
        changes["closed_at"] = at
    elif to == "reopened":
        changes.update(
            reopened_count=ticket.reopened_count + 1,
            resolved_at=None,
            closed_at=None,
            paused_at=None,
            resolution_remaining=None,
            resolution_breached_at=None,
            resolution_warned_at=None,
        )
        if policy is not None:
            changes["resolution_due"] = policy.calendar.add(sla.clock_time(at), policy.resolution)
    return changes


def change_status(
    uow: UnitOfWork, ticket: Ticket, to: str, *, at: dt.datetime | None = None
) -> Ticket:
    """Move ``ticket`` to status ``to`` inside ``uow``, with its effects on the SLA clock.

    An unknown status, the current one, or a move :data:`TRANSITIONS` does not
    allow is refused with :class:`ValidationError` naming the allowed moves.
    Raises ``service.ticket.status_changed`` (and ``service.ticket.reopened``).
    """
    target = choice(to, STATUSES, TICKET, "status", ticket.key)
    allowed = TRANSITIONS[ticket.status]
    if target not in allowed:
        already = (
            f"{ticket.key} is already {target}"
            if target == ticket.status
            else (f"{ticket.key} cannot move from {ticket.status} to {target}")
        )
        raise ValidationError(
            TICKET,
            "status",
            f"{already}; from {ticket.status} it can move to {', '.join(allowed)}",
            record=ticket.key,
        )
    when = aware_time(at, TICKET, "status")
    require_contact(uow, ticket.contact_id)
    previous = ticket.status
    changes = status_effects(service_settings(uow.crm), ticket, target, when)
    save_ticket(uow, ticket, {**changes, "status": target})
    uow.record_activity(
        "service.ticket.status_changed",
        ticket_ref(ticket, from_status=previous, to_status=target),
        contact_id=ticket.contact_id,
        summary=f"{ticket.key} {previous} -> {target}",
    )
    if target == "reopened":
        uow.record_activity(
            "service.ticket.reopened",
            ticket_ref(ticket, previous_status=previous, reopened_count=ticket.reopened_count),
            contact_id=ticket.contact_id,
            summary=f"{ticket.key} reopened",
        )
    return ticket
