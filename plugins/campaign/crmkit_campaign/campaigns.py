"""Campaigns: a segment, a purpose and channel, and steps sent one after another.

A campaign goes to one segment for one purpose on one channel (the consent it
needs). Its steps are the messages, sent on the follow-up schedule of
:mod:`crmkit_campaign.followups` (step 1 to the segment's members, each later
step ``wait_days`` after the one before, unless a response ``stop_on`` names
stopped it). A step may test two variants: ``split_b`` percent of its
recipients get variant B, chosen by a stable hash of step and contact, so a
person always gets the same variant.
"""

from __future__ import annotations

import builtins
import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.errors import DuplicateError, NotFound, ValidationError
from crmkit.storage import Cond, Query
from crmkit_campaign.entities import AB_METRICS, STOP_REASONS, Campaign, Step
from crmkit_campaign.followups import (
    due_filter,
    due_recipients,
    stop_filter,
    stopped_recipients,
)
from crmkit_campaign.records import (
    CAMPAIGN,
    STEP,
    campaign_steps,
    find_campaign,
    find_segment,
)
from crmkit_campaign.templates import fields_in

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.types import EntityType
    from crmkit.uow import UnitOfWork

__all__ = [
    "Campaigns",
    "campaign_steps",
    "check_step",
    "due_filter",
    "due_recipients",
    "find_campaign",
    "step_texts",
    "stop_filter",
    "stopped_recipients",
    "variant_for",
]

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


class Campaigns:
    """Create campaigns, add their steps, start and pause them."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    def _etype(self, name: str) -> EntityType:
        return self._crm.entity_type(name)

    def create(
        self,
        name: str,
        *,
        segment: str,
        purpose: str = "marketing",
        channel: str = "email",
        sender: str | None = None,
        throttle_per_minute: int | None = None,
        ab_metric: str | None = None,
        actor: str | None = None,
    ) -> Campaign:
        """Create a draft campaign for ``segment`` (id or name); event ``campaign.created``.

        ``purpose`` and ``channel`` must be registered with the privacy policy
        (``any`` is not a channel a message can go on); ``sender`` overrides
        the From address of the settings.
        """
        title = _text(name)
        if title is None:
            raise ValidationError(CAMPAIGN, "name", "a campaign needs a name")
        self._crm.privacy.check_purpose(purpose)
        self._crm.privacy.check_channel(channel)
        if channel == "any":
            raise ValidationError(
                CAMPAIGN, "channel", "'any' is not a channel a message can go on; name one, "
                "e.g. email or sms"
            )
        sender = _text(sender)
        if sender is not None and not _ADDRESS.match(sender):
            raise ValidationError(
                CAMPAIGN, "sender", f"{sender!r} is not an email address; give one such as "
                "news@shop.example"
            )
        if throttle_per_minute is not None and throttle_per_minute < 1:
            raise ValidationError(
                CAMPAIGN, "throttle_per_minute", f"{throttle_per_minute}: give 1 or more "
                "messages per minute, or no limit"
            )
        if ab_metric is not None and ab_metric not in AB_METRICS:
            raise ValidationError(
                CAMPAIGN, "ab_metric", f"{ab_metric!r}: use one of {', '.join(AB_METRICS)}"
            )
        etype = self._etype(CAMPAIGN)
        with self._crm.unit_of_work(actor) as uow:
            self._crm.privacy.require("write", actor=uow.actor, entity=CAMPAIGN, uow=uow)
            target = find_segment(uow.tx, self._crm, segment)
            if uow.tx.get_by(etype, "name", title) is not None:
                raise DuplicateError(
                    CAMPAIGN, "name", f"a campaign named {title!r} already exists; choose "
                    "another name"
                )
            campaign = Campaign(
                name=title,
                purpose=purpose,
                channel=channel,
                segment_id=target.id,
                sender=sender,
                throttle_per_minute=throttle_per_minute,
                ab_metric=ab_metric,
            )
            uow.tx.add(etype, etype.to_row(campaign))
            uow.raise_event(
                "campaign.created",
                {
                    "campaign_id": campaign.id,
                    "name": title,
                    "segment_id": target.id,
                    "purpose": purpose,
                    "channel": channel,
                },
                subject_id=campaign.id,
            )
        return campaign

    def add_step(
        self,
        campaign: str,
        *,
        body: str,
        subject: str | None = None,
        wait_days: int = 0,
        variant_b_subject: str | None = None,
        variant_b_body: str | None = None,
        split_b: int = 0,
        stop_on: Iterable[str] | None = None,
        actor: str | None = None,
    ) -> Step:
        """Add the next step (message) to a campaign; event ``campaign.step.added``.

        Every placeholder is checked now (:func:`~crmkit_campaign.templates.fields_in`).
        Step 1 waits 0 days; a later step waits 1 day or more after the step
        before. ``split_b`` from 1 to 100 sends variant B to that percent of
        recipients and needs variant B's texts; ``stop_on`` (default: all of
        replied, converted, unsubscribed) says which responses end the campaign
        for a contact before this step.
        """
        etype = self._etype(STEP)
        with self._crm.unit_of_work(actor) as uow:
            self._crm.privacy.require("write", actor=uow.actor, entity=STEP, uow=uow)
            owner = find_campaign(uow.tx, self._crm, campaign)
            if owner.status == "done":
                raise ValidationError(
                    CAMPAIGN, "status", "the campaign is done; create a new one to send more",
                    record=owner.name,
                )
            position = uow.tx.count(etype, Cond("campaign_id", "eq", owner.id)) + 1
            step = Step(
                campaign_id=owner.id,
                position=position,
                wait_days=wait_days,
                subject=_text(subject),
                body=body.strip() if isinstance(body, str) else body,
                variant_b_subject=_text(variant_b_subject),
                variant_b_body=_text(variant_b_body),
                split_b=split_b,
                stop_on=_stop_on(stop_on),
            )
            check_step(owner, step)
            uow.tx.add(etype, etype.to_row(step))
            uow.raise_event(
                "campaign.step.added",
                {
                    "campaign_id": owner.id,
                    "step_id": step.id,
                    "position": position,
                    "wait_days": step.wait_days,
                    "split_b": step.split_b,
                },
                subject_id=owner.id,
            )
        return step

    def get(self, ref: str) -> Campaign:
        """The campaign with this id or name; :class:`NotFound` if none."""
        with self._crm.backend.read() as reader:
            return find_campaign(reader, self._crm, ref)

    def list(self) -> builtins.list[Campaign]:
        """Every campaign, oldest first."""
        with self._crm.backend.read() as reader:
            rows = reader.query(self._etype(CAMPAIGN), Query(order_by=("created_at", "id")))
        return [Campaign(**row) for row in rows]

    def steps(self, campaign: str) -> builtins.list[Step]:
        """A campaign's steps in sending order."""
        with self._crm.backend.read() as reader:
            owner = find_campaign(reader, self._crm, campaign)
            return campaign_steps(reader, self._crm, owner.id)

    def step(self, campaign: str, position: int) -> Step:
        """Step number ``position`` (from 1) of a campaign; :class:`NotFound` if none."""
        for step in self.steps(campaign):
            if step.position == position:
                return step
        raise NotFound(STEP, f"{campaign} #{position}")

    def start(self, campaign: str, *, actor: str | None = None) -> Campaign:
        """Start a draft campaign or resume a paused one; event ``campaign.started``.

        Starting sends nothing by itself: ``crmkit campaign send`` sends what is
        due. An active campaign is returned as it is.
        """
        with self._crm.unit_of_work(actor) as uow:
            owner = find_campaign(uow.tx, self._crm, campaign)
            if owner.status == "active":
                return owner
            if owner.status == "done":
                raise ValidationError(
                    CAMPAIGN, "status", "the campaign is done and cannot start again",
                    record=owner.name,
                )
            if not campaign_steps(uow.tx, self._crm, owner.id):
                raise ValidationError(
                    CAMPAIGN, "status", "the campaign has no steps; add one first with "
                    f"'crmkit campaign step {owner.name!r} --body TEXT'", record=owner.name,
                )
            now = utcnow()
            started = owner.started_at or now
            self._save(uow, owner, {"status": "active", "started_at": started, "updated_at": now})
            uow.raise_event(
                "campaign.started",
                {"campaign_id": owner.id, "name": owner.name, "started_at": started},
                subject_id=owner.id,
            )
        return attrs.evolve(owner, status="active", started_at=started)

    def pause(self, campaign: str, *, actor: str | None = None) -> Campaign:
        """Pause an active campaign: nothing of it is sent until it is started again."""
        return self._move(campaign, "paused", ("active", "paused"), actor)

    def finish(self, campaign: str, *, actor: str | None = None) -> Campaign:
        """Mark a campaign done: it sends nothing more and takes no new steps."""
        return self._move(campaign, "done", ("draft", "active", "paused", "done"), actor)

    def _move(
        self, campaign: str, status: str, allowed_from: Sequence[str], actor: str | None
    ) -> Campaign:
        with self._crm.unit_of_work(actor) as uow:
            owner = find_campaign(uow.tx, self._crm, campaign)
            if owner.status not in allowed_from:
                raise ValidationError(
                    CAMPAIGN, "status", f"the campaign is {owner.status}; only a campaign that "
                    f"is {' or '.join(allowed_from)} can become {status}", record=owner.name,
                )
            if owner.status != status:
                self._save(uow, owner, {"status": status, "updated_at": utcnow()})
        return attrs.evolve(owner, status=status)

    def _save(self, uow: UnitOfWork, campaign: Campaign, changes: dict[str, Any]) -> None:
        self._crm.privacy.require("write", actor=uow.actor, entity=CAMPAIGN, uow=uow)
        uow.tx.update(self._etype(CAMPAIGN), campaign.id, changes)


def _stop_on(stop_on: Iterable[str] | None) -> list[str]:
    if stop_on is None:
        return list(STOP_REASONS)
    chosen = list(dict.fromkeys(stop_on))
    unknown = [reason for reason in chosen if reason not in STOP_REASONS]
    if unknown:
        raise ValidationError(
            STEP, "stop_on", f"{', '.join(map(repr, unknown))}: use any of "
            f"{', '.join(STOP_REASONS)}"
        )
    return chosen


def check_step(campaign: Campaign, step: Step) -> None:
    """Refuse a step whose texts, wait, or A/B split do not make a sendable message."""
    if not isinstance(step.body, str) or not step.body.strip():
        raise ValidationError(STEP, "body", "a step needs a message body (--body TEXT or @file)")
    if campaign.channel == "email" and step.subject is None:
        raise ValidationError(STEP, "subject", "an email step needs a subject (--subject TEXT)")
    if step.position == 1 and step.wait_days != 0:
        raise ValidationError(
            STEP, "wait_days", f"{step.wait_days}: the first step goes out when the campaign "
            "sends, so it waits 0 days"
        )
    if step.position > 1 and step.wait_days < 1:
        raise ValidationError(
            STEP, "wait_days", f"{step.wait_days}: a follow-up waits 1 day or more after the "
            "step before (--wait-days N)"
        )
    _check_split(step)
    texts = {
        "subject": step.subject,
        "body": step.body,
        "variant_b_subject": step.variant_b_subject,
        "variant_b_body": step.variant_b_body,
    }
    for name, text in texts.items():
        if text is not None:
            fields_in(text, field=name)


def _check_split(step: Step) -> None:
    if isinstance(step.split_b, bool) or not 0 <= step.split_b <= 100:
        raise ValidationError(
            STEP, "split_b", f"{step.split_b}: give the percent of recipients who get variant "
            "B, from 0 (no A/B test) to 100"
        )
    has_b = step.variant_b_subject is not None or step.variant_b_body is not None
    if step.split_b == 0:
        if has_b:
            raise ValidationError(
                STEP, "split_b", "variant B texts were given without a split; say what percent "
                "gets variant B (--split-b 50)"
            )
        return
    if step.variant_b_body is None:
        raise ValidationError(
            STEP, "variant_b_body", f"an A/B step (split {step.split_b}%) needs variant B's "
            "body (--variant-b-body TEXT)"
        )
    if step.subject is not None and step.variant_b_subject is None:
        raise ValidationError(
            STEP, "variant_b_subject", f"an A/B step (split {step.split_b}%) needs variant B's "
            "subject too (--variant-b-subject TEXT)"
        )


def variant_for(step: Step, contact_id: str) -> str:
    """``"A"`` or ``"B"``: the same answer for the same step and contact, every time.

    The first 8 bytes of SHA-256 over ``"{step id}:{contact id}"`` give a bucket
    from 0 to 99; buckets below ``split_b`` get variant B.
    """
    if step.split_b <= 0:
        return "A"
    digest = hashlib.sha256(f"{step.id}:{contact_id}".encode()).digest()
    return "B" if int.from_bytes(digest[:8], "big") % 100 < step.split_b else "A"


def step_texts(step: Step, variant: str) -> tuple[str | None, str]:
    """The subject and body a recipient of ``variant`` gets."""
    if variant == "B" and step.variant_b_body is not None:
        return step.variant_b_subject or step.subject, step.variant_b_body
    return step.subject, step.body
