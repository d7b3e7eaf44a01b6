"""Bounces, complaints and replies: recorded on the message, blocking addresses, on the timeline."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from crmkit_campaign.campaigns import Campaigns
from crmkit_campaign.entities import Delivery, Step
from crmkit_campaign.responses import (
    blocked_among,
    find_delivery,
    is_blocked,
    record_bounce,
    record_complaint,
    record_reply,
)
from crmkit_campaign.segments import Segments

from crmkit import Event
from crmkit.crm import CRM
from crmkit.errors import NotFound
from crmkit.storage import Query
from crmkit.testing.clock import Clock

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def shop(crm: CRM, crmkit_clock: Clock) -> CRM:
    """Ada (opted in to marketing by email) and a campaign with three steps."""
    crmkit_clock.set(T0)
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com", tags=["news"])
    crm.privacy.consent.grant(ada.id, purpose="marketing", channel="email", evidence="form v1")
    Segments(crm).create("Readers", {"field": "tags", "op": "has", "value": "news"})
    service = Campaigns(crm)
    service.create("Launch", segment="Readers")
    service.add_step("Launch", subject="One", body="Hi")
    service.add_step("Launch", subject="Two", body="Hi", wait_days=1)
    service.add_step("Launch", subject="Three", body="Hi", wait_days=1)
    service.start("Launch")
    return crm


def steps(crm: CRM) -> list[Step]:
    return Campaigns(crm).steps("Launch")


def deliver(crm: CRM, step: Step, *, address: str = "ada@example.com",
            sent_at: dt.datetime = T0) -> Delivery:
    ada = crm.contacts.get("ada@example.com")
    etype = crm.entity_type("campaign.delivery")
    made = Delivery(key=f"{step.id}:{ada.id}", campaign_id=step.campaign_id, step_id=step.id,
                    contact_id=ada.id, address=address, message_id="-", status="sent",
                    sent_at=sent_at)
    made = attrs.evolve(made, message_id=f"<{made.id}@crmkit>", provider_id=f"prov-{made.id}")
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(made))
    return made


def stored(crm: CRM, entity: str) -> list[dict[str, object]]:
    with crm.backend.read() as reader:
        return reader.query(crm.entity_type(entity), Query())


def test_a_message_is_found_by_message_id_with_or_without_brackets_or_provider_id(
    shop: CRM,
) -> None:
    sent = deliver(shop, steps(shop)[0])
    with shop.backend.read() as reader:
        for ref in (sent.message_id, sent.message_id.strip("<>"), f"prov-{sent.id}"):
            assert find_delivery(reader, shop, ref).id == sent.id
        with pytest.raises(NotFound, match=r"campaign\.delivery '<nope@crmkit>'"):
            find_delivery(reader, shop, "<nope@crmkit>")


def test_a_hard_bounce_marks_the_message_bounced(shop: CRM) -> None:
    seen: list[Event] = []
    shop.events.subscribe("campaign.message.bounced", seen.append)
    sent = deliver(shop, steps(shop)[0])
    recorded = record_bounce(shop, sent.message_id, hard=True, detail="550 no such user")
    assert recorded.delivery.status == "bounced" and recorded.blocked is None
    [row] = stored(shop, "campaign.delivery")
    assert row["status"] == "bounced"
    [response] = stored(shop, "campaign.response")
    assert (response["kind"], response["detail"]) == ("bounce_hard", "550 no such user")
    assert [(e.payload["hard"], e.subject_id) for e in seen] == [(True, sent.contact_id)]
    [entry] = shop.interactions.timeline(sent.contact_id, channel="email")
    assert (entry.kind, entry.direction, entry.source) == ("message.bounced", "inbound", "campaign")


def test_a_soft_bounce_changes_nothing_but_is_kept(shop: CRM) -> None:
    sent = deliver(shop, steps(shop)[0])
    for _ in range(5):
        record_bounce(shop, sent.message_id, hard=False, detail="452 mailbox full")
    assert [r["status"] for r in stored(shop, "campaign.delivery")] == ["sent"]
    assert [r["kind"] for r in stored(shop, "campaign.response")] == ["bounce_soft"] * 5
    assert stored(shop, "campaign.blocked_address") == []


def test_the_third_hard_bounce_of_an_address_blocks_it(shop: CRM) -> None:
    blocked_events: list[Event] = []
    shop.events.subscribe("campaign.address.blocked", blocked_events.append)
    one, two, three = (deliver(shop, s, address="Ada@Example.com") for s in steps(shop))
    assert record_bounce(shop, one.message_id, hard=True).blocked is None
    # The same message bouncing twice is still one bounced message.
    assert record_bounce(shop, one.message_id, hard=True).blocked is None
    assert record_bounce(shop, two.message_id, hard=True).blocked is None
    with shop.backend.read() as reader:
        assert not is_blocked(reader, "ada@example.com")
    blocked = record_bounce(shop, three.message_id, hard=True).blocked
    assert blocked is not None
    assert (blocked.address, blocked.reason, blocked.channel) == (
        "ada@example.com", "3 hard bounces", "email")
    with shop.backend.read() as reader:
        assert is_blocked(reader, " ADA@example.com ")
        assert blocked_among(reader, ["ada@example.com", "bob@example.com"]) == {
            "ada@example.com"}
    assert [e.payload["reason"] for e in blocked_events] == ["3 hard bounces"]


def test_a_complaint_blocks_at_once_and_withdraws_marketing_consent(shop: CRM) -> None:
    seen: list[Event] = []
    shop.events.subscribe("campaign.complaint.received", seen.append)
    sent = deliver(shop, steps(shop)[0])
    assert shop.privacy.may_contact(sent.contact_id, "marketing", "email").allowed
    recorded = record_complaint(shop, sent.message_id, "abuse report")
    assert recorded.blocked is not None and recorded.blocked.reason == "complaint"
    decision = shop.privacy.may_contact(sent.contact_id, "marketing", "email")
    assert not decision.allowed
    last = shop.privacy.consent.history(sent.contact_id)[-1]
    assert (last.status, last.source) == ("withdrawn", "spam complaint")
    assert last.evidence is not None and sent.message_id in last.evidence
    assert [e.payload["delivery_id"] for e in seen] == [sent.id]
    # A second complaint keeps one block and one withdrawal.
    again = record_complaint(shop, sent.message_id)
    assert again.blocked is None
    assert len(stored(shop, "campaign.blocked_address")) == 1
    assert len(shop.privacy.consent.history(sent.contact_id)) == 2


def test_a_reply_goes_on_the_timeline_as_inbound(shop: CRM, crmkit_clock: Clock) -> None:
    seen: list[Event] = []
    shop.events.subscribe("campaign.reply.received", seen.append)
    sent = deliver(shop, steps(shop)[0])
    crmkit_clock.advance(hours=3)
    recorded = record_reply(shop, sent.message_id, text="Tell me more")
    assert (recorded.response.kind, recorded.response.detail) == ("reply", "Tell me more")
    assert recorded.response.at == T0 + dt.timedelta(hours=3)
    [entry] = shop.interactions.timeline(sent.contact_id)
    assert (entry.kind, entry.direction, entry.channel, entry.source) == (
        "reply.received", "inbound", "email", "campaign")
    assert entry.payload["delivery_id"] == sent.id
    assert [e.payload["response_id"] for e in seen] == [recorded.response.id]


def test_a_reply_by_contact_answers_their_latest_message(shop: CRM) -> None:
    first, second, _ = steps(shop)
    deliver(shop, first, sent_at=T0)
    latest = deliver(shop, second, sent_at=T0 + dt.timedelta(days=1))
    assert record_reply(shop, "ada@example.com").delivery.id == latest.id
    assert record_reply(shop, "ada@example.com", campaign="Launch").delivery.id == latest.id


def test_unknown_messages_are_not_found_and_nothing_is_written(shop: CRM) -> None:
    deliver(shop, steps(shop)[0])
    with pytest.raises(NotFound, match=r"campaign\.delivery"):
        record_bounce(shop, "<missing@crmkit>", hard=True)
    with pytest.raises(NotFound, match=r"campaign\.delivery"):
        record_complaint(shop, "missing@crmkit")
    with pytest.raises(NotFound, match=r"campaign\.delivery"):
        record_reply(shop, "<missing@crmkit>")
    with pytest.raises(NotFound):
        record_reply(shop, "nobody@example.com")
    assert stored(shop, "campaign.response") == []
    assert stored(shop, "campaign.blocked_address") == []
