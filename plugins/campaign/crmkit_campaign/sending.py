"""Sending a campaign: who gets what, checked against the privacy policy as it goes out.

:func:`send_due` sends what is due now for a campaign, step by step, a batch of
recipients at a time (the storage works out who is due, see
:func:`crmkit_campaign.followups.due_recipients`):

1. Every recipient of a batch is screened at that moment
   (:func:`crmkit_campaign.screening.screen`): the privacy policy decides for
   each, not when the segment was drawn; a refused one gets an
   :class:`~crmkit_campaign.entities.Exclusion` naming the rule and a
   ``campaign.recipient.excluded`` event, as does a recipient with no address
   on the channel, a blocked address, or an address the step already went to.
2. Every message of the batch is written out
   (:func:`crmkit_campaign.templates.compose`, what ``campaign preview`` shows)
   before any of it is sent: a recipient lacking a value stops the send with
   :class:`~crmkit_campaign.templates.MissingField`, nothing of the batch sent.
3. An intent is committed for every message before any goes out, then each
   message is claimed, asking the policy once more, handed over and settled
   (:mod:`crmkit_campaign.deliveries`, :mod:`crmkit_campaign.claims`).
4. Every run first settles what an interrupted run left behind
   (:func:`~crmkit_campaign.reconcile.reconcile`): a delivery still ``sending``
   becomes ``in_doubt`` and is never sent again on its own. Intents still
   ``intended`` never reached an adapter and are sent.
5. A channel may be throttled (:mod:`crmkit_campaign.throttle`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crmkit.entities import utcnow
from crmkit.errors import ValidationError
from crmkit.storage import AllOf, Cond, Query
from crmkit_campaign.deliveries import DELIVERY, Outgoing, Sender, SendReport
from crmkit_campaign.entities import Campaign, Step
from crmkit_campaign.followups import due_recipients, stopped_recipients
from crmkit_campaign.reconcile import (
    IN_DOUBT_NOTE,
    ReconcileReport,
    exclusions,
    reconcile,
    resend,
    status,
)
from crmkit_campaign.records import campaign_steps, current_campaign
from crmkit_campaign.screening import ADDRESS_FIELDS, address_of, reason_of, screen
from crmkit_campaign.settings import campaign_settings
from crmkit_campaign.throttle import Throttle, per_minute_limit

if TYPE_CHECKING:
    from crmkit import CRM

__all__ = [
    "ADDRESS_FIELDS",
    "DELIVERY",
    "IN_DOUBT_NOTE",
    "ReconcileReport",
    "SendReport",
    "Throttle",
    "address_of",
    "exclusions",
    "per_minute_limit",
    "reason_of",
    "reconcile",
    "resend",
    "send_due",
    "status",
]

PAGE = 500
"""Deliveries read per query when sending what an earlier run left."""


def send_due(
    crm: CRM,
    campaign: Campaign | str,
    *,
    now: dt.datetime | None = None,
    actor: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SendReport:
    """Send every message of an active campaign that is due at ``now`` (default: now).

    Settles what an interrupted run left (:func:`reconcile`), sends intents it
    left, then goes through the steps in order. ``limit`` caps the messages
    handed to the adapter in this run; ``dry_run`` decides and writes out every
    message but stores and sends nothing. ``sleep`` and ``clock`` serve the
    throttle. Raises :class:`ValidationError` for a campaign that is not active,
    :class:`~crmkit.errors.PolicyDenied` for an actor who may not contact
    people, :class:`~crmkit.errors.ConfigError` for missing settings and
    :class:`~crmkit_campaign.templates.MissingField` for a recipient lacking a
    value (nothing of that batch is sent).
    """
    found = current_campaign(crm, campaign)
    if found.status != "active":
        raise ValidationError(
            "campaign.campaign",
            "status",
            f"the campaign is {found.status}, so nothing is sent; start it with "
            f"'crmkit campaign start {found.name}'",
            record=found.name,
        )
    if limit is not None and limit < 0:
        raise ValidationError("campaign.campaign", "limit", f"{limit}: give 0 or more messages")
    crm.privacy.require("contact", actor=actor, purpose=found.purpose, channel=found.channel)
    settings = campaign_settings(crm)
    throttle = Throttle(per_minute_limit(settings, found), sleep=sleep, clock=clock)
    sender = Sender(
        crm, found, now=now or utcnow(), actor=actor, limit=limit, dry_run=dry_run,
        throttle=throttle, settings=settings,
    )
    if not dry_run:
        settled = reconcile(crm, found, actor=actor)
        sender.report.in_doubt += len(settled.in_doubt)
    with crm.backend.read() as reader:
        steps = {step.id: step for step in campaign_steps(reader, crm, found.id)}
    _send_left_over(sender, steps)
    for step in sorted(steps.values(), key=lambda s: s.position):
        if sender.done:
            break
        _send_step(sender, step)
    return sender.report


def _send_left_over(sender: Sender, steps: Mapping[str, Step]) -> None:
    """Send the intents an earlier run stored but never handed to an adapter."""
    crm, campaign = sender.crm, sender.campaign
    after: str | None = None
    while not sender.done:
        where = AllOf(
            (
                Cond("campaign_id", "eq", campaign.id),
                Cond("status", "eq", "intended"),
                *((Cond("id", "gt", after),) if after is not None else ()),
            )
        )
        with crm.backend.read() as reader:
            page = reader.query(sender.delivery_type, Query(where, ("id",), PAGE))
        if not page:
            return
        after = page[-1]["id"]
        by_step: dict[str, list[dict[str, Any]]] = {}
        for row in page:
            by_step.setdefault(row["step_id"], []).append(row)
        for step_id, rows in by_step.items():
            _resume(sender, steps[step_id], rows)


def _resume(sender: Sender, step: Step, rows: Sequence[dict[str, Any]]) -> None:
    """Screen and write out left-over intents again, then send them."""
    by_contact = {row["contact_id"]: row for row in rows}
    excluded, ready = screen(
        sender.crm, sender.campaign, list(by_contact), actor=sender.actor, step_id=step.id
    )
    outgoing = []
    for contact, address in ready:
        row = by_contact[contact.id]
        message = sender.compose(step, contact, address, row["variant"], row["id"])
        outgoing.append(Outgoing(row, message))
    if sender.dry_run:
        for _, reason in excluded:
            sender.report.exclude(reason)
    else:
        for contact_id, reason in excluded:
            _drop_intent(sender, by_contact[contact_id], reason)
    for item in outgoing[: sender.room()]:
        if sender.done:
            return
        sender.deliver(item)


def _drop_intent(sender: Sender, row: Mapping[str, Any], reason: str) -> None:
    """Turn a left-over intent the policy now refuses into an exclusion."""
    with sender.crm.unit_of_work(sender.actor) as uow:
        gone = uow.tx.delete_where(
            sender.delivery_type,
            AllOf((Cond("id", "eq", row["id"]), Cond("status", "eq", "intended"))),
        )
        if not gone:
            return
        uow.tx.add(
            sender.exclusion_type, sender.exclusion_row(row["step_id"], row["contact_id"], reason)
        )
        sender.note_exclusion(uow, row["step_id"], row["contact_id"], reason)
    sender.report.exclude(reason)


def _send_step(sender: Sender, step: Step) -> None:
    """Exclude who a response stopped, then send ``step`` to who is due, batch by batch."""
    crm, campaign = sender.crm, sender.campaign
    with crm.backend.read() as reader:
        for reason, ids in stopped_recipients(crm, reader, campaign, step, sender.now):
            sender.record(step, [(cid, reason) for cid in ids], [])
        for ids in due_recipients(crm, reader, campaign, step, sender.now):
            excluded, ready = screen(crm, campaign, ids, actor=sender.actor, step_id=step.id)
            room = sender.room()
            outgoing = [sender.intent(step, c, a) for c, a in ready[:room]]
            for item in sender.record(step, excluded, outgoing):
                if sender.done:
                    break
                sender.deliver(item)
            if sender.done:
                return
