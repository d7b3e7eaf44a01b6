"""Events: written to the outbox with the data, delivered after commit, failures isolated."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.errors import EventError, PluginError
from crmkit.events import Event, EventType


@pytest.fixture
def observer(crm: CRM, any_url: str) -> Iterator[CRM]:
    """A second CRM on the same database (its own connections); the same CRM for memory://."""
    if any_url.startswith("memory:"):
        yield crm
        return
    with crmkit.open(any_url, plugins=[], migrate=False) as other:
        yield other


def test_events_are_delivered_after_the_data_is_committed(crm: CRM, observer: CRM) -> None:
    seen_at_delivery: list[tuple[str, bool, int]] = []

    def check(event: Event) -> None:
        found = observer.contacts.find(str(event.subject_id))
        in_outbox = len(observer.events.read(names=[event.name]))
        seen_at_delivery.append((event.name, found is not None, in_outbox))

    crm.events.subscribe("contact.created", check)
    with crm.unit_of_work(actor="alice") as uow:
        ada = uow.contacts.add(first_name="Ada")
        assert observer.contacts.find(ada.id) is None, "not visible before the commit"
        assert seen_at_delivery == []
    assert seen_at_delivery == [("contact.created", True, 1)]
    stored = crm.events.read()
    assert [(e.name, e.subject_id, e.actor) for e in stored] == [
        ("contact.created", ada.id, "alice")
    ]
    assert stored[0].payload["contact"]["first_name"] == "Ada"


def test_subscribers_choose_events_by_name_or_pattern(crm: CRM) -> None:
    heard: dict[str, list[str]] = {"exact": [], "contacts": [], "all": []}
    crm.events.subscribe("contact.created", lambda e: heard["exact"].append(e.name))
    crm.events.subscribe("contact.*", lambda e: heard["contacts"].append(e.name))

    @crm.events.subscriber("*")
    def everything(event: Event) -> None:
        heard["all"].append(event.name)

    ada = crm.contacts.add(first_name="Ada")
    crm.contacts.update(ada.id, city="London")
    crm.organizations.add(name="Analytical Engines")
    assert heard == {
        "exact": ["contact.created"],
        "contacts": ["contact.created", "contact.updated"],
        "all": ["contact.created", "contact.updated", "organization.created"],
    }


def test_reading_the_outbox_with_a_cursor_and_names(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada")
    crm.organizations.add(name="Analytical Engines")
    crm.contacts.update(ada.id, city="London")
    every = crm.events.read()
    assert [e.name for e in every] == ["contact.created", "organization.created", "contact.updated"]
    assert crm.events.read(after=every[0].id) == every[1:]
    assert crm.events.read(after=every[0].id, limit=1) == every[1:2]
    assert crm.events.read(names=["contact.updated", "contact.created"]) == [every[0], every[2]]


def test_unknown_event_names_and_bad_patterns_are_refused(crm: CRM) -> None:
    with pytest.raises(EventError, match=re.escape("contact.exploded")), crm.unit_of_work() as uow:
        uow.contacts.add(first_name="Ada")
        uow.raise_event("contact.exploded", {})
    assert crm.contacts.count() == 0
    with pytest.raises(EventError, match="Contact Created"):
        crm.events.subscribe("Contact Created", print)
    assert "contact.created" in crm.events.types


def test_a_failing_subscriber_is_isolated_recorded_and_retried(crm: CRM) -> None:
    mailer_up = False
    welcomed: list[str] = []
    counted: list[str] = []

    def send_welcome(event: Event) -> None:
        if not mailer_up:
            raise ConnectionError("mail server down")
        welcomed.append(str(event.subject_id))

    crm.events.subscribe("contact.created", send_welcome)
    crm.events.subscribe("contact.created", lambda e: counted.append(str(e.subject_id)))
    ada = crm.contacts.add(first_name="Ada")

    assert crm.contacts.get(ada.id) == ada, "the write is kept"
    assert counted == [ada.id], "the other subscriber still ran"
    [failure] = crm.events.failures()
    assert failure.subscriber.endswith("send_welcome") and failure.subscriber.startswith("app:")
    assert failure.error == "ConnectionError: mail server down"
    assert failure.event_id == crm.events.read()[0].id and failure.attempts == 1

    assert crm.events.retry_failures() == (0, 1)
    assert crm.events.failures()[0].attempts == 2

    mailer_up = True
    assert crm.events.retry_failures() == (1, 0)
    assert welcomed == [ada.id] and counted == [ada.id]
    assert crm.events.failures() == []
    [resolved] = crm.events.failures(unresolved_only=False)
    assert resolved.resolved_at is not None and resolved.attempts == 3
    assert crm.events.retry_failures() == (0, 0)


class Loyalty:
    """A plugin with its own event type and a subscriber on the core's events."""

    def __init__(self) -> None:
        self.awarded: list[Event] = []

    def crmkit_register_event_types(self) -> list[EventType]:
        return [EventType("loyalty.points_added", version=2, description="Points were added.")]

    def crmkit_register_subscribers(self) -> list[tuple[str, object]]:
        return [("loyalty.*", self.awarded.append), ("contact.deleted", self.refuse)]

    def refuse(self, event: Event) -> None:
        raise ValueError("cannot forget the points")


def test_plugins_register_event_types_and_subscribers(any_url: str) -> None:
    loyalty = Loyalty()
    with crmkit.open(any_url, plugins=["loyalty"], extra_plugins=[("loyalty", loyalty)]) as crm:
        ada = crm.contacts.add(first_name="Ada")
        with crm.unit_of_work(actor="shop") as uow:
            uow.raise_event("loyalty.points_added", {"points": 10}, subject_id=ada.id)
        [event] = loyalty.awarded
        assert (event.name, event.version, event.payload) == (
            "loyalty.points_added", 2, {"points": 10},
        )
        assert crm.events.read(names=["loyalty.points_added"]) == [event]
        crm.contacts.delete(ada.id)
        [failure] = crm.events.failures()
        assert failure.subscriber.startswith("loyalty:") and "Loyalty.refuse" in failure.subscriber
        assert "cannot forget the points" in failure.error


def test_a_plugin_event_type_must_be_an_event_type() -> None:
    class Sloppy:
        def crmkit_register_event_types(self) -> list[str]:
            return ["sloppy.happened"]

    with pytest.raises(PluginError, match="sloppy"):
        crmkit.open("memory://", plugins=["sloppy"], extra_plugins=[("sloppy", Sloppy())])
