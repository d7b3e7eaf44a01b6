"""Units of work: several writes commit together, or nothing is kept and nobody hears."""

from __future__ import annotations

import pytest

from crmkit.crm import CRM
from crmkit.errors import DuplicateError
from crmkit.events.model import Event


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
