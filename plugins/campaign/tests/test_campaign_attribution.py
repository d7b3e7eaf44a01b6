"""Won deals credited to campaign messages: first and last touch within the window, once."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from crmkit_campaign.campaigns import Campaigns
from crmkit_campaign.entities import Delivery, Step
from crmkit_campaign.results import Results
from crmkit_campaign.segments import Segments
from crmkit_sales.deals import Deals

from crmkit import Event
from crmkit.crm import CRM
from crmkit.storage import Cond, Query
from crmkit.testing.clock import Clock
from crmkit.testing.crm_factory import CrmFactory

WON_AT = dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(days=30)


@pytest.fixture
def shop(crm_with_sales: CRM, crmkit_clock: Clock) -> CRM:
    """Ada and Bob, and two campaigns of two steps each, made long before the win."""
    crm = crm_with_sales
    crmkit_clock.set(WON_AT - dt.timedelta(days=90))
    for first in ("Ada", "Bob"):
        crm.contacts.add(first_name=first, email=f"{first.lower()}@example.com", tags=["news"])
    Segments(crm).create("Readers", {"field": "tags", "op": "has", "value": "news"})
    for name in ("Spring", "Summer"):
        Campaigns(crm).create(name, segment="Readers")
        Campaigns(crm).add_step(name, subject="One", body="Hi")
        Campaigns(crm).add_step(name, subject="Two", body="Hi", wait_days=1)
    return crm


def step(crm: CRM, campaign: str, position: int) -> Step:
    return Campaigns(crm).step(campaign, position)


def deliver(crm: CRM, at: Step, who: str, sent_at: dt.datetime, status: str = "sent") -> Delivery:
    contact = crm.contacts.get(f"{who.lower()}@example.com")
    etype = crm.entity_type("campaign.delivery")
    made = Delivery(key=f"{at.id}:{contact.id}", campaign_id=at.campaign_id, step_id=at.id,
                    contact_id=contact.id, address=contact.email, message_id="-",
                    status=status, sent_at=sent_at)
    made = attrs.evolve(made, message_id=f"<{made.id}@crmkit>")
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(made))
    return made


def win_deal(crm: CRM, crmkit_clock: Clock, who: str, title: str = "Engine") -> str:
    crmkit_clock.set(WON_AT - dt.timedelta(days=60))
    deal = Deals(crm).add(title=title, amount="1200.00", currency="EUR",
                          contact=f"{who.lower()}@example.com")
    crmkit_clock.set(WON_AT)
    Deals(crm).win(deal.id)
    return deal.id


def conversions(crm: CRM) -> list[tuple[str | None, str | None, str | None]]:
    with crm.backend.read() as reader:
        rows = reader.query(crm.entity_type("campaign.response"),
                            Query(Cond("kind", "eq", "conversion"), ("touch",)))
    return [(r["touch"], r["delivery_id"], r["deal_id"]) for r in rows]


def test_the_earliest_and_latest_message_in_the_window_are_credited(
    shop: CRM, crmkit_clock: Clock
) -> None:
    seen: list[Event] = []
    shop.events.subscribe("campaign.conversion.attributed", seen.append)
    deliver(shop, step(shop, "Spring", 1), "Ada", WON_AT - WINDOW - dt.timedelta(seconds=1))
    first = deliver(shop, step(shop, "Spring", 2), "Ada", WON_AT - WINDOW)
    deliver(shop, step(shop, "Summer", 1), "Ada", WON_AT - dt.timedelta(days=10))
    last = deliver(shop, step(shop, "Summer", 2), "Ada", WON_AT - dt.timedelta(days=1))
    deliver(shop, step(shop, "Spring", 1), "Bob", WON_AT - dt.timedelta(days=2))
    deal_id = win_deal(shop, crmkit_clock, "Ada")
    assert conversions(shop) == [("first", first.id, deal_id), ("last", last.id, deal_id)]
    assert sorted((e.payload["touch"], e.payload["campaign_id"]) for e in seen) == [
        ("first", first.campaign_id), ("last", last.campaign_id)]
    spring = Results(shop).report("Spring").variants
    summer = Results(shop).report("Summer").variants
    assert [(v.position, v.converted_first, v.converted_last) for v in spring] == [
        (1, 0, 0), (2, 1, 0)]
    assert [(v.position, v.converted_first, v.converted_last) for v in summer] == [
        (1, 0, 0), (2, 0, 1)]


def test_one_message_is_both_first_and_last_touch(shop: CRM, crmkit_clock: Clock) -> None:
    only = deliver(shop, step(shop, "Spring", 1), "Ada", WON_AT - dt.timedelta(days=5))
    deal_id = win_deal(shop, crmkit_clock, "Ada")
    assert conversions(shop) == [("first", only.id, deal_id), ("last", only.id, deal_id)]
    ada = shop.contacts.get("ada@example.com")
    kinds = [i.kind for i in shop.interactions.timeline(ada.id, channel="system")]
    assert kinds.count("conversion.attributed") == 2


def test_nothing_is_credited_without_a_sent_message_in_the_window(
    shop: CRM, crmkit_clock: Clock
) -> None:
    deliver(shop, step(shop, "Spring", 1), "Ada", WON_AT - WINDOW - dt.timedelta(minutes=1))
    deliver(shop, step(shop, "Spring", 2), "Ada", WON_AT - dt.timedelta(days=3), "bounced")
    deliver(shop, step(shop, "Summer", 1), "Ada", WON_AT + dt.timedelta(minutes=1))
    deliver(shop, step(shop, "Summer", 2), "Bob", WON_AT - dt.timedelta(days=3))
    win_deal(shop, crmkit_clock, "Ada")
    assert conversions(shop) == []
    assert shop.events.failures() == []


def test_a_deal_won_again_is_credited_once(shop: CRM, crmkit_clock: Clock) -> None:
    deliver(shop, step(shop, "Spring", 1), "Ada", WON_AT - dt.timedelta(days=5))
    deal_id = win_deal(shop, crmkit_clock, "Ada")
    Deals(shop).reopen(deal_id, reason="customer asked for more")
    deliver(shop, step(shop, "Spring", 2), "Ada", WON_AT)
    crmkit_clock.advance(days=1)
    Deals(shop).win(deal_id)
    assert [c[0] for c in conversions(shop)] == ["first", "last"]
    assert shop.events.failures() == []


def test_the_window_follows_the_settings(crm_factory: CrmFactory, crmkit_clock: Clock) -> None:
    crmkit_clock.set(WON_AT - dt.timedelta(days=90))
    crm = crm_factory(["sales", "campaign"], url="sqlite",
                      plugin_settings={"campaign": {"attribution_window_days": 7}})
    crm.contacts.add(first_name="Ada", email="ada@example.com", tags=["news"])
    Segments(crm).create("Readers", {"field": "tags", "op": "has", "value": "news"})
    Campaigns(crm).create("Spring", segment="Readers")
    one = Campaigns(crm).add_step("Spring", subject="One", body="Hi")
    deliver(crm, one, "Ada", WON_AT - dt.timedelta(days=8))
    win_deal(crm, crmkit_clock, "Ada")
    assert conversions(crm) == []
    assert crm.events.failures() == []
