"""Claiming a delivery: the last check before a message is handed to a channel.

A claim takes a delivery in one transaction: its row is deleted where it still
has the status expected (``intended``, or ``in_doubt`` for a resend) and written
back as ``sending``, which only one of two transactions trying at once can do.
In the same transaction the privacy policy is asked once more for the
campaign's purpose and channel, so consent withdrawn a moment ago stops the
message; a refused intent becomes an exclusion, a refused resend raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crmkit.entities import utcnow
from crmkit.storage import AllOf, Cond
from crmkit_campaign.screening import reason_of

if TYPE_CHECKING:
    from crmkit_campaign.deliveries import Sender


class Claim:
    """Takes one delivery for sending, asking the policy once more; called once."""

    def __init__(self, sender: Sender, row: Mapping[str, Any], expected: str, address: str):
        self.sender = sender
        self.row = row
        self.expected = expected
        self.address = address
        self.claimed = False
        self.excluded: str | None = None

    def __call__(self) -> bool:
        sender, row = self.sender, self.row
        campaign = sender.campaign
        with sender.crm.unit_of_work(sender.actor) as uow:
            if not uow.tx.delete_where(
                sender.delivery_type,
                AllOf((Cond("id", "eq", row["id"]), Cond("status", "eq", self.expected))),
            ):
                return False  # another sender claimed it first
            decision = sender.crm.privacy.decide(
                "contact",
                actor=sender.actor,
                subject_id=row["contact_id"],
                purpose=campaign.purpose,
                channel=campaign.channel,
                reader=uow.tx,
            )
            if not decision.allowed:
                if self.expected != "intended":
                    # An explicit resend: refuse it, leaving the delivery as it was.
                    sender.crm.privacy.require(
                        "contact",
                        actor=sender.actor,
                        subject_id=row["contact_id"],
                        purpose=campaign.purpose,
                        channel=campaign.channel,
                        uow=uow,
                    )
                reason = reason_of(decision)
                uow.tx.add(
                    sender.exclusion_type,
                    sender.exclusion_row(row["step_id"], row["contact_id"], reason),
                )
                sender.note_exclusion(uow, row["step_id"], row["contact_id"], reason)
                self.excluded = reason
                return False
            changes = {"status": "sending", "address": self.address, "updated_at": utcnow()}
            uow.tx.add(sender.delivery_type, {**row, **changes})
        self.claimed = True
        return True
