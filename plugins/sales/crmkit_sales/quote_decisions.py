"""Deciding a quote version: sending it, the customer accepting or rejecting it, expiry.

The life of one version::

    draft --send--> sent --accept--> accepted
                         --reject--> rejected
                         --expire_due (past valid_until)--> expired

Sending needs at least one line. Accepting a version is refused once a newer
version of the same quote exists (the customer must accept what was last
offered), and once its ``valid_until`` day has passed (the offer ran out: revise
it into a new version with a new date); accepting one version changes no other
version.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from crmkit.entities import utcnow
from crmkit.errors import ValidationError
from crmkit.storage.query import AllOf, Cond, Query
from crmkit_sales.deal_records import load_deal
from crmkit_sales.entities import Quote
from crmkit_sales.quote_figures import quote_label
from crmkit_sales.quote_records import (
    QUOTE,
    find_quote,
    newer_version,
    quote_type,
    read_lines,
    record_quote_event,
    save_quote,
)
from crmkit_sales.records import require_contact_write

if TYPE_CHECKING:
    from crmkit.uow import UnitOfWork


_MOVES: dict[str, tuple[str, str, str]] = {
    # action: (status it needs, status it sets, event)
    "send": ("draft", "sent", "sales.quote.sent"),
    "accept": ("sent", "accepted", "sales.quote.accepted"),
    "reject": ("sent", "rejected", "sales.quote.rejected"),
}
_PAST = {"send": "sent", "accept": "accepted", "reject": "rejected"}


def decide_quote(uow: UnitOfWork, quote_ref: str, action: str) -> Quote:
    """Send, accept or reject a quote version (``action``: send, accept, reject)."""
    needs, becomes, event = _MOVES[action]
    quote = find_quote(uow.tx, uow.crm, quote_ref)
    label = quote_label(quote)
    if quote.status != needs:
        raise ValidationError(
            QUOTE,
            "status",
            f"the quote is {quote.status}; only a {needs} quote can be {_PAST[action]}",
            record=label,
        )
    now = utcnow()
    changes: dict[str, Any] = {"status": becomes}
    if action == "send":
        if not read_lines(uow.tx, uow.crm, quote.id):
            raise ValidationError(
                QUOTE,
                "lines",
                f"the quote has no lines; add one with 'crmkit sales quotes line {label} "
                "--product ... --quantity ... --price ...' before sending it",
                record=label,
            )
        changes["sent_at"] = now
    else:
        changes["decided_at"] = now
    if action == "accept":
        newer = newer_version(uow.tx, uow.crm, quote)
        if newer is not None:
            raise ValidationError(
                QUOTE,
                "version",
                f"{quote_label(newer)} replaced this version; accept the latest version",
                record=label,
            )
        if quote.valid_until is not None and quote.valid_until < now.date():
            raise ValidationError(
                QUOTE,
                "valid_until",
                f"the quote was valid until {quote.valid_until.isoformat()}, which has passed; "
                f"revise it ('crmkit sales quotes revise {quote.number} --valid-until "
                "YYYY-MM-DD') and send the new version",
                record=label,
            )
    deal = load_deal(uow.tx, uow.crm, quote.deal_id)
    require_contact_write(uow, deal.contact_id, QUOTE)
    quote = save_quote(uow, quote, changes)
    record_quote_event(uow, event, quote, deal, _PAST[action])
    return quote


def expire_due_quotes(uow: UnitOfWork, today: dt.date | None = None) -> list[Quote]:
    """Mark sent quotes whose ``valid_until`` is before ``today`` expired; return them."""
    day = today or utcnow().date()
    where = AllOf(
        (
            Cond("status", "eq", "sent"),
            Cond("valid_until", "isnull", False),
            Cond("valid_until", "lt", day),
        )
    )
    expired: list[Quote] = []
    due = uow.tx.query(quote_type(uow.crm), Query(where=where, order_by=("number", "version")))
    for row in due:
        quote = Quote(**row)
        deal = load_deal(uow.tx, uow.crm, quote.deal_id)
        require_contact_write(uow, deal.contact_id, QUOTE)
        quote = save_quote(uow, quote, {"status": "expired"})
        record_quote_event(uow, "sales.quote.expired", quote, deal, "expired")
        expired.append(quote)
    return expired
