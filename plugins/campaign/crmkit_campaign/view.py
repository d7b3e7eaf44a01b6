"""The "Campaigns" section of a contact's single customer view.

What a marketer (or the person, asking what is held on them) wants to see at
a glance: the campaign messages this person was sent (campaign, step,
variant, status, when; newest first, at most :data:`SHOWN`, with the total),
what came back from them (replies, bounces, complaints, unsubscribes, won
deals credited to a campaign), who a campaign left them out and why, whether
an address of theirs is blocked, and where their marketing consent stands on
each channel.

Every read is on a field indexed by ``contact_id`` (or the id of a campaign
or step already found), in one snapshot; the consent state comes from
crmkit's consent ledger (``crm.privacy.consent.state``). Addresses and
response texts are personal: an actor whose role may not see personal data
gets them masked, and an actor the policy does not let read this person's
campaign records gets no section at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import crmkit
from crmkit.privacy.processing import ReadCheck
from crmkit.storage import Cond, Query
from crmkit_campaign.entities import BlockedAddress, Campaign, Delivery, Exclusion, Response, Step

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit.entities.types import EntityType
    from crmkit.storage import StorageReader

TITLE = "Campaigns"
SHOWN = 10
"""Messages, responses and exclusions listed at most (the totals count them all)."""
MARKETING = "marketing"
DELIVERY = "campaign.delivery"
RESPONSE = "campaign.response"
EXCLUSION = "campaign.exclusion"
BLOCKED = "campaign.blocked_address"
CAMPAIGN = "campaign.campaign"
STEP = "campaign.step"


def customer_section(crm: CRM, contact: Contact, actor: str | None) -> crmkit.ViewSection | None:
    """The "Campaigns" section of ``contact``'s single view as ``actor`` sees it, or ``None``.

    ``None`` when the person has no campaign records and no marketing consent
    entry, or when the policy refuses ``actor`` a read of their campaign records.
    """
    check = ReadCheck(crm, actor)
    delivery_type = crm.entity_type(DELIVERY)
    with crm.backend.read() as reader:
        if not check.decide(reader, delivery_type, contact.id).allowed:
            return None
        mine = Cond("contact_id", "eq", contact.id)
        sent_total = reader.count(delivery_type, mine)
        deliveries = _newest(reader, delivery_type, mine, "intended_at")
        responses = _newest(reader, crm.entity_type(RESPONSE), mine, "at")
        response_total = reader.count(crm.entity_type(RESPONSE), mine) if responses else 0
        exclusions = _newest(reader, crm.entity_type(EXCLUSION), mine, "at")
        exclusion_total = reader.count(crm.entity_type(EXCLUSION), mine) if exclusions else 0
        blocked = reader.query(crm.entity_type(BLOCKED), Query(mine, ("at", "id")))
        campaign_ids = sorted(
            {row["campaign_id"] for row in (*deliveries, *responses, *exclusions)}
        )
        step_ids = sorted({row["step_id"] for row in (*deliveries, *exclusions)})
        campaigns = _by_id(reader, crm.entity_type(CAMPAIGN), campaign_ids)
        steps = _by_id(reader, crm.entity_type(STEP), step_ids)
        consent_readable = crm.privacy.decide(
            "read",
            actor=check.actor,
            subject_id=contact.id,
            entity="privacy.consent",
            reader=reader,
        ).allowed
    consent = _marketing_consent(crm, contact.id, actor) if consent_readable else []
    if not (sent_total or responses or exclusions or blocked or consent):
        return None
    names = {cid: Campaign(**row).name for cid, row in campaigns.items()}
    positions = {sid: Step(**row).position for sid, row in steps.items()}
    shown = _Shown(check, crm)
    return crmkit.ViewSection(
        TITLE,
        {
            "messages": [
                _message(Delivery(**shown(DELIVERY, row)), names, positions) for row in deliveries
            ],
            "messages_total": sent_total,
            "responses": [_response(Response(**shown(RESPONSE, row)), names) for row in responses],
            "responses_total": response_total,
            "exclusions": [_exclusion(Exclusion(**row), names, positions) for row in exclusions],
            "exclusions_total": exclusion_total,
            "blocked": bool(blocked),
            "blocked_addresses": [
                _blocked(BlockedAddress(**shown(BLOCKED, row))) for row in blocked
            ],
            "marketing_consent": consent,
            "masked": sorted(check.masked),
        },
    )


class _Shown:
    """Rows as the actor may see them (personal values masked), the masked names collected."""

    def __init__(self, check: ReadCheck, crm: CRM) -> None:
        self._check = check
        self._crm = crm

    def __call__(self, entity: str, row: dict[str, Any]) -> dict[str, Any]:
        return self._check.show(self._crm.entity_type(entity), row)


# -- reads (indexed fields only) --------------------------------------------


def _newest(
    reader: StorageReader, etype: EntityType, where: Cond, moment: str
) -> list[dict[str, Any]]:
    """The :data:`SHOWN` newest rows of ``etype`` matching ``where``, by ``moment``."""
    return reader.query(etype, Query(where, (f"-{moment}", "-id"), SHOWN))


def _by_id(
    reader: StorageReader, etype: EntityType, ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    return {row["id"]: row for row in reader.query(etype, Query(Cond("id", "in", list(ids))))}


def _marketing_consent(crm: CRM, contact_id: str, actor: str | None) -> list[dict[str, Any]]:
    """The person's marketing consent per channel, from the consent ledger's current state."""
    return [
        {
            "channel": state.channel,
            "status": state.status,
            "since": state.since,
            "source": state.source,
        }
        for state in crm.privacy.consent.state(contact_id, actor=actor)
        if state.purpose == MARKETING
    ]


# -- the section's entries ----------------------------------------------------


def _message(
    delivery: Delivery, names: Mapping[str, str], positions: Mapping[str, int]
) -> dict[str, Any]:
    return {
        "campaign": names.get(delivery.campaign_id, delivery.campaign_id),
        "step": positions.get(delivery.step_id),
        "variant": delivery.variant,
        "status": delivery.status,
        "address": delivery.address,
        "sent_at": delivery.sent_at,
        "message_id": delivery.message_id,
    }


def _response(response: Response, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "campaign": names.get(response.campaign_id, response.campaign_id),
        "kind": response.kind,
        "at": response.at,
        "detail": response.detail,
        "deal_id": response.deal_id,
        "touch": response.touch,
    }


def _exclusion(
    exclusion: Exclusion, names: Mapping[str, str], positions: Mapping[str, int]
) -> dict[str, Any]:
    return {
        "campaign": names.get(exclusion.campaign_id, exclusion.campaign_id),
        "step": positions.get(exclusion.step_id),
        "reason": exclusion.reason,
        "at": exclusion.at,
    }


def _blocked(blocked: BlockedAddress) -> dict[str, Any]:
    return {
        "address": blocked.address,
        "channel": blocked.channel,
        "reason": blocked.reason,
        "at": blocked.at,
    }
