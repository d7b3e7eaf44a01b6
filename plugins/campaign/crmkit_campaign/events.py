"""The events the campaigns plugin raises, with the payload keys each one carries.

Events about a segment or a campaign have that record as their subject
(``subject_id`` is the segment's or the campaign's id). Events about one
person have that contact as their subject; the ones that are also facts of
the person's history (a message sent, a bounce, a reply, an unsubscribe, a
conversion) are raised with ``uow.record_activity`` so they appear on the
contact's timeline. Payloads
name records by id and never carry an address or a message's text.
"""

from __future__ import annotations

from crmkit.events import EventType


def _event(name: str, description: str, subject: str = "contact") -> EventType:
    return EventType(name, description=description, subject=subject)


EVENT_TYPES: tuple[EventType, ...] = (
    _event(
        "campaign.segment.created",
        "A segment was defined; payload: segment_id, name, kind.",
        "campaign.segment",
    ),
    _event(
        "campaign.segment.snapshot",
        "A static segment's members were replaced by the current matches; payload: "
        "segment_id, name, members, added, removed.",
        "campaign.segment",
    ),
    _event(
        "campaign.created",
        "A campaign was created; payload: campaign_id, name, segment_id, purpose, channel.",
        "campaign.campaign",
    ),
    _event(
        "campaign.step.added",
        "A step was added to a campaign; payload: campaign_id, step_id, position, wait_days, "
        "split_b.",
        "campaign.campaign",
    ),
    _event(
        "campaign.started",
        "A campaign was started (or resumed); payload: campaign_id, name, started_at.",
        "campaign.campaign",
    ),
    _event(
        "campaign.message.sent",
        "A step was delivered to a contact's channel; payload: campaign_id, step_id, "
        "delivery_id, message_id, variant, channel.",
    ),
    _event(
        "campaign.message.failed",
        "Sending a step to a contact failed; payload: campaign_id, step_id, delivery_id, "
        "permanent, error.",
    ),
    _event(
        "campaign.recipient.excluded",
        "A contact was left out of a step; payload: campaign_id, step_id, reason.",
    ),
    _event(
        "campaign.message.bounced",
        "A sent message bounced; payload: campaign_id, delivery_id, message_id, hard.",
    ),
    _event(
        "campaign.complaint.received",
        "A recipient reported a message as spam; payload: campaign_id, delivery_id, message_id.",
    ),
    _event(
        "campaign.reply.received",
        "A recipient replied to a message; payload: campaign_id, delivery_id, response_id.",
    ),
    _event(
        "campaign.unsubscribed",
        "A recipient withdrew consent through an unsubscribe link; payload: campaign_id, "
        "purpose, channel, already.",
    ),
    _event(
        "campaign.conversion.attributed",
        "A won deal was credited to a campaign message; payload: campaign_id, delivery_id, "
        "deal_id, touch.",
    ),
    _event(
        "campaign.address.blocked",
        "An address was blocked after bounces or a complaint; payload: channel, reason, "
        "contact_id.",
    ),
)

EVENT_NAMES: tuple[str, ...] = tuple(e.name for e in EVENT_TYPES)
