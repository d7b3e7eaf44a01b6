"""The "Sales" section of a contact's single customer view.

What a seller wants to know at a glance about one person: the deals still
open for them (as primary contact or as a person added to the deal), how many
were won and lost and what the won ones came to, the latest quote, the score
of the lead they came from, and the follow-ups still to do.

Everything is read in one snapshot with a handful of queries on indexed
fields (``contact_id``, ``deal_id``, ``id``); nothing scans a table. The
section carries no personal data beyond what the core view already shows:
deal titles, stages, amounts, quote figures and task titles are business
records, and roles on deals (personal) are left out. An actor whom the policy
does not let read sales deals about this person gets no section.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import crmkit
from crmkit.errors import ValidationError
from crmkit.privacy.processing import ReadCheck
from crmkit.storage.query import AllOf, AnyOf, Cond, Filter, Query
from crmkit_sales.deal_records import deal_amount, deal_type
from crmkit_sales.entities import Deal, Lead, Quote, Task
from crmkit_sales.money import Money, total
from crmkit_sales.quotes import quote_label, quote_money, quote_type
from crmkit_sales.records import format_money
from crmkit_sales.settings import sales_settings

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit.storage.base import StorageReader

TITLE = "Sales"


def customer_section(crm: CRM, contact: Contact, actor: str | None) -> crmkit.ViewSection | None:
    """The "Sales" section of ``contact``'s single view as ``actor`` sees it, or ``None``.

    ``None`` when the contact has no deals, leads or tasks, or when the policy
    refuses ``actor`` a read of the contact's sales deals.
    """
    check = ReadCheck(crm, actor)
    with crm.backend.read() as reader:
        if not check.decide(reader, deal_type(crm), contact.id).allowed:
            return None
        deals = _deals_of(reader, crm, contact.id)
        leads = _leads_of(reader, crm, contact.id)
        deal_ids = [d.id for d in deals]
        last_quote = _last_quote(reader, crm, deal_ids)
        tasks = _open_tasks(reader, crm, deal_ids, [lead.id for lead in leads])
    if not deals and not leads and not tasks:
        return None
    return crmkit.ViewSection(TITLE, section_data(crm, deals, leads, last_quote, tasks))


def section_data(
    crm: CRM,
    deals: Sequence[Deal],
    leads: Sequence[Lead],
    last_quote: Quote | None,
    tasks: Sequence[Task],
) -> dict[str, Any]:
    """The section's JSON-able figures, from records already read (see the module doc)."""
    open_deals = sorted(
        (d for d in deals if d.status == "open"),
        key=lambda d: (d.expected_close is None, d.expected_close, d.created_at),
    )
    won = [d for d in deals if d.status == "won"]
    lost = [d for d in deals if d.status == "lost"]
    lead = max(leads, key=lambda row: (row.created_at, row.id)) if leads else None
    next_task = tasks[0] if tasks else None
    return {
        "open_deals": [
            {
                "title": d.title,
                "stage": d.stage,
                "amount": format_money(deal_amount(d)),
                "expected_close": d.expected_close,
            }
            for d in open_deals
        ],
        "won": len(won),
        "lost": len(lost),
        "won_total": won_total(crm, [deal_amount(d) for d in won]) if won else None,
        "last_quote": (
            {
                "quote": quote_label(last_quote),
                "status": last_quote.status,
                "total": format_money(quote_money(last_quote).total),
            }
            if last_quote is not None
            else None
        ),
        "lead_score": lead.score if lead is not None else None,
        "open_tasks": len(tasks),
        "next_task": (
            {"title": next_task.title, "due": next_task.due} if next_task is not None else None
        ),
    }


def won_total(crm: CRM, amounts: Iterable[Money]) -> str:
    """What the won deals came to, as text.

    One currency: its sum. Several: the sum in ``default_currency`` when the
    ``[plugins.sales.rates]`` table converts them all, else each currency's
    sum joined with ``+`` (a view does not fail over a missing rate).
    """
    items = list(amounts)
    currencies = list(dict.fromkeys(m.currency for m in items))
    if len(currencies) == 1:
        return format_money(total(items))
    settings = sales_settings(crm)
    if settings.rates is not None:
        try:
            return format_money(
                total(items, currency=settings.default_currency, rates=settings.rates)
            )
        except ValidationError:
            pass
    return " + ".join(
        format_money(total(m for m in items if m.currency == code)) for code in currencies
    )


# -- reads (indexed fields only) --------------------------------------------


def _deals_of(reader: StorageReader, crm: CRM, contact_id: str) -> list[Deal]:
    """The deals with this primary contact, then those the contact was added to."""
    dtype = deal_type(crm)
    rows = reader.query(dtype, Query(Cond("contact_id", "eq", contact_id), ("created_at", "id")))
    links = reader.query(
        crm.entity_type("sales.deal_contact"), Query(Cond("contact_id", "eq", contact_id))
    )
    known = {row["id"] for row in rows}
    others = sorted({link["deal_id"] for link in links} - known)
    if others:
        rows += reader.query(dtype, Query(Cond("id", "in", others), ("created_at", "id")))
    return [Deal(**row) for row in rows]


def _leads_of(reader: StorageReader, crm: CRM, contact_id: str) -> list[Lead]:
    """The leads converted into this contact."""
    rows = reader.query(crm.entity_type("sales.lead"), Query(Cond("contact_id", "eq", contact_id)))
    return [Lead(**row) for row in rows]


def _last_quote(reader: StorageReader, crm: CRM, deal_ids: Sequence[str]) -> Quote | None:
    """The newest quote version on any of the deals."""
    if not deal_ids:
        return None
    rows = reader.query(
        quote_type(crm),
        Query(Cond("deal_id", "in", list(deal_ids)), ("-created_at", "-id"), limit=1),
    )
    return Quote(**rows[0]) if rows else None


def _open_tasks(
    reader: StorageReader, crm: CRM, deal_ids: Sequence[str], lead_ids: Sequence[str]
) -> list[Task]:
    """The open tasks on the deals or leads, soonest due first."""
    about: list[Filter] = []
    if deal_ids:
        about.append(Cond("deal_id", "in", list(deal_ids)))
    if lead_ids:
        about.append(Cond("lead_id", "in", list(lead_ids)))
    if not about:
        return []
    which: Filter = about[0] if len(about) == 1 else AnyOf(tuple(about))
    rows = reader.query(
        crm.entity_type("sales.task"),
        Query(AllOf((which, Cond("done_at", "isnull", True))), ("due", "created_at", "id")),
    )
    return [Task(**row) for row in rows]
