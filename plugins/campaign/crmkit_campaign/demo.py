"""Sample campaign data for ``crmkit demo``: segments, a two-step newsletter and its results.

A demo project has no mail server and no ``[plugins.campaign]`` settings (no
sender, no unsubscribe page), and a CRM's settings cannot change once it is
open, so the demo does not send through an adapter. It writes what a sender
would have stored, with times in the recent past: one delivery (status
``sent``) per message, an exclusion for every recipient the campaign left
out, and a ``campaign.message.sent`` entry on each recipient's timeline. Who
is due, who is stopped and who the privacy policy refuses are worked out with
the plugin's own functions (:func:`~crmkit_campaign.campaigns.due_recipients`,
:func:`~crmkit_campaign.campaigns.stopped_recipients`,
:func:`crmkit.privacy.processing.decisions_for`), exactly as a real send does.

What came back goes through the plugin's own calls with those past times:
replies, hard bounces, a spam complaint (which blocks the address and
withdraws consent) and an unsubscribe redeemed from a real signed token
(which withdraws consent through the consent ledger). When the sales plugin is
loaded too, a recipient wins a deal and the won deal is credited to the
campaign (first and last touch) by the plugin's ``sales.deal.won`` subscriber.

Every choice comes from ``random.Random(demo.seed)`` walking the demo's
contacts in the order they were made (A/B variants too, so they do not depend
on the new step's id), so the same seed gives the same recipients, variants
and responses on every run; times are placed relative to the moment the demo
is made, like the sales plugin's demo.

The featured contact gets the newsletter only if they subscribed to it (the
core demo tags subscribers ``newsletter`` and records their opt-ins); the demo
never grants consent on anyone's behalf. A subscriber who is featured is kept
out of the random withdrawals, bounces and complaint, so their view shows the
messages they received and a reply.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.entities.core import Contact, Interaction
from crmkit.ids import new_id
from crmkit.privacy.processing import decisions_for
from crmkit.storage import AllOf, Cond, Query
from crmkit_campaign.campaigns import Campaigns, due_recipients, stopped_recipients
from crmkit_campaign.entities import Campaign, Delivery, Exclusion, Step
from crmkit_campaign.responses import record_bounce, record_complaint, record_reply
from crmkit_campaign.segments import Segments
from crmkit_campaign.sending import address_of, reason_of
from crmkit_campaign.unsubscribe import make_token, redeem

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.demo.load import DemoData

ACTOR = "demo"
PURPOSE = "marketing"
CHANNEL = "email"
NEWSLETTER_RULES: dict[str, Any] = {"field": "tags", "op": "has", "value": "newsletter"}
BUYER_RULES: dict[str, Any] = {"interaction": {"kind": "purchase"}}
STEP1_DAYS_AGO = 20
FOLLOW_UP_WAIT = 7
SPLIT_B = 30
OPTED_OUT_SHARE = 0.06
"""Subscribers who withdrew from email marketing before the newsletter went out."""
REPLY_SHARE = 0.08
HARD_BOUNCES = 3
REPLIES = (
    "Thanks, the spring offer looks good. Can someone call me about it?",
    "Please send me the price list for the team plan.",
    "Is the discount also valid for existing customers?",
    "Great newsletter, keep it coming!",
    "Could you add my colleague to this list?",
)
BOUNCE_DETAIL = "550 5.1.1 mailbox unavailable"


@attrs.define
class _Tally:
    """What the demo made, for its summary line."""

    segments: int = 0
    sent: int = 0
    excluded: dict[str, int] = attrs.field(factory=dict)
    replies: int = 0
    bounces: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    conversions: int = 0

    def exclude(self, reason: str, count: int = 1) -> None:
        self.excluded[reason] = self.excluded.get(reason, 0) + count

    def summary(self) -> str:
        total = sum(self.excluded.values())
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.excluded.items()))
        parts = [
            f"{self.segments} segments, 1 campaign: {self.sent} sent",
            f"{total} excluded ({reasons})" if total else "0 excluded",
            f"{self.replies} replies",
            f"{self.bounces} bounces",
            f"{self.complaints} complaint",
            f"{self.unsubscribes} unsubscribe",
        ]
        if self.conversions:
            parts.append(f"{self.conversions} conversions")
        return ", ".join(parts)


def load_demo(crm: CRM, demo: DemoData) -> str:
    """Add the campaign demo data to ``crm``; its summary (``"2 segments, 1 campaign: ..."``)."""
    rng = random.Random(demo.seed)
    now = utcnow()
    first_at = now - dt.timedelta(days=STEP1_DAYS_AGO)
    tally = _Tally()
    order = {cid: n for n, cid in enumerate(demo.contact_ids)}

    segments = Segments(crm)
    readers = segments.create(
        "Newsletter",
        NEWSLETTER_RULES,
        description="Everyone who signed up for the newsletter.",
        actor=ACTOR,
    )
    segments.create(
        "Customers",
        BUYER_RULES,
        description="Contacts who bought something (a purchase on their timeline).",
        actor=ACTOR,
    )
    tally.segments = 2
    campaign, first, follow_up = _make_campaign(crm, readers.id, started_at=first_at)

    members = _due(crm, campaign, first, first_at, tally)
    keep = {demo.featured_contact}
    opted_out = _pick(rng, [c for c in members if c not in keep], OPTED_OUT_SHARE)
    for n, contact_id in enumerate(sorted(opted_out, key=order.__getitem__)):
        crm.privacy.consent.withdraw(
            contact_id,
            purpose=PURPOSE,
            channel=CHANNEL,
            source="preference centre",
            evidence="unticked 'news and offers' in the account settings",
            actor=ACTOR,
            now=first_at - dt.timedelta(days=3, minutes=17 * n),
        )
    sent_first = _send(crm, rng, campaign, first, members, first_at, tally, order)

    recipients = sorted(sent_first, key=order.__getitem__)
    others = [c for c in recipients if c not in keep]
    bounced = rng.sample(others, min(HARD_BOUNCES, len(others)))
    others = [c for c in others if c not in bounced]
    repliers = _pick(rng, others, REPLY_SHARE)
    if demo.featured_contact in sent_first:
        repliers.insert(0, demo.featured_contact)
    others = [c for c in others if c not in repliers]
    quitters = rng.sample(others, min(2, len(others)))
    complainer, unsubscriber = [*quitters, None, None][:2]

    for n, contact_id in enumerate(bounced):
        record_bounce(
            crm,
            sent_first[contact_id],
            hard=True,
            detail=BOUNCE_DETAIL,
            actor=ACTOR,
            at=first_at + dt.timedelta(hours=1, minutes=n),
        )
        tally.bounces += 1
    for n, contact_id in enumerate(repliers):
        record_reply(
            crm,
            sent_first[contact_id],
            text=rng.choice(REPLIES),
            actor=ACTOR,
            at=first_at + dt.timedelta(hours=3 + 7 * n),
        )
        tally.replies += 1
    if complainer is not None:
        record_complaint(
            crm,
            sent_first[complainer],
            "feedback loop report: marked as spam",
            actor=ACTOR,
            at=first_at + dt.timedelta(days=1),
        )
        tally.complaints += 1
    if unsubscriber is not None:
        token = make_token(crm, unsubscriber, campaign.id, PURPOSE, CHANNEL, now=first_at)
        redeem(crm, token, actor=ACTOR, now=first_at + dt.timedelta(days=2))
        tally.unsubscribes += 1

    second_at = first_at + dt.timedelta(days=FOLLOW_UP_WAIT, hours=1)
    due = _due(crm, campaign, follow_up, second_at, tally)
    sent_second = _send(crm, rng, campaign, follow_up, due, second_at, tally, order)

    if "sales.deal" in crm.entity_types:
        buyers = [c for c in sorted(sent_second, key=order.__getitem__) if c not in keep]
        if buyers:
            tally.conversions = _win_deal(crm, rng.choice(buyers))
    return tally.summary()


def _make_campaign(
    crm: CRM, segment_id: str, *, started_at: dt.datetime
) -> tuple[Campaign, Step, Step]:
    """The two-step newsletter (A/B test on step 1), started at ``started_at``."""
    campaigns = Campaigns(crm)
    campaign = campaigns.create(
        "Spring newsletter", segment=segment_id, ab_metric="replied", actor=ACTOR
    )
    first = campaigns.add_step(
        campaign.id,
        subject="Spring is here, {first_name}",
        body="Hello {first_name},\n\nOur spring offers are in: 20% off every plan until the "
        "end of the month.\n\nUnsubscribe: {unsubscribe_url}",
        variant_b_subject="{first_name}, 20% off every plan this spring",
        variant_b_body="Hi {first_name},\n\nTake 20% off any plan this month.\n\n"
        "Unsubscribe: {unsubscribe_url}",
        split_b=SPLIT_B,
        actor=ACTOR,
    )
    follow_up = campaigns.add_step(
        campaign.id,
        subject="Last days of the spring offer",
        body="Hello {first_name},\n\nThe spring offer ends on Sunday.\n\n"
        "Unsubscribe: {unsubscribe_url}",
        wait_days=FOLLOW_UP_WAIT,
        actor=ACTOR,
    )
    campaigns.start(campaign.id, actor=ACTOR)
    with crm.unit_of_work(ACTOR) as uow:
        uow.tx.update(
            crm.entity_type("campaign.campaign"),
            campaign.id,
            {"started_at": started_at, "updated_at": started_at},
        )
    return attrs.evolve(campaign, status="active", started_at=started_at), first, follow_up


def _pick(rng: random.Random, ids: Sequence[str], share: float) -> list[str]:
    """A ``share`` of ``ids`` (at least one when there are any), chosen with ``rng``."""
    if not ids:
        return []
    return rng.sample(list(ids), max(1, round(len(ids) * share)))


def _due(crm: CRM, campaign: Campaign, step: Step, at: dt.datetime, tally: _Tally) -> list[str]:
    """Who is due for ``step`` at ``at``; those stopped by a response are excluded first."""
    exclusion_type = crm.entity_type("campaign.exclusion")
    with crm.backend.read() as reader:
        stopped = list(stopped_recipients(crm, reader, campaign, step, at))
    for reason, ids in stopped:
        _store_exclusions(crm, exclusion_type, campaign, step, [(c, reason) for c in ids], at)
        tally.exclude(reason, len(ids))
    with crm.backend.read() as reader:
        return [cid for ids in due_recipients(crm, reader, campaign, step, at) for cid in ids]


def _send(
    crm: CRM,
    rng: random.Random,
    campaign: Campaign,
    step: Step,
    due: Sequence[str],
    at: dt.datetime,
    tally: _Tally,
    order: Mapping[str, int],
) -> dict[str, str]:
    """Store what sending ``step`` to ``due`` at ``at`` leaves; contact id -> Message-ID.

    The policy decides for every recipient as it stands now (withdrawals and
    complaints before ``at`` count); a refused one, or one without an email
    address, gets an exclusion, the others a ``sent`` delivery and a timeline entry.
    """
    ids = sorted(due, key=lambda cid: order.get(cid, len(order)))
    decisions = decisions_for(crm, "contact", ids, purpose=PURPOSE, channel=CHANNEL)
    contact_type = crm.entity_type("contact")
    with crm.backend.read() as reader:
        rows = {r["id"]: r for r in reader.query(contact_type, Query(Cond("id", "in", ids)))}
    excluded: list[tuple[str, str]] = []
    deliveries: list[Delivery] = []
    for n, contact_id in enumerate(ids):
        decision = decisions.get(contact_id)
        address = address_of(Contact(**rows[contact_id]), CHANNEL)
        if decision is None or not decision.allowed:
            excluded.append((contact_id, reason_of(decision)))
        elif address is None:
            excluded.append((contact_id, "no_address"))
        else:
            variant = "B" if step.split_b and rng.randrange(100) < step.split_b else "A"
            sent_at = at + dt.timedelta(seconds=2 * n)
            delivery_id = new_id()
            message_id = f"<{delivery_id}@crmkit>"
            deliveries.append(
                Delivery(
                    id=delivery_id,
                    created_at=sent_at,
                    updated_at=sent_at,
                    key=f"{step.id}:{contact_id}",
                    campaign_id=campaign.id,
                    step_id=step.id,
                    contact_id=contact_id,
                    variant=variant,
                    status="sent",
                    address=address,
                    message_id=message_id,
                    provider_id=message_id,
                    intended_at=sent_at,
                    sent_at=sent_at,
                )
            )
    exclusion_type = crm.entity_type("campaign.exclusion")
    _store_exclusions(crm, exclusion_type, campaign, step, excluded, at)
    for _, reason in excluded:
        tally.exclude(reason)
    delivery_type = crm.entity_type("campaign.delivery")
    interaction_type = crm.entity_type("interaction")
    with crm.unit_of_work(ACTOR) as uow:
        uow.tx.add_many(delivery_type, [delivery_type.to_row(d) for d in deliveries])
        uow.tx.add_many(
            interaction_type,
            [interaction_type.to_row(_timeline_entry(campaign, step, d)) for d in deliveries],
        )
    tally.sent += len(deliveries)
    return {d.contact_id: d.message_id for d in deliveries}


def _store_exclusions(
    crm: CRM,
    exclusion_type: Any,
    campaign: Campaign,
    step: Step,
    excluded: Sequence[tuple[str, str]],
    at: dt.datetime,
) -> None:
    if not excluded:
        return
    rows = [
        exclusion_type.to_row(
            Exclusion(
                created_at=at,
                updated_at=at,
                campaign_id=campaign.id,
                step_id=step.id,
                contact_id=contact_id,
                reason=reason,
                at=at,
                key=f"{step.id}:{contact_id}",
            )
        )
        for contact_id, reason in excluded
    ]
    with crm.unit_of_work(ACTOR) as uow:
        uow.tx.add_many(exclusion_type, rows)


def _timeline_entry(campaign: Campaign, step: Step, delivery: Delivery) -> Interaction:
    """The ``campaign.message.sent`` entry a real send puts on the person's timeline."""
    assert delivery.sent_at is not None
    return Interaction(
        contact_id=delivery.contact_id,
        channel=CHANNEL,
        direction="outbound",
        kind="message.sent",
        occurred_at=delivery.sent_at,
        summary=f"Campaign {campaign.name!r}: message sent (variant {delivery.variant})",
        payload={
            "campaign_id": campaign.id,
            "step_id": step.id,
            "delivery_id": delivery.id,
            "message_id": delivery.message_id,
            "variant": delivery.variant,
            "channel": CHANNEL,
        },
        source="campaign",
    )


def _win_deal(crm: CRM, contact_id: str) -> int:
    """Open and win a deal for ``contact_id`` with crmkit-sales; the conversions credited."""
    from crmkit_sales.deals import Deals

    deals = Deals(crm)
    deal = deals.add(
        title="Team plan (spring offer)", amount="2280.00", contact=contact_id, actor=ACTOR
    )
    deals.win(deal.id, reason="spring newsletter offer", actor=ACTOR)
    with crm.backend.read() as reader:
        return reader.count(
            crm.entity_type("campaign.response"),
            AllOf((Cond("kind", "eq", "conversion"), Cond("deal_id", "eq", deal.id))),
        )
