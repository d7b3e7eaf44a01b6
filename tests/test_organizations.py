"""Organizations through the public API, on every backend."""

from __future__ import annotations

import pytest

from crmkit.crm import CRM
from crmkit.errors import NotFound, ValidationError
from crmkit.events.model import Event


def test_an_organization_needs_a_name_and_keeps_its_domain_lower_case(crm: CRM) -> None:
    with pytest.raises(ValidationError) as caught:
        crm.organizations.add(domain="engines.example")
    assert (caught.value.entity, caught.value.field) == ("organization", "name")
    org = crm.organizations.add(name="Analytical Engines", domain="Engines.EXAMPLE", size="120")
    assert (org.domain, org.size) == ("engines.example", 120)
    assert crm.organizations.get(org.id) == org
    assert crm.organizations.get("Analytical Engines") == org
    assert crm.organizations.find("Nobody Ltd") is None
    with pytest.raises(NotFound, match="Nobody Ltd"):
        crm.organizations.get("Nobody Ltd")


def test_a_name_shared_by_two_organizations_asks_for_the_id(crm: CRM) -> None:
    first = crm.organizations.add(name="Acme")
    crm.organizations.add(name="Acme", city="Springfield")
    with pytest.raises(ValidationError, match="more than one organization"):
        crm.organizations.get("Acme")
    assert crm.organizations.get(first.id) == first


def test_update_raises_an_event_with_the_diff(crm: CRM) -> None:
    heard: list[Event] = []
    crm.events.subscribe("organization.*", heard.append)
    org = crm.organizations.add(name="Analytical Engines")
    changed = crm.organizations.update("Analytical Engines", industry="Computing", size=12)
    assert crm.organizations.get(org.id) == changed
    assert (changed.industry, changed.size) == ("Computing", 12)
    assert [e.name for e in heard] == ["organization.created", "organization.updated"]
    assert heard[1].payload["changes"] == {"industry": [None, "Computing"], "size": [None, 12]}
    assert crm.organizations.update(org.id, size=12) == changed
    assert len(heard) == 2, "an update that changes nothing raises no event"
    with pytest.raises(ValidationError) as caught:
        crm.organizations.update(org.id, size="a dozen")
    assert caught.value.field == "size"


def test_delete_removes_the_links_but_keeps_the_contacts(crm: CRM) -> None:
    org = crm.organizations.add(name="Analytical Engines")
    ada = crm.contacts.add(first_name="Ada", org=org.id, role="CTO")
    crm.organizations.delete(org.id)
    assert crm.organizations.find(org.id) is None
    assert crm.contacts.get(ada.id) == ada
    assert crm.contacts.organizations_of(ada.id) == []
    with pytest.raises(NotFound):
        crm.organizations.delete(org.id)


def test_list_search_count_and_members(crm: CRM) -> None:
    for name, city in [("Initech", "Austin"), ("Acme", "Springfield"), ("Globex", "Austin")]:
        crm.organizations.add(name=name, city=city, domain=f"{name.lower()}.example")
    assert [o.name for o in crm.organizations.list()] == ["Acme", "Globex", "Initech"]
    assert [o.name for o in crm.organizations.list({"city": "Austin"}, limit=1, offset=1)] == [
        "Initech"
    ]
    assert [o.name for o in crm.organizations.search("GLOBEX.example")] == ["Globex"]
    assert [o.name for o in crm.organizations.search("austin")] == ["Globex", "Initech"]
    assert crm.organizations.count({"city": "Austin"}) == 2
    ada = crm.contacts.add(first_name="Ada", org="Acme", role="Buyer")
    bob = crm.contacts.add(first_name="Bob", org="Acme")
    members = crm.organizations.members("Acme")
    assert [(c.id, role) for c, role in members] == [(ada.id, "Buyer"), (bob.id, None)]
