"""Units of work: several writes commit together, or nothing is kept and nobody hears."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.errors import DuplicateError, PolicyDenied
from crmkit.events.model import Event, EventType


def test_several_writes_commit_together_and_events_follow_the_commit(crm: CRM) -> None:
    heard: list[Event] = []
    crm.events.subscribe("*", heard.append)
    with crm.unit_of_work(actor="alice") as uow:
        org = uow.organizations.add(name="Analytical Engines")
        ada = uow.contacts.add(first_name="Ada", email="ada@example.com")
        uow.contacts.link(ada.id, org.id, role="CTO")
        uow.interactions.log(ada.id, channel="in_person", summary="Met at the fair")
        assert uow.contacts.find("ada@example.com") == ada, "a unit of work reads its own writes"
        assert heard == [], "nothing is delivered before the commit"
    assert [e.name for e in heard] == [
        "organization.created", "contact.created", "contact.linked", "interaction.logged",
    ]
    assert {e.actor for e in heard} == {"alice"}
    assert crm.contacts.organizations_of(ada.id)[0].role == "CTO"
    assert len(crm.interactions.timeline(ada.id)) == 1
    assert [e.id for e in crm.events.read()] == [e.id for e in heard]


def test_an_error_keeps_nothing_and_delivers_nothing(crm: CRM) -> None:
    heard: list[Event] = []
    crm.events.subscribe("*", heard.append)
    with pytest.raises(RuntimeError, match="power cut"), crm.unit_of_work() as uow:
        org = uow.organizations.add(name="Analytical Engines")
        ada = uow.contacts.add(first_name="Ada", email="ada@example.com", org=org.id)
        uow.interactions.log(ada.id, channel="email")
        raise RuntimeError("power cut")
    assert crm.contacts.count() == 0 and crm.organizations.count() == 0
    assert crm.contacts.find("ada@example.com") is None
    assert heard == [] and crm.events.read() == []


def test_a_refused_write_undoes_the_earlier_writes_of_its_unit(crm: CRM) -> None:
    crm.contacts.add(first_name="Grace", email="grace@example.com")
    with pytest.raises(DuplicateError), crm.unit_of_work() as uow:
        uow.organizations.add(name="Navy")
        uow.contacts.add(first_name="Ada", email="ada@example.com")
        uow.contacts.add(first_name="Imposter", email="grace@example.com")
    assert [c.first_name for c in crm.contacts.list()] == ["Grace"]
    assert crm.organizations.count() == 0
    assert [e.name for e in crm.events.read()] == ["contact.created"]


def test_a_unit_of_work_is_used_in_a_with_block(crm: CRM) -> None:
    uow = crm.unit_of_work()
    with pytest.raises(RuntimeError, match="with"):
        uow.contacts.add(first_name="Ada")
    with uow:
        uow.contacts.add(first_name="Ada")
    with pytest.raises(RuntimeError, match="with"):
        uow.tx.count(crm.entity_type("contact"))
    assert crm.contacts.count() == 1


# -- record_activity: an event and the same fact on the contact's timeline -------------


class Shop:
    """A plugin raising ``shop.*`` events about people."""

    def crmkit_register_event_types(self) -> list[EventType]:
        return [EventType("shop.order.shipped"), EventType("shop.stock.counted")]


@pytest.fixture
def shop_crm(any_url: str) -> Iterator[CRM]:
    with crmkit.open(any_url, plugins=["shop"], extra_plugins=[("shop", Shop())]) as opened:
        yield opened


def test_an_activity_about_a_contact_is_an_event_and_a_timeline_entry(shop_crm: CRM) -> None:
    ada = shop_crm.contacts.add(first_name="Ada", email="ada@example.com")
    heard: list[Event] = []
    shop_crm.events.subscribe("shop.*", heard.append)
    with shop_crm.unit_of_work("alice") as uow:
        uow.record_activity(
            "shop.order.shipped",
            {"order": "o-1", "total": Decimal("1200.50")},
            contact_id=ada.id,
            summary="Order o-1 shipped (1200.50 EUR)",
        )
    [event] = heard
    assert (event.name, event.subject_id, event.actor) == ("shop.order.shipped", ada.id, "alice")
    assert event.payload == {"order": "o-1", "total": "1200.50"}
    [entry] = shop_crm.interactions.timeline(ada.id)
    assert (entry.source, entry.channel, entry.direction, entry.kind) == (
        "shop", "system", "internal", "order.shipped",
    )
    assert entry.summary == "Order o-1 shipped (1200.50 EUR)"
    assert entry.payload == {"order": "o-1", "total": "1200.50"}


def test_an_activity_on_a_channel_keeps_its_channel_and_direction(shop_crm: CRM) -> None:
    ada = shop_crm.contacts.add(first_name="Ada")
    with shop_crm.unit_of_work() as uow:
        uow.record_activity(
            "shop.order.shipped", {}, contact_id=ada.id, summary="Told by phone",
            channel="phone", direction="outbound",
        )
    [entry] = shop_crm.interactions.timeline(ada.id)
    assert (entry.channel, entry.direction) == ("phone", "outbound")


def test_an_activity_without_a_contact_is_only_an_event(shop_crm: CRM) -> None:
    ada = shop_crm.contacts.add(first_name="Ada")
    heard: list[Event] = []
    shop_crm.events.subscribe("shop.*", heard.append)
    with shop_crm.unit_of_work() as uow:
        uow.record_activity("shop.stock.counted", {"items": 3}, contact_id=None, summary="Count")
    assert [(e.name, e.subject_id) for e in heard] == [("shop.stock.counted", None)]
    assert shop_crm.interactions.timeline(ada.id) == []


def test_an_activity_about_an_erased_person_is_refused_and_nothing_is_written(
    shop_crm: CRM,
) -> None:
    ada = shop_crm.contacts.add(first_name="Ada", email="ada@example.com")
    shop_crm.privacy.erase(ada.id)
    heard: list[Event] = []
    shop_crm.events.subscribe("shop.*", heard.append)
    with pytest.raises(PolicyDenied), shop_crm.unit_of_work() as uow:
        uow.record_activity("shop.order.shipped", {}, contact_id=ada.id, summary="Shipped")
    assert heard == []
    with shop_crm.unit_of_work() as uow:
        assert uow.tx.count(shop_crm.entity_type("interaction")) == 0
