"""Campaigns and steps: what is accepted, the follow-up schedule, stop rules and A/B variants.

Deliveries and responses are written directly where a test needs a message to
have been sent at a known time, so the schedule is checked to the second.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import attrs
import pytest
from crmkit_campaign.campaigns import (
    Campaigns,
    due_recipients,
    stopped_recipients,
    variant_for,
)
from crmkit_campaign.entities import Campaign, Delivery, Exclusion, Response, Step
from crmkit_campaign.segments import Segments

from crmkit import Event
from crmkit.crm import CRM
from crmkit.errors import DuplicateError, NotFound, ValidationError
from crmkit.storage import Cond
from crmkit.testing.clock import Clock

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
READERS = {"field": "tags", "op": "has", "value": "news"}


@pytest.fixture
def shop(crm: CRM, crmkit_clock: Clock) -> CRM:
    """Three newsletter readers (Ada, Bob, Cy), one other contact, the "Readers" segment."""
    crmkit_clock.set(T0 - dt.timedelta(days=1))
    for first, tags in (("Ada", ["news"]), ("Bob", ["news"]), ("Cy", ["news"]), ("Dee", [])):
        crm.contacts.add(first_name=first, email=f"{first.lower()}@example.com", tags=tags)
    Segments(crm).create("Readers", READERS)
    return crm


def person(crm: CRM, first: str) -> str:
    return crm.contacts.get(f"{first.lower()}@example.com").id


def deliver(
    crm: CRM, step: Step, contact_id: str, *, sent_at: dt.datetime | None, status: str = "sent"
) -> Delivery:
    etype = crm.entity_type("campaign.delivery")
    made = Delivery(
        key=f"{step.id}:{contact_id}", campaign_id=step.campaign_id, step_id=step.id,
        contact_id=contact_id, status=status, address=f"{contact_id}@example.com",
        message_id="-", sent_at=sent_at,
    )
    made = attrs.evolve(made, message_id=f"<{made.id}@crmkit>")
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(made))
    return made


def respond(crm: CRM, delivery: Delivery, kind: str, at: dt.datetime) -> None:
    etype = crm.entity_type("campaign.response")
    row = Response(delivery_id=delivery.id, campaign_id=delivery.campaign_id,
                   contact_id=delivery.contact_id, kind=kind, at=at)
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(row))


def due(crm: CRM, campaign: str, position: int, now: dt.datetime) -> set[str]:
    service = Campaigns(crm)
    owner = service.get(campaign)
    step = service.step(campaign, position)
    with crm.backend.read() as reader:
        batches = list(due_recipients(crm, reader, owner, step, now, batch=2))
    assert all(len(b) <= 2 for b in batches)
    return {contact_id for batch in batches for contact_id in batch}


def names(crm: CRM, ids: set[str]) -> set[str]:
    return {crm.contacts.get(i).first_name or "" for i in ids}


def launch(crm: CRM, *, wait_days: int = 3, stop_on: list[str] | None = None) -> Campaign:
    service = Campaigns(crm)
    service.create("Launch", segment="Readers")
    service.add_step("Launch", subject="Hello {first_name}", body="Welcome, {first_name}!")
    service.add_step("Launch", subject="Again", body="Still there?", wait_days=wait_days,
                     stop_on=stop_on)
    return service.start("Launch")


# -- creating ------------------------------------------------------------------------


def test_create_names_segment_by_name_and_raises_the_event(shop: CRM) -> None:
    seen: list[Event] = []
    shop.events.subscribe("campaign.created", seen.append)
    made = Campaigns(shop).create("Launch", segment="Readers", sender="promo@shop.example",
                                  throttle_per_minute=60, ab_metric="converted")
    segment = Segments(shop).get("Readers")
    got = Campaigns(shop).get("Launch")
    assert got == made
    assert (got.segment_id, got.status, got.purpose, got.channel) == (
        segment.id, "draft", "marketing", "email")
    assert (got.sender, got.throttle_per_minute, got.ab_metric) == (
        "promo@shop.example", 60, "converted")
    assert [e.payload["campaign_id"] for e in seen] == [made.id]
    assert Campaigns(shop).get(made.id).name == "Launch"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"purpose": "gossip"}, "purpose"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": "any"}, "channel"),
        ({"sender": "not an address"}, "sender"),
        ({"throttle_per_minute": 0}, "throttle_per_minute"),
        ({"ab_metric": "opened"}, "ab_metric"),
    ],
)
def test_bad_campaign_values_are_refused_and_nothing_is_written(
    shop: CRM, options: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Campaigns(shop).create("Launch", segment="Readers", **options)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert Campaigns(shop).list() == []


def test_unknown_segment_and_taken_name_are_refused(shop: CRM) -> None:
    with pytest.raises(NotFound, match=r"campaign\.segment 'Nobody'"):
        Campaigns(shop).create("Launch", segment="Nobody")
    Campaigns(shop).create("Launch", segment="Readers")
    with pytest.raises(DuplicateError, match="already exists"):
        Campaigns(shop).create(" Launch ", segment="Readers")
    assert [c.name for c in Campaigns(shop).list()] == ["Launch"]


# -- steps ------------------------------------------------------------------------------


def test_steps_are_numbered_in_order(shop: CRM) -> None:
    launch(shop)
    steps = Campaigns(shop).steps("Launch")
    assert [(s.position, s.wait_days, s.subject) for s in steps] == [
        (1, 0, "Hello {first_name}"), (2, 3, "Again")]
    assert steps[1].stop_on == ["replied", "converted", "unsubscribed"]


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"body": "Hi {nickname}"}, "body", "unknown placeholder {nickname}"),
        ({"subject": "Hi {first_name!r}"}, "subject", "no conversion"),
        ({"body": "   "}, "body", "needs a message body"),
        ({"subject": None}, "subject", "needs a subject"),
        ({"wait_days": 2}, "wait_days", "first step"),
        ({"split_b": 50}, "variant_b_body", "needs variant B's body"),
        ({"split_b": 50, "variant_b_body": "B"}, "variant_b_subject", "subject too"),
        ({"variant_b_body": "B"}, "split_b", "without a split"),
        ({"split_b": 101, "variant_b_body": "B", "variant_b_subject": "S"}, "split_b", "0"),
        ({"split_b": 50, "variant_b_body": "{x}", "variant_b_subject": "S"}, "variant_b_body",
         "unknown placeholder {x}"),
        ({"stop_on": ["opened"]}, "stop_on", "'opened'"),
    ],
)
def test_bad_steps_are_refused_and_nothing_is_written(
    shop: CRM, options: dict[str, object], field: str, words: str
) -> None:
    Campaigns(shop).create("Launch", segment="Readers")
    values: dict[str, object] = {"subject": "Hello", "body": "Hi {first_name}", **options}
    with pytest.raises(ValidationError) as caught:
        Campaigns(shop).add_step("Launch", **values)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert words in str(caught.value)
    assert Campaigns(shop).steps("Launch") == []


def test_a_follow_up_must_wait_at_least_a_day(shop: CRM) -> None:
    Campaigns(shop).create("Launch", segment="Readers")
    Campaigns(shop).add_step("Launch", subject="Hello", body="Hi")
    with pytest.raises(ValidationError, match="waits 1 day or more"):
        Campaigns(shop).add_step("Launch", subject="Again", body="Hi", wait_days=0)
    assert len(Campaigns(shop).steps("Launch")) == 1


def test_an_sms_step_needs_no_subject(shop: CRM) -> None:
    Campaigns(shop).create("Texts", segment="Readers", channel="sms")
    step = Campaigns(shop).add_step("Texts", body="Sale today, {first_name}")
    assert (step.subject, step.position) == (None, 1)


# -- status -----------------------------------------------------------------------------


def test_start_needs_a_step_then_pause_and_resume(shop: CRM, crmkit_clock: Clock) -> None:
    Campaigns(shop).create("Launch", segment="Readers")
    with pytest.raises(ValidationError, match="has no steps"):
        Campaigns(shop).start("Launch")
    assert Campaigns(shop).get("Launch").status == "draft"
    Campaigns(shop).add_step("Launch", subject="Hello", body="Hi")
    started: list[Event] = []
    shop.events.subscribe("campaign.started", started.append)
    crmkit_clock.set(T0)
    assert Campaigns(shop).start("Launch").status == "active"
    assert Campaigns(shop).pause("Launch").status == "paused"
    crmkit_clock.advance(days=2)
    resumed = Campaigns(shop).start("Launch")
    assert (resumed.status, resumed.started_at) == ("active", T0)
    assert Campaigns(shop).get("Launch").started_at == T0
    assert len(started) == 2
    Campaigns(shop).finish("Launch")
    with pytest.raises(ValidationError, match="done"):
        Campaigns(shop).start("Launch")
    with pytest.raises(ValidationError, match="done"):
        Campaigns(shop).add_step("Launch", subject="More", body="Hi", wait_days=1)


def test_only_an_active_campaign_can_be_paused(shop: CRM) -> None:
    Campaigns(shop).create("Launch", segment="Readers")
    with pytest.raises(ValidationError, match="is draft"):
        Campaigns(shop).pause("Launch")


# -- the follow-up schedule -------------------------------------------------------------


def test_step_one_goes_to_the_segment_minus_those_already_handled(shop: CRM) -> None:
    launch(shop)
    step1 = Campaigns(shop).step("Launch", 1)
    assert names(shop, due(shop, "Launch", 1, T0)) == {"Ada", "Bob", "Cy"}
    deliver(shop, step1, person(shop, "Ada"), sent_at=T0)
    etype = shop.entity_type("campaign.exclusion")
    bob = person(shop, "Bob")
    left_out = Exclusion(campaign_id=step1.campaign_id, step_id=step1.id, contact_id=bob,
                         reason="consent", key=f"{step1.id}:{bob}")
    with shop.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(left_out))
    assert names(shop, due(shop, "Launch", 1, T0)) == {"Cy"}


def test_a_follow_up_is_due_after_exactly_wait_days(shop: CRM) -> None:
    launch(shop, wait_days=3)
    step1 = Campaigns(shop).step("Launch", 1)
    deliver(shop, step1, person(shop, "Ada"), sent_at=T0)
    deliver(shop, step1, person(shop, "Bob"), sent_at=T0 + dt.timedelta(hours=5))
    three_days = T0 + dt.timedelta(days=3)
    assert due(shop, "Launch", 2, three_days - dt.timedelta(seconds=1)) == set()
    assert names(shop, due(shop, "Launch", 2, three_days)) == {"Ada"}
    assert names(shop, due(shop, "Launch", 2, three_days + dt.timedelta(hours=5))) == {
        "Ada", "Bob"}


def test_no_follow_up_after_a_failed_or_bounced_or_unsent_first_step(shop: CRM) -> None:
    launch(shop, wait_days=1)
    step1 = Campaigns(shop).step("Launch", 1)
    deliver(shop, step1, person(shop, "Ada"), sent_at=T0, status="bounced")
    deliver(shop, step1, person(shop, "Bob"), sent_at=None, status="failed")
    deliver(shop, step1, person(shop, "Cy"), sent_at=None, status="in_doubt")
    assert due(shop, "Launch", 2, T0 + dt.timedelta(days=30)) == set()


def test_a_follow_up_is_sent_once(shop: CRM) -> None:
    launch(shop, wait_days=1)
    service = Campaigns(shop)
    step1, step2 = service.step("Launch", 1), service.step("Launch", 2)
    ada = person(shop, "Ada")
    deliver(shop, step1, ada, sent_at=T0)
    later = T0 + dt.timedelta(days=1)
    assert due(shop, "Launch", 2, later) == {ada}
    deliver(shop, step2, ada, sent_at=later)
    assert due(shop, "Launch", 2, later + dt.timedelta(days=9)) == set()


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("reply", "replied"), ("unsubscribe", "unsubscribed"), ("conversion", "converted")],
)
def test_a_response_stops_the_follow_ups(shop: CRM, kind: str, reason: str) -> None:
    launch(shop, wait_days=2)
    step1 = Campaigns(shop).step("Launch", 1)
    sent = {first: deliver(shop, step1, person(shop, first), sent_at=T0)
            for first in ("Ada", "Bob")}
    respond(shop, sent["Ada"], kind, T0 + dt.timedelta(days=1))
    now = T0 + dt.timedelta(days=2)
    assert names(shop, due(shop, "Launch", 2, now)) == {"Bob"}
    owner = Campaigns(shop).get("Launch")
    step2 = Campaigns(shop).step("Launch", 2)
    with shop.backend.read() as reader:
        stopped = list(stopped_recipients(shop, reader, owner, step2, now))
    assert stopped == [(f"stopped:{reason}", [sent["Ada"].contact_id])]


def test_stop_on_lists_only_the_responses_that_stop(shop: CRM) -> None:
    launch(shop, wait_days=2, stop_on=["replied"])
    step1 = Campaigns(shop).step("Launch", 1)
    ada = deliver(shop, step1, person(shop, "Ada"), sent_at=T0)
    bob = deliver(shop, step1, person(shop, "Bob"), sent_at=T0)
    respond(shop, ada, "unsubscribe", T0 + dt.timedelta(days=1))
    respond(shop, bob, "reply", T0 + dt.timedelta(days=1))
    assert names(shop, due(shop, "Launch", 2, T0 + dt.timedelta(days=2))) == {"Ada"}


def test_a_reply_to_another_campaign_does_not_stop_this_one(shop: CRM) -> None:
    launch(shop, wait_days=2)
    service = Campaigns(shop)
    service.create("Other", segment="Readers")
    other_step = service.add_step("Other", subject="Hi", body="Hi")
    ada = person(shop, "Ada")
    deliver(shop, service.step("Launch", 1), ada, sent_at=T0)
    respond(shop, deliver(shop, other_step, ada, sent_at=T0), "reply", T0)
    assert due(shop, "Launch", 2, T0 + dt.timedelta(days=2)) == {ada}


def test_many_recipients_come_in_batches_in_id_order(shop: CRM) -> None:
    for n in range(7):
        shop.contacts.add(first_name=f"Extra{n}", tags=["news"])
    launch(shop)
    owner = Campaigns(shop).get("Launch")
    step1 = Campaigns(shop).step("Launch", 1)
    with shop.backend.read() as reader:
        batches = list(due_recipients(shop, reader, owner, step1, T0, batch=4))
    assert [len(b) for b in batches] == [4, 4, 2]
    flat = [i for b in batches for i in b]
    assert flat == sorted(flat) and len(set(flat)) == 10
    assert shop.contacts.count(where=[Cond("tags", "has", "news")]) == 10


# -- A/B variants -----------------------------------------------------------------------


def test_variant_for_is_stable_and_follows_the_split() -> None:
    step = Step(id="step-1", campaign_id="c", position=1, body="A", variant_b_body="B",
                split_b=30)
    ids = [f"contact-{n}" for n in range(2000)]
    first = [variant_for(step, i) for i in ids]
    assert first == [variant_for(step, i) for i in ids]
    share_b = Counter(first)["B"] / len(ids)
    assert 0.26 < share_b < 0.34
    assert {variant_for(attrs.evolve(step, split_b=0), i) for i in ids} == {"A"}
    assert {variant_for(attrs.evolve(step, split_b=100), i) for i in ids} == {"B"}
    other = attrs.evolve(step, id="step-2")
    assert [variant_for(other, i) for i in ids] != first
