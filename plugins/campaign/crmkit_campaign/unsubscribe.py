"""Unsubscribe links: signed tokens that withdraw one person's consent in one click.

Every campaign message carries a link ending in ``?token=...``. The token
names the contact, the campaign, and the purpose and channel the message was
sent for, with the moment it stops being valid, signed with the CRM's privacy
secret (the same signing crmkit's consent confirmation tokens use, with a
purpose label of its own so neither kind of token verifies as the other):
``u1.<payload>.<signature>``, the payload being URL-safe base64 of a JSON
list. It names people only by id, so it can go into a link as it is.

Redeeming a token withdraws the consent through crmkit's consent ledger, with
source ``unsubscribe link`` and evidence naming the campaign, records an
``unsubscribe`` response on the person's latest message of that campaign (so
its follow-ups stop and its report counts it) and raises
``campaign.unsubscribed``. Redeeming the same token again writes nothing and
says so; a forged, changed, malformed or expired token is refused and writes
nothing.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from crmkit.entities import utcnow
from crmkit.errors import NotFound, ValidationError
from crmkit.privacy.keys import sign, signature_matches
from crmkit.storage import AllOf, Cond, Query
from crmkit_campaign.entities import Response
from crmkit_campaign.responses import note_activity

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage import StorageTransaction
    from crmkit.uow import UnitOfWork
    from crmkit_campaign.settings import CampaignSettings

VERSION = "u1"
SIGNING_LABEL = "campaign-unsubscribe"
VALID_FOR = dt.timedelta(days=400)
"""How long an unsubscribe link works after the message was made: over a year,
so a person reading last season's newsletter can still leave the list."""
SOURCE = "unsubscribe link"
DELIVERY = "campaign.delivery"
RESPONSE = "campaign.response"
CAMPAIGN = "campaign.campaign"


@attrs.frozen
class UnsubscribeToken:
    """What a valid token says."""

    contact_id: str
    campaign_id: str
    purpose: str
    channel: str
    expires_at: dt.datetime


@attrs.frozen
class Unsubscribed:
    """The outcome of redeeming a token; ``already``: the consent was withdrawn before."""

    contact_id: str
    purpose: str
    channel: str
    campaign_id: str
    already: bool


def _refuse(reason: str) -> ValidationError:
    return ValidationError("campaign.unsubscribe", "token", reason)


def _message(payload: str) -> str:
    return f"{SIGNING_LABEL}:{VERSION}:{payload}"


def _encode(values: list[object]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_token(
    crm: CRM,
    contact_id: str,
    campaign_id: str,
    purpose: str,
    channel: str,
    *,
    now: dt.datetime | None = None,
    tx: StorageTransaction | None = None,
) -> str:
    """The unsubscribe token for one person, campaign, purpose and channel.

    Valid for :data:`VALID_FOR` from ``now`` (default: the current time). Give
    the unit of work's ``tx`` when making tokens inside one, so the privacy
    secret is read (or made) in that transaction.
    """
    expires = int(((now or utcnow()) + VALID_FOR).timestamp())
    payload = _encode([contact_id, campaign_id, purpose, channel, expires])
    return f"{VERSION}.{payload}.{sign(crm.privacy.secret(tx), _message(payload))}"


def read_token(crm: CRM, token: str, *, now: dt.datetime | None = None) -> UnsubscribeToken:
    """Check a token's form, signature and expiry; what it says.

    Raises :class:`ValidationError` (entity ``campaign.unsubscribe``, field
    ``token``) naming the check that failed.
    """
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise _refuse(
            "malformed unsubscribe token; use the whole token from the link (it starts "
            f"with '{VERSION}.')"
        )
    payload, signature = parts[1], parts[2]
    if not signature_matches(crm.privacy.secret(), _message(payload), signature):
        raise _refuse(
            "the unsubscribe token's signature does not match (it was changed, forged or made "
            "by another CRM); withdraw consent with 'crmkit consent withdraw' instead"
        )
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        contact_id, campaign_id, purpose, channel, expires = json.loads(raw)
        expires_at = dt.datetime.fromtimestamp(int(expires), dt.UTC)
        fields = (contact_id, campaign_id, purpose, channel)
        if not all(isinstance(value, str) and value for value in fields):
            raise ValueError("empty field")
    except (binascii.Error, ValueError, TypeError, OverflowError, OSError):
        raise _refuse("malformed unsubscribe token; its contents cannot be read") from None
    if (now or utcnow()) >= expires_at:
        raise _refuse(
            f"the unsubscribe link expired at {expires_at:%Y-%m-%d %H:%M} UTC; use the link in "
            "a newer message, or withdraw consent with 'crmkit consent withdraw'"
        )
    return UnsubscribeToken(contact_id, campaign_id, purpose, channel, expires_at)


def unsubscribe_link(crm: CRM, settings: CampaignSettings, token: str) -> str:
    """The unsubscribe page of ``settings`` with ``?token=...`` added to its query."""
    del crm  # the link depends on the settings only; kept for a uniform signature
    parts = urlsplit(settings.unsubscribe_base())
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("token", token)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def redeem(
    crm: CRM, token: str, *, actor: str | None = None, now: dt.datetime | None = None
) -> Unsubscribed:
    """Withdraw the consent a token names, once; the second time only say so.

    Everything happens in one unit of work: the withdrawal in the consent
    ledger, the ``unsubscribe`` response on the person's latest message of the
    campaign and the ``campaign.unsubscribed`` event. A bad token raises
    :class:`ValidationError` and writes nothing; a contact or campaign that no
    longer exists raises :class:`NotFound`.
    """
    said = read_token(crm, token, now=now)
    at = now or utcnow()
    with crm.unit_of_work(actor) as uow:
        campaign = uow.tx.get(crm.entity_type(CAMPAIGN), said.campaign_id)
        if campaign is None:
            raise NotFound(CAMPAIGN, said.campaign_id)
        if uow.tx.get(crm.entity_type("contact"), said.contact_id) is None:
            raise NotFound("contact", said.contact_id)
        facts = crm.privacy.facts(uow.tx, said.contact_id)
        already = facts.consent(said.purpose, said.channel) == "withdrawn"
        if not already:
            crm.privacy.consent.withdraw(
                said.contact_id,
                purpose=said.purpose,
                channel=said.channel,
                source=SOURCE,
                evidence=f"unsubscribe link in campaign {campaign['name']!r} ({campaign['id']})",
                now=at,
                uow=uow,
            )
            _record(uow, said, campaign, at)
    return Unsubscribed(said.contact_id, said.purpose, said.channel, said.campaign_id, already)


def _record(
    uow: UnitOfWork,
    said: UnsubscribeToken,
    campaign: dict[str, object],
    at: dt.datetime,
) -> None:
    """The ``unsubscribe`` response and event, on the person's timeline when allowed."""
    crm = uow.crm
    latest = uow.tx.query(
        crm.entity_type(DELIVERY),
        Query(
            AllOf((Cond("campaign_id", "eq", said.campaign_id),
                   Cond("contact_id", "eq", said.contact_id))),
            ("-intended_at", "-id"),
            1,
        ),
    )
    delivery_id = latest[0]["id"] if latest else None
    response_type = crm.entity_type(RESPONSE)
    response = Response(
        delivery_id=delivery_id,
        campaign_id=said.campaign_id,
        contact_id=said.contact_id,
        kind="unsubscribe",
        at=at,
        detail=None,
    )
    uow.tx.add(response_type, response_type.to_row(response))
    payload = {
        "campaign_id": said.campaign_id,
        "delivery_id": delivery_id,
        "purpose": said.purpose,
        "channel": said.channel,
        "already": False,
    }
    note_activity(
        uow,
        "campaign.unsubscribed",
        payload,
        contact_id=said.contact_id,
        summary=f"Unsubscribed from {said.purpose} by {said.channel} "
        f"(campaign {campaign['name']})",
        channel=said.channel,
    )
