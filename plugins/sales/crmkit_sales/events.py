"""The events the sales plugin raises, with the payload keys each one carries.

Every event's subject is the contact it concerns (``subject_id``), or none for
records not yet tied to a person; ``uow.record_activity`` raises
them and puts the contact's ones on the timeline. Money in payloads is a
decimal string with its currency (``"amount": "1200.00", "currency": "EUR"``).
"""

from __future__ import annotations

from crmkit.events import EventType


def _event(name: str, description: str) -> EventType:
    return EventType(name, description=description)


EVENT_TYPES: list[EventType] = [
    _event("sales.lead.created", "A lead was added; payload: lead_id, source, status, owner."),
    _event("sales.lead.updated", "A lead's fields changed; payload: lead_id, changed (names)."),
    _event(
        "sales.lead.qualified",
        "A lead was marked qualified (or unqualified); payload: lead_id, status, score, reason.",
    ),
    _event(
        "sales.lead.scored",
        "A lead's score was computed; payload: lead_id, score, previous_score, reasons.",
    ),
    _event(
        "sales.lead.converted",
        "A lead became a contact (and possibly an organization and a deal); payload: "
        "lead_id, contact_id, organization_id, deal_id.",
    ),
    _event(
        "sales.lead.imported",
        "Leads were imported in bulk; payload: count, source, lead_ids, rejected.",
    ),
    _event(
        "sales.deal.created",
        "A deal was opened; payload: deal_id, title, pipeline, stage, amount, currency, "
        "owner, contact_id, lead_id.",
    ),
    _event("sales.deal.updated", "A deal's fields changed; payload: deal_id, changed (names)."),
    _event(
        "sales.deal.stage_changed",
        "A deal moved between stages; payload: deal_id, pipeline, from_stage, to_stage.",
    ),
    _event(
        "sales.deal.won",
        "A deal was won; payload: deal_id, amount, currency, reason, days_to_close.",
    ),
    _event(
        "sales.deal.lost",
        "A deal was lost; payload: deal_id, amount, currency, reason, days_to_close.",
    ),
    _event(
        "sales.deal.reopened",
        "A won or lost deal was opened again; payload: deal_id, previous_status, stage.",
    ),
    _event(
        "sales.deal.contact_added",
        "A contact was added to a deal; payload: deal_id, contact_id, role.",
    ),
    _event(
        "sales.quote.created",
        "A quote was drafted for a deal; payload: quote_id, deal_id, number, version, currency.",
    ),
    _event(
        "sales.quote.revised",
        "A new version of a quote was drafted; payload: quote_id, deal_id, number, version, "
        "previous_quote_id.",
    ),
    _event(
        "sales.quote.line_added",
        "A product line was added to a draft quote; payload: quote_id, line_id, product, "
        "quantity, total.",
    ),
    _event(
        "sales.quote.sent",
        "A quote was sent to the customer; payload: quote_id, deal_id, number, version, total, "
        "currency, valid_until.",
    ),
    _event(
        "sales.quote.accepted",
        "The customer accepted a quote; payload: quote_id, deal_id, number, version, total, "
        "currency.",
    ),
    _event(
        "sales.quote.rejected",
        "The customer rejected a quote; payload: quote_id, deal_id, number, version, reason.",
    ),
    _event(
        "sales.quote.expired",
        "A sent quote passed its valid_until date undecided; payload: quote_id, deal_id, "
        "number, version, valid_until.",
    ),
    _event(
        "sales.task.created",
        "A follow-up task was created; payload: task_id, title, due, lead_id, deal_id, owner.",
    ),
    _event(
        "sales.task.completed",
        "A task was marked done; payload: task_id, title, lead_id, deal_id, done_at.",
    ),
]
