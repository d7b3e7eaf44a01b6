"""What comes back from a sent message: bounces, complaints and replies.

Each is recorded against the delivery it answers, found by the Message-ID
crmkit gave the message (``<id@crmkit>``, with or without the angle
brackets) or the provider's own reference; an unknown one is
``NotFound("campaign.delivery", ref)``.

- A hard bounce marks the delivery ``bounced``. When the address has hard
  bounced ``bounce_threshold`` times (``[plugins.campaign]``, default 3) it is
  blocked: no campaign sends to it again.
- A complaint (the person marked the message as spam) blocks the address at
  once and withdraws the person's marketing consent on that channel through
  the consent ledger, with the complaint as evidence.
- A reply is logged as an inbound interaction on the person's timeline, and
  ends the campaign's follow-ups for them (when the step's ``stop_on`` says
  so).

Every record and its event are written in one unit of work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.contacts import contact_row
from crmkit.entities import utcnow
from crmkit.entities.core import CHANNELS
from crmkit.entities.types import build_entity_type
from crmkit.errors import NotFound
from crmkit.storage import AllOf, Cond, Query
from crmkit_campaign.entities import BlockedAddress, Campaign, Delivery, Response
from crmkit_campaign.settings import campaign_settings

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage import StorageReader
    from crmkit.uow import UnitOfWork

DELIVERY = "campaign.delivery"
RESPONSE = "campaign.response"
BLOCKED = "campaign.blocked_address"
CAMPAIGN = "campaign.campaign"
MARKETING = "marketing"
CHUNK = 500


@attrs.frozen
class Recorded:
    """A response as stored, the delivery it answers, and the block it caused (if any)."""

    response: Response
    delivery: Delivery
    blocked: BlockedAddress | None = None


def address_key(address: str) -> str:
    """An address as it is compared and blocked: emails lower-case, no outer spaces."""
    text = address.strip()
    return text.lower() if "@" in text else text


def _blocked_type() -> Any:
    # The type as declared: a reader needs no CRM to ask about blocked addresses.
    return build_entity_type(BlockedAddress, "campaign")


def is_blocked(reader: StorageReader, address: str) -> bool:
    """Whether campaigns may no longer send to ``address``."""
    return reader.get_by(_blocked_type(), "address", address_key(address)) is not None


def blocked_among(reader: StorageReader, addresses: Iterable[str]) -> set[str]:
    """Which of ``addresses`` are blocked (as :func:`address_key` gives them), a few queries."""
    keys = list(dict.fromkeys(address_key(a) for a in addresses))
    etype = _blocked_type()
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        rows = reader.query(etype, Query(Cond("address", "in", chunk)))
        found.update(row["address"] for row in rows)
    return found


def find_delivery(reader: StorageReader, crm: CRM, ref: str) -> Delivery:
    """The delivery a Message-ID (``<id@crmkit>`` or ``id@crmkit``) or provider id names."""
    etype = crm.entity_type(DELIVERY)
    text = ref.strip()
    bare = text.strip("<>")
    for field, value in (("message_id", f"<{bare}>"), ("provider_id", text), ("id", bare)):
        row = reader.get_by(etype, field, value) if value else None
        if row is not None:
            return Delivery(**row)
    raise NotFound(DELIVERY, ref)


def _campaign(reader: StorageReader, crm: CRM, campaign_id: str) -> Campaign:
    row = reader.get(crm.entity_type(CAMPAIGN), campaign_id)
    if row is None:
        raise NotFound(CAMPAIGN, campaign_id)
    return Campaign(**row)


def timeline_channel(channel: str) -> str:
    """The interaction channel for a campaign channel (``system`` for one the timeline lacks)."""
    return channel if channel in CHANNELS else "system"


def note_activity(
    uow: UnitOfWork,
    name: str,
    payload: Mapping[str, Any],
    *,
    contact_id: str,
    summary: str,
    channel: str,
    direction: str = "inbound",
) -> None:
    """Raise ``name`` about a contact and put it on their timeline (default: inbound).

    While the person's processing is restricted their timeline takes no new
    entries, so only the event is raised: a response from them is still kept.
    """
    if uow.crm.privacy.facts(uow.tx, contact_id).restricted:
        uow.raise_event(name, payload, subject_id=contact_id)
        return
    uow.record_activity(
        name,
        payload,
        contact_id=contact_id,
        summary=summary,
        channel=timeline_channel(channel),
        direction=direction,
    )


def _add_response(
    uow: UnitOfWork, delivery: Delivery, kind: str, at: dt.datetime, detail: str | None
) -> Response:
    etype = uow.crm.entity_type(RESPONSE)
    response = Response(
        delivery_id=delivery.id,
        campaign_id=delivery.campaign_id,
        contact_id=delivery.contact_id,
        kind=kind,
        at=at,
        detail=detail,
    )
    uow.tx.add(etype, etype.to_row(response))
    return response


def block_address(
    uow: UnitOfWork, address: str, *, contact_id: str, channel: str, reason: str
) -> BlockedAddress | None:
    """Block ``address`` (event ``campaign.address.blocked``); ``None`` if it already was."""
    etype = uow.crm.entity_type(BLOCKED)
    key = address_key(address)
    if uow.tx.get_by(etype, "address", key) is not None:
        return None
    blocked = BlockedAddress(address=key, contact_id=contact_id, channel=channel, reason=reason)
    uow.tx.add(etype, etype.to_row(blocked))
    uow.raise_event(
        "campaign.address.blocked",
        {"channel": channel, "reason": reason, "contact_id": contact_id},
        subject_id=contact_id,
    )
    return blocked


def hard_bounces(reader: StorageReader, crm: CRM, address: str) -> int:
    """How many messages to ``address`` hard bounced."""
    return reader.count(
        crm.entity_type(DELIVERY),
        AllOf((Cond("address", "eq", address), Cond("status", "eq", "bounced"))),
    )


def record_bounce(
    crm: CRM,
    message_id: str,
    *,
    hard: bool,
    detail: str | None = None,
    at: dt.datetime | None = None,
    actor: str | None = None,
) -> Recorded:
    """Record a bounce of the message ``message_id``; event ``campaign.message.bounced``.

    A hard bounce marks the delivery ``bounced`` and blocks the address once
    it has hard bounced ``bounce_threshold`` times; a soft one is only kept.
    """
    threshold = campaign_settings(crm).bounce_threshold
    when = at or utcnow()
    with crm.unit_of_work(actor) as uow:
        delivery = find_delivery(uow.tx, crm, message_id)
        campaign = _campaign(uow.tx, crm, delivery.campaign_id)
        response = _add_response(uow, delivery, "bounce_hard" if hard else "bounce_soft", when,
                                 detail)
        blocked = None
        if hard:
            uow.tx.update(
                crm.entity_type(DELIVERY), delivery.id, {"status": "bounced", "updated_at": when}
            )
            delivery = attrs.evolve(delivery, status="bounced")
            if delivery.address and hard_bounces(uow.tx, crm, delivery.address) >= threshold:
                blocked = block_address(
                    uow,
                    delivery.address,
                    contact_id=delivery.contact_id,
                    channel=campaign.channel,
                    reason=f"{threshold} hard bounces",
                )
        note_activity(
            uow,
            "campaign.message.bounced",
            {
                "campaign_id": campaign.id,
                "delivery_id": delivery.id,
                "message_id": delivery.message_id,
                "hard": hard,
            },
            contact_id=delivery.contact_id,
            summary=f"Message of campaign {campaign.name} bounced ({'hard' if hard else 'soft'})",
            channel=campaign.channel,
        )
    return Recorded(response, delivery, blocked)


def record_complaint(
    crm: CRM,
    message_id: str,
    detail: str | None = None,
    *,
    at: dt.datetime | None = None,
    actor: str | None = None,
) -> Recorded:
    """Record a spam complaint about ``message_id``; event ``campaign.complaint.received``.

    Blocks the address the message went to and withdraws the person's
    consent to marketing (and to the campaign's own purpose) on the
    campaign's channel, with the complaint as evidence.
    """
    when = at or utcnow()
    with crm.unit_of_work(actor) as uow:
        delivery = find_delivery(uow.tx, crm, message_id)
        campaign = _campaign(uow.tx, crm, delivery.campaign_id)
        response = _add_response(uow, delivery, "complaint", when, detail)
        blocked = None
        if delivery.address:
            blocked = block_address(
                uow,
                delivery.address,
                contact_id=delivery.contact_id,
                channel=campaign.channel,
                reason="complaint",
            )
        facts = crm.privacy.facts(uow.tx, delivery.contact_id)
        for purpose in dict.fromkeys((MARKETING, campaign.purpose)):
            if facts.consent(purpose, campaign.channel) == "withdrawn":
                continue
            crm.privacy.consent.withdraw(
                delivery.contact_id,
                purpose=purpose,
                channel=campaign.channel,
                source="spam complaint",
                evidence=f"complaint about message {delivery.message_id} of campaign "
                f"{campaign.name!r} ({campaign.id})",
                now=when,
                uow=uow,
            )
        uow.raise_event(
            "campaign.complaint.received",
            {
                "campaign_id": campaign.id,
                "delivery_id": delivery.id,
                "message_id": delivery.message_id,
            },
            subject_id=delivery.contact_id,
        )
    return Recorded(response, delivery, blocked)


def _latest_sent(reader: StorageReader, crm: CRM, contact_ref: str,
                 campaign: str | None) -> Delivery:
    """The contact's most recent sent message (of ``campaign``, an id or name, if given)."""
    person = contact_row(reader, crm.entity_type("contact"), contact_ref)
    if person is None:
        raise NotFound(DELIVERY, contact_ref)
    conds = [Cond("contact_id", "eq", person["id"]), Cond("status", "in", ["sent", "bounced"])]
    if campaign is not None:
        from crmkit_campaign.records import find_campaign

        conds.append(Cond("campaign_id", "eq", find_campaign(reader, crm, campaign).id))
    rows = reader.query(
        crm.entity_type(DELIVERY), Query(AllOf(tuple(conds)), ("-sent_at", "-id"), 1)
    )
    if not rows:
        raise NotFound(DELIVERY, f"a message sent to {contact_ref}")
    return Delivery(**rows[0])


def record_reply(
    crm: CRM,
    ref: str,
    *,
    text: str | None = None,
    campaign: str | None = None,
    at: dt.datetime | None = None,
    actor: str | None = None,
) -> Recorded:
    """Record a reply; event ``campaign.reply.received`` on the person's timeline.

    ``ref`` is the Message-ID the reply answers (its ``In-Reply-To``), or the
    contact (id or email) when the reply cannot be tied to one message: then
    it answers their latest sent message (of ``campaign``, when given).
    ``text`` is kept as the response's detail.
    """
    when = at or utcnow()
    with crm.unit_of_work(actor) as uow:
        try:
            delivery = find_delivery(uow.tx, crm, ref)
        except NotFound:
            if "@crmkit" in ref:
                raise
            delivery = _latest_sent(uow.tx, crm, ref, campaign)
        owner = _campaign(uow.tx, crm, delivery.campaign_id)
        response = _add_response(uow, delivery, "reply", when, text)
        note_activity(
            uow,
            "campaign.reply.received",
            {"campaign_id": owner.id, "delivery_id": delivery.id, "response_id": response.id},
            contact_id=delivery.contact_id,
            summary=f"Replied to campaign {owner.name}",
            channel=owner.channel,
        )
    return Recorded(response, delivery)
