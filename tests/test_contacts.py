"""Contacts through the public API, on every backend."""

from __future__ import annotations

import re

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.entities import Contact
from crmkit.errors import DuplicateError, NotFound, ValidationError
from crmkit.events.model import Event
from crmkit.storage.query import Cond, Query


def test_email_and_phone_are_normalised_on_write(crm: CRM) -> None:
    ada = crm.contacts.add(
        first_name=" Ada ", email=" Ada@EXAMPLE.Com ", phone="+44 20 7946 0018"
    )
    assert (ada.first_name, ada.email, ada.phone) == ("Ada", "ada@example.com", "+442079460018")
    stored = crm.contacts.get(ada.id)
    assert stored.email == "ada@example.com" and stored.phone == "+442079460018"
    assert crm.contacts.get("Ada@EXAMPLE.com").id == ada.id
    assert crm.contacts.list({"phone": "+442079460018"}) == [stored]


def test_national_phone_numbers_use_the_default_region() -> None:
    with crmkit.open("memory://", plugins=[], default_region="GB") as crm:
        assert crm.contacts.add(first_name="Ada", phone="020 7946 0018").phone == "+442079460018"
    with crmkit.open("memory://", plugins=[]) as crm, pytest.raises(ValidationError) as caught:
        crm.contacts.add(first_name="Ada", phone="020 7946 0018")
    assert (caught.value.entity, caught.value.field) == ("contact", "phone")


def test_invalid_email_is_refused_naming_the_field(crm: CRM) -> None:
    with pytest.raises(ValidationError) as caught:
        crm.contacts.add(first_name="Ada", email="ada-at-example.com")
    assert (caught.value.entity, caught.value.field) == ("contact", "email")
    assert crm.contacts.count() == 0


def test_a_contact_needs_a_name_or_an_email(crm: CRM) -> None:
    with pytest.raises(ValidationError, match="first name, last name or email"):
        crm.contacts.add(phone="+44 20 7946 0018", city="London")
    assert crm.contacts.add(email="someone@example.com").display_name == "someone@example.com"
    assert crm.contacts.add(last_name="Hopper").display_name == "Hopper"


def test_unknown_fields_are_refused(crm: CRM) -> None:
    with pytest.raises(ValidationError, match="no such field") as caught:
        crm.contacts.add(first_name="Ada", favourite_colour="green")
    assert caught.value.field == "favourite_colour"


def test_duplicate_email_is_refused_naming_the_existing_contact(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    grace = crm.contacts.add(first_name="Grace", email="grace@example.com")
    with pytest.raises(DuplicateError, match=ada.id):
        crm.contacts.add(first_name="Imposter", email="ada@EXAMPLE.COM")
    with pytest.raises(DuplicateError, match=ada.id):
        crm.contacts.update(grace.id, email="ada@example.com")
    assert crm.contacts.count() == 2
    assert crm.contacts.get(grace.id).email == "grace@example.com"


def test_update_changes_fields_and_raises_an_event_with_the_diff(crm: CRM) -> None:
    heard: list[Event] = []
    crm.events.subscribe("contact.updated", heard.append)
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    moved = crm.contacts.update("ada@example.com", city="London", first_name="Ada")
    assert moved.city == "London" and moved.updated_at > ada.updated_at
    assert crm.contacts.get(ada.id) == moved
    assert [e.payload for e in heard] == [
        {"contact_id": ada.id, "changes": {"city": [None, "London"]}}
    ]
    assert crm.contacts.update(ada.id, city="London") == moved
    assert len(heard) == 1, "an update that changes nothing raises no event"


def test_update_and_delete_of_a_missing_contact_raise_not_found(crm: CRM) -> None:
    with pytest.raises(NotFound, match=re.escape("nobody@example.com")):
        crm.contacts.update("nobody@example.com", city="Paris")
    with pytest.raises(NotFound):
        crm.contacts.delete("nobody@example.com")
    assert crm.contacts.find("nobody@example.com") is None
    with pytest.raises(NotFound):
        crm.contacts.get("nobody@example.com")


def test_delete_removes_the_contact_its_links_and_its_timeline(crm: CRM) -> None:
    org = crm.organizations.add(name="Analytical Engines")
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com", org=org.id, role="CTO")
    grace = crm.contacts.add(first_name="Grace", org=org.id)
    crm.interactions.log(ada.id, channel="email", summary="pricing")
    crm.interactions.log(grace.id, channel="phone", summary="support")

    crm.contacts.delete("ada@example.com")

    assert crm.contacts.find(ada.id) is None
    assert [c.id for c, _ in crm.organizations.members(org.id)] == [grace.id]
    with crm.backend.begin() as tx:
        left = tx.query(crm.entity_type("interaction"), Query(Cond("id", "isnull", False)))
    assert [i["contact_id"] for i in left] == [grace.id]
    assert crm.events.read(names=["contact.deleted"])[0].subject_id == ada.id
    assert crm.organizations.get(org.id) == org


def test_linking_contacts_to_organizations_with_roles(crm: CRM) -> None:
    engines = crm.organizations.add(name="Analytical Engines")
    navy = crm.organizations.add(name="US Navy")
    ada = crm.contacts.add(first_name="Ada", org="Analytical Engines", role="CTO")
    crm.contacts.link(ada.id, navy.id, role="Advisor")

    roles = {m.organization.name: m.role for m in crm.contacts.organizations_of(ada.id)}
    assert roles == {"Analytical Engines": "CTO", "US Navy": "Advisor"}
    assert [(c.id, role) for c, role in crm.organizations.members(engines.id)] == [(ada.id, "CTO")]
    assert [e.name for e in crm.events.read(names=["contact.linked"])] == ["contact.linked"] * 2

    assert crm.contacts.unlink(ada.id, "US Navy") == 1
    assert crm.contacts.unlink(ada.id, "US Navy") == 0
    assert [m.role for m in crm.contacts.organizations_of(ada.id)] == ["CTO"]
    with pytest.raises(NotFound):
        crm.contacts.link(ada.id, "No Such Org")


def test_list_filters_orders_and_pages(crm: CRM) -> None:
    people = [
        ("Ada", "Lovelace", "London"),
        ("Grace", "Hopper", "Arlington"),
        ("Alan", "Turing", "London"),
        ("Edsger", "Dijkstra", "Austin"),
        ("Barbara", "Liskov", "Boston"),
    ]
    for first, last, city in people:
        crm.contacts.add(first_name=first, last_name=last, city=city)

    def names(contacts: list[Contact]) -> list[str | None]:
        return [c.last_name for c in contacts]

    assert names(crm.contacts.list()) == ["Dijkstra", "Hopper", "Liskov", "Lovelace", "Turing"]
    assert names(crm.contacts.list(limit=2, offset=2)) == ["Liskov", "Lovelace"]
    assert names(crm.contacts.list(limit=2, offset=4)) == ["Turing"]
    assert names(crm.contacts.list({"city": "London"}, order_by=["-last_name"])) == [
        "Turing", "Lovelace",
    ]
    assert names(crm.contacts.list({"last_name__startswith": "l"})) == ["Liskov", "Lovelace"]
    assert crm.contacts.count({"city": "London"}) == 2
    with pytest.raises(ValidationError, match="no such field") as caught:
        crm.contacts.list({"shoe_size": 42})
    assert caught.value.field == "shoe_size"


def test_search_finds_words_in_names_emails_and_cities(crm: CRM) -> None:
    ada = crm.contacts.add(
        first_name="Ada", last_name="Lovelace", email="ada@engines.example", city="London"
    )
    alan = crm.contacts.add(first_name="Alan", last_name="Turing", city="London")
    crm.contacts.add(first_name="Grace", last_name="Hopper", email="grace@navy.example")

    def found(text: str) -> set[str]:
        return {c.id for c in crm.contacts.search(text)}

    assert found("lovelace") == {ada.id}
    assert found("ENGINES") == {ada.id}
    assert found("london") == {ada.id, alan.id}
    assert found("london ada") == {ada.id}
    assert found("nobody") == set()
    assert found("   ") == set()
    assert len(crm.contacts.search("london", limit=1)) == 1


def test_add_many_adds_all_or_nothing(crm: CRM) -> None:
    ids = crm.contacts.add_many(
        [{"first_name": f"P{i}", "email": f"p{i}@Example.com"} for i in range(5)], source="fair"
    )
    assert len(ids) == 5 and crm.contacts.get("p3@example.com").id == ids[3]
    imported = crm.events.read(names=["contact.imported"])
    assert [(e.payload["count"], e.payload["source"]) for e in imported] == [(5, "fair")]

    with pytest.raises(ValidationError) as caught:
        crm.contacts.add_many([{"first_name": "Ok"}, {"first_name": "Bad", "email": "nope"}])
    assert caught.value.record == "#2" and caught.value.field == "email"
    with pytest.raises(DuplicateError, match=re.escape("p1@example.com")):
        crm.contacts.add_many([{"first_name": "New"}, {"email": "P1@example.com"}])
    assert crm.contacts.count() == 5
