"""An email delivered twice at the same moment is taken in once, on SQLite and PostgreSQL.

Two deliveries of one email both look for a stored copy before either writes.
The tests play the later delivery: its look-up misses the copy that the other
delivery stored, so only the database's unique Message-ID stops a second
message; intake must then answer as it does for any duplicate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from crmkit_service import intake as intake_module
from crmkit_service.intake import Intake, IntakeResult
from crmkit_service.tickets import Tickets

from crmkit.crm import CRM
from crmkit.testing.clock import Clock
from crmkit.uow import UnitOfWork

MESSAGES = Path(__file__).parent / "messages"

NO_MESSAGE_ID = b"""From: Ada Lovelace <ada.lovelace@example.com>
To: support@desk.example.com
Subject: Printer on fire
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

The printer is on fire.
"""


def eml(name: str) -> bytes:
    return (MESSAGES / name).read_bytes()


def stored(crm: CRM) -> dict[str, Any]:
    """How many of each record intake writes are stored, and the events raised."""
    with crm.backend.read() as reader:
        counts = {
            name: reader.count(crm.entity_type(name))
            for name in ("service.ticket", "service.message", "service.rejected_intake", "contact")
        }
    return {**counts, "events": [e.name for e in crm.events.read()]}


@pytest.fixture
def intake(crm: CRM, crmkit_clock: Clock) -> Intake:
    return Intake(crm)


class LateDelivery:
    """Makes the next look-up for a stored copy miss it, as if the other delivery had
    not yet committed; later look-ups see the database as it is."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed = False
        self.missed = 0
        look_up = intake_module._duplicate

        def late_look_up(uow: UnitOfWork, mail: intake_module.IncomingEmail) -> IntakeResult | None:
            if self.armed:
                self.armed = False
                self.missed += 1
                return None
            return look_up(uow, mail)

        monkeypatch.setattr(intake_module, "_duplicate", late_look_up)

    def arm(self) -> None:
        self.armed = True


@pytest.fixture
def late(monkeypatch: pytest.MonkeyPatch) -> LateDelivery:
    return LateDelivery(monkeypatch)


def test_a_new_email_delivered_twice_at_once_is_one_ticket(
    crm: CRM, intake: Intake, late: LateDelivery
) -> None:
    first = intake.receive(eml("new_multipart.eml"))
    before = stored(crm)

    late.arm()
    again = intake.receive(eml("new_multipart.eml"))

    assert late.missed == 1
    assert (again.duplicate, again.created, again.contact_created) == (True, False, False)
    assert (again.ticket.id, again.message.id) == (first.ticket.id, first.message.id)
    assert stored(crm) == before
    assert (before["service.ticket"], before["service.message"]) == (1, 1)
    assert [m.id for m in Tickets(crm).show("T-1").messages] == [first.message.id]
    assert intake.receive(NO_MESSAGE_ID).ticket.key == "T-2"


def test_a_reply_delivered_twice_at_once_is_one_message_on_the_thread(
    crm: CRM, intake: Intake, late: LateDelivery
) -> None:
    intake.receive(eml("new_multipart.eml"))
    reply = intake.receive(eml("reply_references.eml"))
    before = stored(crm)

    late.arm()
    again = intake.receive(eml("reply_references.eml"))

    assert late.missed == 1
    assert again.duplicate is True
    assert (again.ticket.id, again.message.id) == (reply.ticket.id, reply.message.id)
    assert stored(crm) == before
    assert before["service.message"] == 2


def test_a_rejected_email_retried_while_delivered_again_is_taken_in_once(
    crm: CRM, intake: Intake, late: LateDelivery
) -> None:
    with crm.unit_of_work() as uow:
        kept = intake_module.keep_rejected(uow, eml("new_multipart.eml"), "test", source="stdin")
    first = intake.receive(eml("new_multipart.eml"))
    before = stored(crm)

    late.arm()
    again = intake.retry(kept.id)

    assert late.missed == 1
    assert (again.duplicate, again.message.id) == (True, first.message.id)
    after = stored(crm)
    assert (before["service.rejected_intake"], after["service.rejected_intake"]) == (1, 0)
    for name in ("service.ticket", "service.message", "contact", "events"):
        assert after[name] == before[name]


def test_messages_without_a_message_id_are_all_kept(crm: CRM, intake: Intake) -> None:
    first = intake.receive(NO_MESSAGE_ID)
    second = intake.receive(NO_MESSAGE_ID)
    reply = Tickets(crm).reply(first.ticket.key, "We are on our way.", author="desk")
    note = Tickets(crm).note(first.ticket.key, "Bring an extinguisher.", author="desk")

    assert (first.duplicate, second.duplicate) == (False, False)
    assert first.message.id != second.message.id
    ids = [m.message_id for m in (first.message, second.message, reply, note)]
    assert ids == [None, None, None, None]
    assert stored(crm)["service.message"] == 4
