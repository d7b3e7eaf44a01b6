"""The "Service" section of a contact's single customer view.

What a service agent wants to see first about one person: the tickets still
open for them, each with where its SLA stands (first response and resolution:
state, due time and business time left), how many tickets they have open and
how many were resolved, their last satisfaction answer and the last ticket
resolved for them.

Everything is read in one snapshot with four queries on indexed fields
(``contact_id``, ``status``, ``id``); nothing scans a table. Rows are shown as
the actor may see them, exactly as ``crmkit service tickets`` shows them: a
ticket's subject and a feedback comment are personal, so an actor who may not
see personal data gets them masked, and the masked fields are named in the
section's ``masked`` entry. An actor whom the policy does not let read this
person's tickets gets no section; one who may not read their feedback gets the
section without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import crmkit
from crmkit.entities import utcnow
from crmkit.privacy.processing import ReadCheck
from crmkit.storage.query import Aggregate, AllOf, Cond, GroupKey, Query
from crmkit_service import sla
from crmkit_service.assignment import OPEN_STATUSES
from crmkit_service.entities import Feedback, Ticket
from crmkit_service.feedback import CSAT
from crmkit_service.settings import service_settings
from crmkit_service.ticket_records import TICKET

if TYPE_CHECKING:
    import datetime as dt

    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit.storage.base import StorageReader
    from crmkit_service.settings import ServiceSettings
    from crmkit_service.sla import TargetState

TITLE = "Service"
RESOLVED_STATUSES: tuple[str, ...] = ("resolved", "closed")
"""Statuses in which a ticket counts as resolved for the view."""


def customer_section(crm: CRM, contact: Contact, actor: str | None) -> crmkit.ViewSection | None:
    """The "Service" section of ``contact``'s single view as ``actor`` sees it, or ``None``.

    ``None`` when the contact has no tickets, or when the policy refuses
    ``actor`` a read of this contact's tickets. See the module docstring for
    what the section holds.
    """
    ticket_type, csat_type = crm.entity_type(TICKET), crm.entity_type(CSAT)
    check = ReadCheck(crm, actor)
    with crm.backend.read() as reader:
        if not check.decide(reader, ticket_type, contact.id).allowed:
            return None
        counts = _status_counts(reader, crm, contact.id)
        if not counts:
            return None
        open_rows = _open_tickets(reader, crm, contact.id)
        resolved_row = _last_resolved(reader, crm, contact.id)
        feedback_row: dict[str, Any] | None = None
        rated_key: str | None = None
        if check.decide(reader, csat_type, contact.id).allowed:
            feedback_row = _last_feedback(reader, crm, contact.id)
            if feedback_row is not None:
                rated_key = _ticket_key(reader, crm, feedback_row["ticket_id"])
    tickets = [Ticket(**check.show(ticket_type, row)) for row in open_rows]
    resolved = Ticket(**check.show(ticket_type, resolved_row)) if resolved_row else None
    feedback = Feedback(**check.show(csat_type, feedback_row)) if feedback_row else None
    check.audit(subject_id=contact.id)
    data = section_data(
        service_settings(crm),
        counts,
        tickets,
        resolved,
        feedback,
        rated_key,
        now=utcnow(),
    )
    if check.masked:
        data["masked"] = list(check.masked)
    return crmkit.ViewSection(TITLE, data)


def section_data(
    settings: ServiceSettings,
    counts: Mapping[str, int],
    open_tickets: Sequence[Ticket],
    last_resolved: Ticket | None,
    last_feedback: Feedback | None,
    rated_key: str | None,
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """The section's JSON-able figures from records already read (see the module docstring).

    ``counts`` is the number of the contact's tickets per status; ``rated_key``
    the key of the ticket ``last_feedback`` answers (``None`` if it is gone).
    """
    return {
        "open": sum(counts.get(status, 0) for status in OPEN_STATUSES),
        "resolved": sum(counts.get(status, 0) for status in RESOLVED_STATUSES),
        "open_tickets": [open_ticket_entry(settings, ticket, now) for ticket in open_tickets],
        "last_feedback": (
            {
                "ticket": rated_key,
                "csat": last_feedback.csat,
                "nps": last_feedback.nps,
                "comment": last_feedback.comment,
                "recorded_at": last_feedback.recorded_at,
            }
            if last_feedback is not None
            else None
        ),
        "last_resolved": (
            {
                "key": last_resolved.key,
                "subject": last_resolved.subject,
                "status": last_resolved.status,
                "resolved_at": last_resolved.resolved_at,
            }
            if last_resolved is not None
            else None
        ),
    }


def open_ticket_entry(
    settings: ServiceSettings, ticket: Ticket, now: dt.datetime
) -> dict[str, Any]:
    """One open ticket as the view lists it, with both SLA targets as they stand at ``now``."""
    state = sla.remaining(ticket, sla.calendar_of(settings, ticket), now)
    return {
        "key": ticket.key,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "first_response": target_entry(state.first_response),
        "resolution": target_entry(state.resolution),
    }


def target_entry(target: TargetState) -> dict[str, Any]:
    """An SLA target: state, due (ISO), business seconds left and the same as ``3h 20m``."""
    return {**target.as_dict(), "remaining": sla.business_time(target.remaining)}


# -- reads (indexed fields only) --------------------------------------------------------


def _status_counts(reader: StorageReader, crm: CRM, contact_id: str) -> dict[str, int]:
    """How many of the contact's tickets are in each status (statuses with none are absent)."""
    rows = reader.aggregate(
        crm.entity_type(TICKET),
        Aggregate(where=Cond("contact_id", "eq", contact_id), group_by=(GroupKey("status"),)),
    )
    return {row["status"]: int(row["count"]) for row in rows}


def _open_tickets(reader: StorageReader, crm: CRM, contact_id: str) -> list[dict[str, Any]]:
    """The contact's tickets not resolved or closed, oldest first."""
    return reader.query(
        crm.entity_type(TICKET),
        Query(
            where=AllOf(
                (
                    Cond("contact_id", "eq", contact_id),
                    Cond("status", "in", list(OPEN_STATUSES)),
                )
            ),
            order_by=("created_at", "id"),
        ),
    )


def _last_resolved(reader: StorageReader, crm: CRM, contact_id: str) -> dict[str, Any] | None:
    """The contact's ticket resolved most recently (resolved or since closed), or ``None``."""
    rows = reader.query(
        crm.entity_type(TICKET),
        Query(
            where=AllOf(
                (
                    Cond("contact_id", "eq", contact_id),
                    Cond("status", "in", list(RESOLVED_STATUSES)),
                )
            ),
            order_by=("-resolved_at", "-id"),
            limit=1,
        ),
    )
    return rows[0] if rows else None


def _last_feedback(reader: StorageReader, crm: CRM, contact_id: str) -> dict[str, Any] | None:
    """The contact's most recent CSAT/NPS answer, or ``None``."""
    rows = reader.query(
        crm.entity_type(CSAT),
        Query(
            where=Cond("contact_id", "eq", contact_id),
            order_by=("-recorded_at", "-id"),
            limit=1,
        ),
    )
    return rows[0] if rows else None


def _ticket_key(reader: StorageReader, crm: CRM, ticket_id: str) -> str | None:
    """The key of the ticket with id ``ticket_id`` (read by primary key), or ``None``."""
    row = reader.get(crm.entity_type(TICKET), ticket_id)
    return str(row["key"]) if row is not None else None
