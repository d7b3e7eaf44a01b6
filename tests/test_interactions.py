"""The timeline: interactions logged on contacts, on every backend."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit.crm import CRM
from crmkit.entities import Interaction
from crmkit.errors import NotFound, ValidationError


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, tzinfo=dt.UTC)


def test_log_records_an_interaction_and_an_event(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    item = crm.interactions.log(
        "ada@example.com", channel="email", kind="inquiry", summary="Asked for pricing",
        payload={"subject": "Prices?"}, source="mailbox",
    )
    assert (item.contact_id, item.direction, item.source) == (ada.id, "inbound", "mailbox")
    assert crm.interactions.timeline(ada.id) == [item]
    event = crm.events.read(names=["interaction.logged"])[0]
    assert event.subject_id == ada.id
    assert event.payload["interaction"]["summary"] == "Asked for pricing"


def test_times_are_kept_in_utc_and_need_a_zone(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada")
    item = crm.interactions.log(ada.id, channel="phone", occurred_at="2024-05-01T11:00:00+02:00")
    assert item.occurred_at == at(1) and item.occurred_at.utcoffset() == dt.timedelta(0)
    assert crm.interactions.timeline(ada.id)[0].occurred_at == at(1)
    with pytest.raises(ValidationError, match="time zone") as caught:
        crm.interactions.log(ada.id, channel="phone", occurred_at="2024-05-01T11:00:00")
    assert caught.value.field == "occurred_at"


def test_bad_channel_direction_or_contact_are_refused(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada")
    with pytest.raises(ValidationError, match="carrier pigeon") as caught:
        crm.interactions.log(ada.id, channel="carrier pigeon")
    assert (caught.value.entity, caught.value.field) == ("interaction", "channel")
    with pytest.raises(ValidationError) as caught:
        crm.interactions.log(ada.id, channel="email", direction="sideways")
    assert caught.value.field == "direction"
    with pytest.raises(NotFound):
        crm.interactions.log("nobody@example.com", channel="email")
    assert crm.interactions.timeline(ada.id) == []


def test_timeline_is_newest_first_and_pages_back(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada")
    grace = crm.contacts.add(first_name="Grace")
    for day, channel in [(3, "email"), (1, "phone"), (5, "email"), (2, "chat"), (4, "phone")]:
        crm.interactions.log(ada.id, channel=channel, summary=f"day {day}", occurred_at=at(day))
    crm.interactions.log(grace.id, channel="email", occurred_at=at(6))

    def days(items: list[Interaction]) -> list[str | None]:
        return [i.summary for i in items]

    assert days(crm.interactions.timeline(ada.id)) == [f"day {d}" for d in (5, 4, 3, 2, 1)]
    assert days(crm.interactions.timeline(ada.id, limit=2)) == ["day 5", "day 4"]
    assert days(crm.interactions.timeline(ada.id, before=at(4), limit=2)) == ["day 3", "day 2"]
    assert days(crm.interactions.timeline(ada.id, channel="email")) == ["day 5", "day 3"]
    with pytest.raises(NotFound):
        crm.interactions.timeline("nobody@example.com")
