"""What the campaigns plugin stores: segments, campaigns and their steps, and what was sent.

Privacy: segments, campaigns and steps describe the seller's marketing and
name no person, so they are kept when someone is erased. Every record about
one person (a segment membership, a delivery, an exclusion, a response, a
blocked address) links to the contact with ``ref="contact"`` and is deleted
with them; the address a message went to and the free text of a response are
personal. Erasing a person also puts their addresses on crmkit's suppression
list, so the deleted block cannot let a message through again.

The values of the closed vocabularies (statuses, kinds, variants) are listed
here once, for the services that write them and the tests that check them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

import crmkit
from crmkit.entities import utcnow

SEGMENT_KINDS: tuple[str, ...] = ("dynamic", "static")
CAMPAIGN_STATUSES: tuple[str, ...] = ("draft", "active", "paused", "done")
STOP_REASONS: tuple[str, ...] = ("replied", "converted", "unsubscribed")
AB_METRICS: tuple[str, ...] = STOP_REASONS
VARIANTS: tuple[str, ...] = ("A", "B")
DELIVERY_STATUSES: tuple[str, ...] = (
    "intended",
    "sending",
    "sent",
    "failed",
    "bounced",
    "in_doubt",
)
RESPONSE_KINDS: tuple[str, ...] = (
    "bounce_hard",
    "bounce_soft",
    "complaint",
    "reply",
    "unsubscribe",
    "conversion",
)
TOUCHES: tuple[str, ...] = ("first", "last")


def _setting(default: Any = attrs.NOTHING, *, indexed: bool = False, unique: bool = False) -> Any:
    """A non-personal value of the seller's own marketing records, kept on erasure."""
    return crmkit.field(
        default=default, privacy="none", erase="keep", indexed=indexed, unique=unique
    )


def _of_person(default: Any = attrs.NOTHING, *, indexed: bool = False, unique: bool = False) -> Any:
    """A non-personal value of a record about one person, deleted with that record."""
    return crmkit.field(
        default=default, privacy="none", erase="delete", indexed=indexed, unique=unique
    )


def _personal(default: Any = attrs.NOTHING, *, unique: bool = False) -> Any:
    """A personal value of a record about one person, deleted with that record."""
    return crmkit.field(default=default, privacy="personal", erase="delete", unique=unique)


def _person_link() -> Any:
    """The link to the contact a record is about: erasing the contact deletes the record."""
    return crmkit.field(ref="contact", privacy="personal", erase="delete")


def _default_stop_on() -> list[str]:
    return list(STOP_REASONS)


@crmkit.entity("campaign.segment", description="A named group of contacts campaigns go to.")
@attrs.define(kw_only=True)
class Segment(crmkit.Entity):
    """Who a campaign reaches: a rule tree over contacts (dynamic) or a frozen list (static)."""

    name: str = _setting(unique=True)
    description: str | None = _setting(None)
    rules: dict[str, Any] = crmkit.field(factory=dict, privacy="none", erase="keep")
    kind: str = _setting("dynamic")
    snapshot_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")


@crmkit.entity("campaign.segment_member", description="A contact on a static segment's list.")
@attrs.define(kw_only=True)
class SegmentMember(crmkit.Entity):
    """One contact frozen into a static segment by its last snapshot."""

    segment_id: str = _of_person(indexed=True)
    contact_id: str = _person_link()
    key: str = _personal(unique=True)
    """``f"{segment_id}:{contact_id}"``: a contact is on a segment once."""


@crmkit.entity("campaign.campaign", description="A marketing campaign sent to a segment.")
@attrs.define(kw_only=True)
class Campaign(crmkit.Entity):
    """A campaign: its purpose and channel (what consent it needs), segment, status, limits."""

    name: str = _setting(unique=True)
    purpose: str = _setting("marketing")
    channel: str = _setting("email")
    segment_id: str = _setting()
    status: str = _setting("draft")
    sender: str | None = _setting(None)
    """The From address, overriding ``[plugins.campaign] sender``."""
    throttle_per_minute: int | None = _setting(None)
    started_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="keep")
    ab_metric: str | None = _setting(None)
    """What decides an A/B test: ``replied``, ``converted`` or ``unsubscribed``."""


@crmkit.entity("campaign.step", description="One message of a campaign, in its follow-up order.")
@attrs.define(kw_only=True)
class Step(crmkit.Entity):
    """A message of a campaign: its place, its wait after the previous one, its A/B variants."""

    campaign_id: str = _setting(indexed=True)
    position: int = _setting()
    """From 1, in sending order."""
    wait_days: int = _setting(0)
    """Days after the previous step went to the same contact (0 for step 1)."""
    subject: str | None = _setting(None)
    body: str = _setting()
    variant_b_subject: str | None = _setting(None)
    variant_b_body: str | None = _setting(None)
    split_b: int = _setting(0)
    """Percent (0-100) of recipients who get variant B; 0 means no A/B test."""
    stop_on: list[str] = crmkit.field(factory=_default_stop_on, privacy="none", erase="keep")
    """Responses after which a contact gets no further steps."""


@crmkit.entity("campaign.delivery", description="One step of a campaign sent to one contact.")
@attrs.define(kw_only=True)
class Delivery(crmkit.Entity):
    """The intent, then the outcome, of sending one step to one contact (at most once)."""

    key: str = _personal(unique=True)
    """``f"{step_id}:{contact_id}"``: the idempotency key of the send."""
    campaign_id: str = _of_person(indexed=True)
    step_id: str = _of_person(indexed=True)
    contact_id: str = _person_link()
    variant: str = _of_person("A")
    status: str = _of_person("intended", indexed=True)
    address: str | None = _personal(None)
    """Where the message went (an email address, a phone number)."""
    message_id: str = _of_person(unique=True)
    """The Message-ID crmkit gives the message: ``<{delivery id}@crmkit>``."""
    provider_id: str | None = _of_person(None)
    intended_at: dt.datetime = crmkit.field(factory=utcnow, privacy="none", erase="delete")
    sent_at: dt.datetime | None = crmkit.field(default=None, privacy="none", erase="delete")
    error: str | None = _of_person(None)
    """Why sending failed, in words that name no person."""


@crmkit.entity(
    "campaign.exclusion", description="A contact a campaign step left out, and the reason."
)
@attrs.define(kw_only=True)
class Exclusion(crmkit.Entity):
    """A recipient not sent a step: the policy refused, no address, a blocked address, stopped."""

    campaign_id: str = _of_person(indexed=True)
    step_id: str = _of_person(indexed=True)
    contact_id: str = _person_link()
    reason: str = _of_person()
    """The privacy rule's name, or ``no_address``, ``blocked_address``, ``stopped:replied`` ..."""
    at: dt.datetime = crmkit.field(factory=utcnow, privacy="none", erase="delete")
    key: str = _personal(unique=True)
    """``f"{step_id}:{contact_id}"``: one exclusion per step and contact."""


@crmkit.entity(
    "campaign.response", description="What came back from a message: bounce, reply, conversion."
)
@attrs.define(kw_only=True)
class Response(crmkit.Entity):
    """A bounce, complaint, reply, unsubscribe or attributed conversion."""

    delivery_id: str | None = _of_person(None, indexed=True)
    """The delivery it answers (none when it cannot be tied to one message)."""
    campaign_id: str = _of_person(indexed=True)
    contact_id: str = _person_link()
    kind: str = _of_person(indexed=True)
    at: dt.datetime = crmkit.field(factory=utcnow, privacy="none", erase="delete", indexed=True)
    detail: str | None = _personal(None)
    """The provider's diagnostic or the reply's text."""
    deal_id: str | None = _of_person(None)
    touch: str | None = _of_person(None)
    """For conversions: ``first`` or ``last`` touch."""


@crmkit.entity(
    "campaign.blocked_address", description="An address no campaign may send to any more."
)
@attrs.define(kw_only=True)
class BlockedAddress(crmkit.Entity):
    """An address blocked after hard bounces or a complaint."""

    address: str = _personal(unique=True)
    contact_id: str = _person_link()
    channel: str = _of_person()
    reason: str = _of_person()
    at: dt.datetime = crmkit.field(factory=utcnow, privacy="none", erase="delete")


ENTITY_CLASSES: tuple[type, ...] = (
    Segment,
    SegmentMember,
    Campaign,
    Step,
    Delivery,
    Exclusion,
    Response,
    BlockedAddress,
)
