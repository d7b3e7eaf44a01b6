"""Screening recipients at send time: who may get a campaign message now, and where.

Every recipient of a batch is put to the privacy policy at the moment of
sending (:func:`crmkit.privacy.processing.decisions_for`), not when the segment
was drawn. A refused one is left out under the rule's name (``consent``,
``erasure``, ``restriction``, ...); so is a recipient with no address on the
channel (``no_address``), one whose address is blocked after bounces or a
complaint (``blocked_address``), and one whose address another contact already
has a message of the same step going to (``duplicate_address``: two records of
one person get one message, not two).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from crmkit.entities.core import Contact
from crmkit.privacy.processing import decisions_for
from crmkit.storage import AllOf, Cond, Query
from crmkit_campaign.responses import address_key, blocked_among

if TYPE_CHECKING:
    from crmkit import CRM
    from crmkit.privacy.model import Decision
    from crmkit.storage import StorageReader
    from crmkit_campaign.entities import Campaign

DELIVERY = "campaign.delivery"
ADDRESS_FIELDS: dict[str, str] = {"email": "email", "sms": "phone", "phone": "phone"}
"""The contact field holding a person's address on a channel. Any other channel's
address is the contact's custom field named after the channel (``custom.social``)."""

Excluded = list[tuple[str, str]]
"""``(contact id, reason)`` for each recipient left out."""
Ready = list[tuple[Contact, str]]
"""``(contact, address)`` for each recipient who may get the message."""


def address_of(contact: Contact, channel: str) -> str | None:
    """Where ``contact`` is reached on ``channel`` (see :data:`ADDRESS_FIELDS`), or ``None``."""
    name = ADDRESS_FIELDS.get(channel)
    if name is not None:
        value = getattr(contact, name)
    else:
        custom = contact.custom if isinstance(contact.custom, Mapping) else {}
        value = custom.get(channel)
    return value.strip() or None if isinstance(value, str) else None


def reason_of(decision: Decision | None) -> str:
    """The exclusion reason for a refusal: the rule's name, crmkit's own without ``crmkit.``."""
    if decision is None:
        return "policy"
    return decision.rule.removeprefix("crmkit.") or "policy"


def screen(
    crm: CRM,
    campaign: Campaign,
    ids: Sequence[str],
    *,
    actor: str | None,
    step_id: str | None = None,
) -> tuple[Excluded, Ready]:
    """Split recipients into exclusions and ``(contact, address)`` pairs ready to be sent.

    The policy decides for every one of them now, on committed data; then the
    address on the channel and whether it is blocked. With ``step_id``, a
    recipient whose address already has that step's message (for another
    contact, or for one earlier in ``ids``) is left out as ``duplicate_address``.
    Contacts deleted since they were found due are dropped silently.
    """
    decisions = decisions_for(
        crm, "contact", ids, purpose=campaign.purpose, channel=campaign.channel, actor=actor
    )
    excluded: Excluded = []
    ready: Ready = []
    with crm.backend.read() as reader:
        contact_type = crm.entity_type("contact")
        rows = {
            row["id"]: row
            for row in reader.query(contact_type, Query(Cond("id", "in", list(ids))))
        }
        for contact_id in ids:
            row = rows.get(contact_id)
            if row is None:
                continue  # deleted since it was found due
            decision = decisions.get(contact_id)
            if decision is None or not decision.allowed:
                excluded.append((contact_id, reason_of(decision)))
                continue
            contact = Contact(**row)
            address = address_of(contact, campaign.channel)
            if address is None:
                excluded.append((contact_id, "no_address"))
            else:
                ready.append((contact, address))
        blocked = blocked_among(reader, [address for _, address in ready])
        taken = _addresses_sent_to(crm, reader, step_id, ready) if step_id is not None else {}
    kept: Ready = []
    for contact, address in ready:
        key = address_key(address)
        if key in blocked:
            excluded.append((contact.id, "blocked_address"))
        elif taken.setdefault(key, contact.id) != contact.id:
            excluded.append((contact.id, "duplicate_address"))
        else:
            kept.append((contact, address))
    return excluded, kept


def _addresses_sent_to(
    crm: CRM, reader: StorageReader, step_id: str, ready: Ready
) -> dict[str, str]:
    """Address key -> the contact whose delivery of ``step_id`` holds that address.

    Only the addresses of ``ready`` are looked up, as written and as compared
    (:func:`~crmkit_campaign.responses.address_key`).
    """
    spellings = sorted({s for _, address in ready for s in (address, address_key(address))})
    if not spellings:
        return {}
    rows = reader.query(
        crm.entity_type(DELIVERY),
        Query(AllOf((Cond("step_id", "eq", step_id), Cond("address", "in", spellings)))),
    )
    holders: dict[str, str] = {}
    # A message already handed over holds its address before one only intended.
    for row in sorted(rows, key=lambda r: (r["status"] == "intended", r["id"])):
        if row["address"]:
            holders.setdefault(address_key(row["address"]), row["contact_id"])
    return holders
