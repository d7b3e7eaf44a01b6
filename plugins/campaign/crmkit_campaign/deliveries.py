"""The delivery state machine: intents, claims and what became of each message.

A message to one person for one step is tracked by a
:class:`~crmkit_campaign.entities.Delivery`:

* ``intended``: committed before any message of the batch goes out; its
  unique key (step and contact) means two senders running at once cannot both
  intend the same step for the same person, the second skips that person.
* ``sending``: the message was *claimed* (:class:`Claim`): in one transaction
  its intent is taken (deleted and written back, which only one transaction
  can do), the privacy policy is asked once more, and the claim commits. Only
  then is the message handed over. An adapter that can (SMTP) claims at the
  last moment before the other side can accept the message, so a sender
  killed before that leaves an intent the next run simply sends.
* ``sent`` (with the provider's id and a ``campaign.message.sent`` entry on
  the person's timeline), ``failed`` (refused for good), back to ``intended``
  (a temporary failure), or ``in_doubt`` (it may have arrived; never sent
  again on its own).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.errors import DeliveryError, DuplicateError, NotFound, PolicyDenied
from crmkit.ids import new_id
from crmkit.storage import AllOf, Cond
from crmkit_campaign.campaigns import variant_for
from crmkit_campaign.channels import (
    ChannelUnavailable,
    ClaimingChannel,
    DeliveryInDoubt,
    adapter_for,
)
from crmkit_campaign.claims import Claim
from crmkit_campaign.entities import Campaign, Delivery, Exclusion, Step
from crmkit_campaign.responses import timeline_channel
from crmkit_campaign.templates import compose

if TYPE_CHECKING:
    from crmkit import CRM, OutboundChannel, OutboundMessage
    from crmkit.entities.core import Contact
    from crmkit.uow import UnitOfWork
    from crmkit_campaign.settings import CampaignSettings
    from crmkit_campaign.throttle import Throttle

DELIVERY = "campaign.delivery"
EXCLUSION = "campaign.exclusion"


@attrs.define(kw_only=True)
class SendReport:
    """What one :func:`send_due` run did (or, with ``dry_run``, would do)."""

    campaign: str
    sent: int = 0
    failed: int = 0
    """Permanent failures: the delivery is ``failed`` and is not tried again."""
    excluded: dict[str, int] = attrs.field(factory=dict)
    """Recipients left out, by reason (``consent``, ``no_address``, ``stopped:replied`` ...)."""
    in_doubt: int = 0
    """Deliveries found (or left) in doubt by this run; never sent again on their own."""
    skipped_existing: int = 0
    """Recipients another sender had already intended or excluded for the step."""
    deferred: int = 0
    """Temporary failures: the delivery stays ``intended`` for the next run."""
    dry_run: bool = False
    stopped: str | None = None
    """Why the run stopped early (the channel was unavailable); ``None`` if it did not."""

    def exclude(self, reason: str, count: int = 1) -> None:
        self.excluded[reason] = self.excluded.get(reason, 0) + count

    def as_dict(self) -> dict[str, Any]:
        """The report as plain values (for ``--json``)."""
        return attrs.asdict(self)


@attrs.frozen
class Outgoing:
    """A message written out for one recipient, and the delivery row that tracks it."""

    row: dict[str, Any]
    message: OutboundMessage


class Sender:
    """One campaign's send: the settings, the adapter and the figures of one run."""

    def __init__(
        self,
        crm: CRM,
        campaign: Campaign,
        *,
        now: dt.datetime,
        actor: str | None,
        limit: int | None,
        dry_run: bool,
        throttle: Throttle,
        settings: CampaignSettings,
    ) -> None:
        self.crm = crm
        self.campaign = campaign
        self.now = now
        self.actor = actor
        self.limit = limit
        self.dry_run = dry_run
        self.throttle = throttle
        self.settings = settings
        self.adapter: OutboundChannel = adapter_for(crm, campaign.channel)
        self.delivery_type = crm.entity_type(DELIVERY)
        self.exclusion_type = crm.entity_type(EXCLUSION)
        self.report = SendReport(campaign=campaign.name, dry_run=dry_run)
        self.attempts = 0
        # Both refuse early, before anyone is excluded or anything is written.
        self.settings.unsubscribe_base()
        self.sender: str | None = None
        if campaign.channel == "email":
            self.sender = self.settings.sender_for(campaign.sender)

    # -- limits ----------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """No more messages this run: the limit is reached or the channel is down."""
        full = self.limit is not None and self.attempts >= self.limit
        return full or self.report.stopped is not None

    def room(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.attempts)

    # -- what a message says ----------------------------------------------------------------
    def compose(
        self, step: Step, contact: Contact, address: str, variant: str, delivery_id: str
    ) -> OutboundMessage:
        """The message ``contact`` gets for ``step``, exactly as ``campaign preview`` shows it.

        Raises :class:`~crmkit_campaign.templates.MissingField` when the contact
        lacks a value a placeholder needs.
        """
        composed = compose(
            self.crm, self.settings, self.campaign, step, contact, variant=variant, now=self.now
        )
        return composed.outbound(
            message_id=f"<{delivery_id}@crmkit>",
            contact_id=contact.id,
            to=address,
            channel=self.campaign.channel,
            sender=self.sender,
        )

    def intent(self, step: Step, contact: Contact, address: str) -> Outgoing:
        """A new delivery row (not stored yet) and its message."""
        variant = variant_for(step, contact.id)
        delivery_id = new_id()
        message = self.compose(step, contact, address, variant, delivery_id)
        delivery = Delivery(
            id=delivery_id,
            key=f"{step.id}:{contact.id}",
            campaign_id=self.campaign.id,
            step_id=step.id,
            contact_id=contact.id,
            variant=variant,
            status="intended",
            address=address,
            message_id=message.message_id,
        )
        return Outgoing(self.delivery_type.to_row(delivery), message)

    # -- writing exclusions and intents --------------------------------------------------
    def exclusion_row(self, step_id: str, contact_id: str, reason: str) -> dict[str, Any]:
        exclusion = Exclusion(
            campaign_id=self.campaign.id,
            step_id=step_id,
            contact_id=contact_id,
            reason=reason,
            key=f"{step_id}:{contact_id}",
        )
        return self.exclusion_type.to_row(exclusion)

    def note_exclusion(self, uow: UnitOfWork, step_id: str, contact_id: str, reason: str) -> None:
        uow.raise_event(
            "campaign.recipient.excluded",
            {"campaign_id": self.campaign.id, "step_id": step_id, "reason": reason},
            subject_id=contact_id,
        )

    def record(
        self, step: Step, excluded: Sequence[tuple[str, str]], outgoing: Sequence[Outgoing]
    ) -> list[Outgoing]:
        """Store the exclusions and intents of a batch; the intents that are now ours.

        One transaction for the batch. Recipients whose key another sender
        already holds are skipped; if another sender takes one between the check
        and the write, the batch is written again one recipient at a time.
        """
        if self.dry_run:
            for _, reason in excluded:
                self.report.exclude(reason)
            return list(outgoing)
        try:
            with self.crm.unit_of_work(self.actor) as uow:
                return self._record(uow, step, excluded, outgoing)
        except DuplicateError:
            kept: list[Outgoing] = []
            for contact_id, reason in excluded:
                self._record_one(step, [(contact_id, reason)], [])
            for item in outgoing:
                kept.extend(self._record_one(step, [], [item]))
            return kept

    def _record_one(
        self, step: Step, excluded: Sequence[tuple[str, str]], outgoing: Sequence[Outgoing]
    ) -> list[Outgoing]:
        try:
            with self.crm.unit_of_work(self.actor) as uow:
                return self._record(uow, step, excluded, outgoing)
        except DuplicateError:
            self.report.skipped_existing += 1
            return []

    def _record(
        self,
        uow: UnitOfWork,
        step: Step,
        excluded: Sequence[tuple[str, str]],
        outgoing: Sequence[Outgoing],
    ) -> list[Outgoing]:
        keys = [f"{step.id}:{cid}" for cid, _ in excluded] + [o.row["key"] for o in outgoing]
        taken = uow.tx.existing_values(self.delivery_type, "key", keys)
        taken |= uow.tx.existing_values(self.exclusion_type, "key", keys)
        rows = []
        counts: dict[str, int] = {}
        for contact_id, reason in excluded:
            if f"{step.id}:{contact_id}" in taken:
                continue
            rows.append(self.exclusion_row(step.id, contact_id, reason))
            self.note_exclusion(uow, step.id, contact_id, reason)
            counts[reason] = counts.get(reason, 0) + 1
        mine = [o for o in outgoing if o.row["key"] not in taken]
        uow.tx.add_many(self.exclusion_type, rows)
        uow.tx.add_many(self.delivery_type, [o.row for o in mine])
        # Counted only once the rows are written: a duplicate above undoes them all.
        self.report.skipped_existing += len(excluded) + len(outgoing) - len(rows) - len(mine)
        for reason, count in counts.items():
            self.report.exclude(reason, count)
        return mine

    # -- one message ------------------------------------------------------------------------
    def replace(
        self, uow: UnitOfWork, row: Mapping[str, Any], expected: str, changes: Mapping[str, Any]
    ) -> bool:
        """Move a delivery from status ``expected`` to ``changes``, if nobody did first.

        The row is deleted where it still has ``expected`` and written back
        changed, in ``uow``'s transaction: of two transactions trying, only one
        deletes it (the other waits for it and then finds nothing).
        """
        gone = uow.tx.delete_where(
            self.delivery_type,
            AllOf((Cond("id", "eq", row["id"]), Cond("status", "eq", expected))),
        )
        if not gone:
            return False
        uow.tx.add(self.delivery_type, {**row, **changes, "updated_at": utcnow()})
        return True

    def update(self, row: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        with self.crm.unit_of_work(self.actor) as uow:
            uow.tx.update(self.delivery_type, row["id"], {**changes, "updated_at": utcnow()})

    def deliver(self, item: Outgoing, *, expected: str = "intended") -> None:
        """Claim, send and settle one delivery, counting the outcome in the report."""
        self.attempts += 1
        if self.dry_run:
            self.report.sent += 1
            return
        self.throttle.wait()
        claim = Claim(self, item.row, expected, item.message.to)
        try:
            if isinstance(self.adapter, ClaimingChannel):
                provider_id = self.adapter.send_claimed(item.message, claim)
            else:
                provider_id = self.adapter.send(item.message) if claim() else None
        except DeliveryInDoubt as exc:
            self.settle_in_doubt(item.row, claim.claimed, str(exc))
        except ChannelUnavailable as exc:
            if claim.claimed:
                self.update(item.row, {"status": expected, "error": str(exc)})
            self.report.deferred += 1
            self.report.stopped = str(exc)
        except DeliveryError as exc:
            self.settle_failure(item.row, claim.claimed, expected, exc)
        except Exception as exc:
            # Not an adapter's answer but a fault: the message may have gone.
            self.settle_in_doubt(item.row, claim.claimed, f"{type(exc).__name__}: {exc}")
            raise
        else:
            if provider_id is not None:
                self.mark_sent(item.row, provider_id)
                self.report.sent += 1
            elif claim.excluded is not None:
                self.report.exclude(claim.excluded)
            else:
                self.report.skipped_existing += 1

    def settle_in_doubt(self, row: Mapping[str, Any], claimed: bool, error: str) -> None:
        if claimed:
            self.update(row, {"status": "in_doubt", "error": error})
            self.report.in_doubt += 1

    def settle_failure(
        self, row: Mapping[str, Any], claimed: bool, expected: str, exc: DeliveryError
    ) -> None:
        """A refused message: ``failed`` if for good, else back to wait for the next run."""
        if not exc.permanent:
            if claimed:
                self.update(row, {"status": expected, "error": str(exc)})
            self.report.deferred += 1
            return
        with self.crm.unit_of_work(self.actor) as uow:
            failed = {"status": "failed", "error": str(exc)}
            if claimed:
                uow.tx.update(self.delivery_type, row["id"], {**failed, "updated_at": utcnow()})
            elif not self.replace(uow, row, expected, failed):
                return  # another sender has it now
            uow.raise_event(
                "campaign.message.failed",
                {
                    "campaign_id": self.campaign.id,
                    "step_id": row["step_id"],
                    "delivery_id": row["id"],
                    "permanent": True,
                    "error": str(exc),
                },
                subject_id=row["contact_id"],
            )
        self.report.failed += 1

    def mark_sent(self, row: Mapping[str, Any], provider_id: str) -> None:
        """``sent``, with the provider's id, and the fact on the person's timeline."""
        sent_at = utcnow()
        payload = {
            "campaign_id": self.campaign.id,
            "step_id": row["step_id"],
            "delivery_id": row["id"],
            "message_id": row["message_id"],
            "variant": row["variant"],
            "channel": self.campaign.channel,
        }
        with self.crm.unit_of_work(self.actor) as uow:
            uow.tx.update(
                self.delivery_type,
                row["id"],
                {
                    "status": "sent",
                    "provider_id": provider_id[:500],
                    "sent_at": sent_at,
                    "error": None,
                    "updated_at": sent_at,
                },
            )
            try:
                uow.record_activity(
                    "campaign.message.sent",
                    payload,
                    contact_id=row["contact_id"],
                    summary=f"Campaign {self.campaign.name!r}: message sent "
                    f"(variant {row['variant']})",
                    channel=timeline_channel(self.campaign.channel),
                    direction="outbound",
                )
            except (PolicyDenied, NotFound):
                # Restricted (or removed) while the message was on its way: the fact
                # is kept as an event only, since the timeline takes no entry now.
                uow.raise_event("campaign.message.sent", payload, subject_id=row["contact_id"])
