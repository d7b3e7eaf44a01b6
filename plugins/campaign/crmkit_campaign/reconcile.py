"""Settling what an interrupted send left behind, sending one again, and counting.

A delivery still ``sending`` was being handed over when its sender stopped:
it may have arrived, so :func:`reconcile` makes it ``in_doubt`` and it is
never sent again on its own (a person must not get the same step twice).
:func:`resend` sends one again when someone decides to. :func:`status` and
:func:`exclusions` count a campaign's deliveries and the recipients it left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from crmkit.entities import utcnow
from crmkit.errors import DeliveryError, NotFound, ValidationError
from crmkit.storage import Aggregate, AllOf, Cond, GroupKey, Measure, Query
from crmkit_campaign.deliveries import DELIVERY, EXCLUSION, Outgoing, Sender
from crmkit_campaign.entities import DELIVERY_STATUSES, Campaign, Delivery
from crmkit_campaign.records import campaign_steps, current_campaign, find_campaign
from crmkit_campaign.screening import screen
from crmkit_campaign.settings import campaign_settings
from crmkit_campaign.throttle import Throttle

if TYPE_CHECKING:
    from crmkit import CRM

IN_DOUBT_NOTE = (
    "the sender stopped while handing this message over, so it may have arrived; it is not "
    "sent again unless someone runs 'crmkit campaign reconcile CAMPAIGN --resend ID'"
)


@attrs.frozen
class ReconcileReport:
    """What :func:`reconcile` found for a campaign."""

    campaign: str
    in_doubt: tuple[str, ...]
    """Ids of the deliveries this call found still ``sending`` and marked ``in_doubt``."""
    pending: int
    """Deliveries still ``intended``: the next send sends them."""
    total_in_doubt: int
    """All of the campaign's deliveries in doubt, including earlier ones."""



def reconcile(crm: CRM, campaign: Campaign | str, *, actor: str | None = None) -> ReconcileReport:
    """Settle the deliveries an interrupted send left behind.

    A delivery still ``sending`` was being handed over when its sender
    stopped: it may have arrived, so it becomes ``in_doubt`` and is not sent
    again on its own. Deliveries still ``intended`` are counted as pending (the
    next :func:`send_due` sends them).
    """
    found = current_campaign(crm, campaign)
    etype = crm.entity_type(DELIVERY)
    mine = Cond("campaign_id", "eq", found.id)
    with crm.backend.read() as reader:
        stuck = reader.query(etype, Query(AllOf((mine, Cond("status", "eq", "sending")))))
    marked: list[str] = []
    for row in stuck:
        with crm.unit_of_work(actor) as uow:
            gone = uow.tx.delete_where(
                etype, AllOf((Cond("id", "eq", row["id"]), Cond("status", "eq", "sending")))
            )
            if gone:
                changes = {"status": "in_doubt", "error": IN_DOUBT_NOTE, "updated_at": utcnow()}
                uow.tx.add(etype, {**row, **changes})
                marked.append(row["id"])
    counts = status(crm, found)
    return ReconcileReport(found.name, tuple(marked), counts["intended"], counts["in_doubt"])


def resend(crm: CRM, delivery_id: str, *, actor: str | None = None) -> Delivery:
    """Send a delivery in doubt again, because someone decided to; the delivery as it ends.

    The policy is asked again (a refusal raises
    :class:`~crmkit.errors.PolicyDenied` and leaves the delivery in doubt), the
    message is written out again with the same Message-ID, so a receiver that
    already has it can tell. A failure raises the adapter's
    :class:`~crmkit.errors.DeliveryError` after recording it.
    """
    etype = crm.entity_type(DELIVERY)
    with crm.backend.read() as reader:
        row = reader.get(etype, delivery_id.strip())
        if row is None:
            raise NotFound(DELIVERY, delivery_id)
        campaign = find_campaign(reader, crm, row["campaign_id"])
        steps = {s.id: s for s in campaign_steps(reader, crm, campaign.id)}
    if row["status"] != "in_doubt":
        raise ValidationError(
            DELIVERY,
            "status",
            f"the delivery is {row['status']}; only a delivery in doubt is sent again by hand "
            "(intended ones go with the next 'crmkit campaign send')",
            record=row["id"],
        )
    sender = Sender(
        crm, campaign, now=utcnow(), actor=actor, limit=None, dry_run=False,
        throttle=Throttle(None), settings=campaign_settings(crm),
    )
    crm.privacy.require(
        "contact",
        actor=actor,
        subject_id=row["contact_id"],
        purpose=campaign.purpose,
        channel=campaign.channel,
    )
    excluded, ready = screen(crm, campaign, [row["contact_id"]], actor=actor)
    if excluded:
        raise ValidationError(
            DELIVERY, "address", f"cannot be sent again: {excluded[0][1]}", record=row["id"]
        )
    contact, address = ready[0]
    message = sender.compose(steps[row["step_id"]], contact, address, row["variant"], row["id"])
    sender.deliver(Outgoing(row, message), expected="in_doubt")
    with crm.backend.read() as reader:
        final = reader.get(etype, row["id"])
    if final is None or sender.report.skipped_existing:
        raise ValidationError(
            DELIVERY, "status", "another sender took this delivery first", record=row["id"]
        )
    if final["status"] != "sent":
        raise DeliveryError(
            f"delivery {row['id']} was not sent again and is {final['status']}: "
            f"{final['error'] or 'no reason given'}",
            permanent=final["status"] == "failed",
        )
    return Delivery(**final)


def status(crm: CRM, campaign: Campaign | str) -> dict[str, int]:
    """How many of a campaign's deliveries are in each status (every status listed)."""
    counts = dict.fromkeys(DELIVERY_STATUSES, 0)
    counts.update(_count_by(crm, campaign, DELIVERY, "status"))
    return counts


def exclusions(crm: CRM, campaign: Campaign | str) -> dict[str, int]:
    """How many recipients a campaign left out, by reason."""
    return _count_by(crm, campaign, EXCLUSION, "reason")


def _count_by(crm: CRM, campaign: Campaign | str, entity: str, field: str) -> dict[str, int]:
    """A campaign's ``entity`` records counted by ``field``, in one SQL aggregate."""
    found = current_campaign(crm, campaign) if isinstance(campaign, str) else campaign
    with crm.backend.read() as reader:
        rows = reader.aggregate(
            crm.entity_type(entity),
            Aggregate(
                where=Cond("campaign_id", "eq", found.id),
                group_by=(GroupKey(field),),
                measures=(Measure("n", "count"),),
            ),
        )
    return {row[field]: row["n"] for row in rows}
