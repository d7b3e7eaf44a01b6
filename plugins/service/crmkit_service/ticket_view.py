"""What a ticket looks like to a reader: the ticket, its thread, its SLA state, its articles.

Everything is read in one storage read and shown as the privacy policy lets
the actor see it (fields they may not see are masked and listed); the read is
audited like any read about a person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.privacy.processing import ReadCheck
from crmkit.serialize import to_jsonable
from crmkit.storage.query import Cond, Query
from crmkit_service import sla
from crmkit_service.entities import Article, Message, Ticket
from crmkit_service.knowledge import linked_articles
from crmkit_service.settings import service_settings
from crmkit_service.sla import SlaState
from crmkit_service.ticket_records import load_ticket, message_type, ticket_type

if TYPE_CHECKING:
    from crmkit.crm import CRM


@attrs.frozen
class TicketView:
    """A ticket with its thread (oldest first), SLA state and linked articles."""

    ticket: Ticket
    messages: tuple[Message, ...]
    sla: SlaState
    articles: tuple[Article, ...]
    masked: tuple[str, ...] = ()
    """Fields shown as masked values because the actor may not see them."""

    def as_dict(self) -> dict[str, Any]:
        """All of it as JSON-serialisable data."""
        data: dict[str, Any] = to_jsonable(
            {
                "ticket": self.ticket,
                "messages": list(self.messages),
                "sla": self.sla.as_dict(),
                "articles": list(self.articles),
                "masked": list(self.masked),
            }
        )
        return data


def view_ticket(crm: CRM, ref: str, actor: str | None = None) -> TicketView:
    """The ticket with key or id ``ref`` as ``actor`` may see it, with its thread, SLA
    state (due times, business time left) and articles; :class:`NotFound` if none."""
    settings = service_settings(crm)
    check = ReadCheck(crm, actor)
    etype, mtype = ticket_type(crm), message_type(crm)
    with crm.backend.read() as reader:
        ticket = load_ticket(reader, crm, ref)
        check.decide(reader, etype, subject_id=ticket.contact_id)
        messages = reader.query(
            mtype,
            Query(where=Cond("ticket_id", "eq", ticket.id), order_by=("occurred_at", "id")),
        )
        articles = tuple(linked_articles(reader, crm, ticket.id))
    check.enforce()
    shown = Ticket(**check.show(etype, etype.to_row(ticket)))
    thread = tuple(Message(**check.show(mtype, row, "messages.")) for row in messages)
    check.audit(subject_id=ticket.contact_id)
    state = sla.remaining(ticket, sla.calendar_of(settings, ticket), utcnow())
    return TicketView(shown, thread, state, articles, tuple(check.masked))
