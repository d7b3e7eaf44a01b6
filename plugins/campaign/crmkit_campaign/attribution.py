"""Crediting won deals to the campaign messages that came before them.

When the sales plugin is installed, the campaigns plugin subscribes to
``sales.deal.won``. For the deal's contact (the event's subject) the messages
sent to them within ``attribution_window_days`` (``[plugins.campaign]``,
default 30) before the win are looked up: the earliest is the first touch,
the latest the last touch (the same message when only one was sent). Each
touch becomes a ``conversion`` response with the deal's id, and an event
``campaign.conversion.attributed`` on the person's timeline.

A deal is credited once: a second ``sales.deal.won`` for the same deal (it
was reopened and won again, or the subscriber was retried) adds nothing.
This module reads only the event; it never imports the sales plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.storage import AllOf, Cond, Query
from crmkit_campaign.entities import Campaign, Delivery, Response
from crmkit_campaign.responses import note_activity
from crmkit_campaign.settings import campaign_settings

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.events import Event
    from crmkit.uow import UnitOfWork

DELIVERY = "campaign.delivery"
RESPONSE = "campaign.response"
CAMPAIGN = "campaign.campaign"
TOUCHES = ("first", "last")


def attribute_won_deal(crm: CRM, event: Event) -> list[Response]:
    """Write the first- and last-touch conversions of a won deal; the responses written.

    ``event`` is ``sales.deal.won``: its payload has ``deal_id`` and its
    subject is the deal's contact. No contact, no message in the window, or a
    deal already credited: nothing is written.
    """
    deal_id = event.payload.get("deal_id")
    contact_id = event.subject_id or event.payload.get("contact_id")
    if not deal_id or not contact_id:
        return []
    won_at = event.occurred_at
    since = won_at - campaign_settings(crm).attribution_window
    response_type = crm.entity_type(RESPONSE)
    with crm.unit_of_work(event.actor) as uow:
        credited = AllOf((Cond("kind", "eq", "conversion"), Cond("deal_id", "eq", deal_id)))
        if uow.tx.count(response_type, credited):
            return []
        rows = uow.tx.query(
            crm.entity_type(DELIVERY),
            Query(
                AllOf(
                    (
                        Cond("contact_id", "eq", contact_id),
                        Cond("status", "eq", "sent"),
                        Cond("sent_at", "ge", since),
                        Cond("sent_at", "le", won_at),
                    )
                ),
                ("sent_at", "id"),
            ),
        )
        if not rows:
            return []
        touches = (Delivery(**rows[0]), Delivery(**rows[-1]))
        return [
            _credit(uow, delivery, touch, str(deal_id), event)
            for touch, delivery in zip(TOUCHES, touches, strict=True)
        ]


def _credit(uow: UnitOfWork, delivery: Delivery, touch: str, deal_id: str,
            event: Event) -> Response:
    crm = uow.crm
    etype = crm.entity_type(RESPONSE)
    response = Response(
        delivery_id=delivery.id,
        campaign_id=delivery.campaign_id,
        contact_id=delivery.contact_id,
        kind="conversion",
        at=event.occurred_at,
        deal_id=deal_id,
        touch=touch,
    )
    uow.tx.add(etype, etype.to_row(response))
    row = uow.tx.get(crm.entity_type(CAMPAIGN), delivery.campaign_id)
    name = Campaign(**row).name if row is not None else delivery.campaign_id
    note_activity(
        uow,
        "campaign.conversion.attributed",
        {
            "campaign_id": delivery.campaign_id,
            "delivery_id": delivery.id,
            "deal_id": deal_id,
            "touch": touch,
        },
        contact_id=delivery.contact_id,
        summary=f"Won deal credited to campaign {name} ({touch} touch)",
        channel="system",
        direction="internal",
    )
    return response
