"""Reads made straight from the CRM: committed data only, one snapshot, any thread."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.errors import DatabaseError
from crmkit.storage.query import Cond


@pytest.fixture(params=["memory", "sqlite"])
def snapshot_crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CRM]:
    """A CRM on a backend whose reads hold one snapshot for a whole read."""
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    with crmkit.open(url, plugins=[]) as opened:
        yield opened


def test_reads_outside_a_unit_of_work_see_only_what_is_committed(crm: CRM) -> None:
    with crm.unit_of_work() as uow:
        uow.contacts.add(first_name="Ada", email="ada@example.com")
        assert uow.contacts.find("ada@example.com") is not None
        assert crm.contacts.find("ada@example.com") is None
        assert crm.contacts.count() == 0
    assert crm.contacts.get("ada@example.com").first_name == "Ada"


def test_a_failed_unit_of_work_leaves_nothing_for_later_reads(crm: CRM) -> None:
    with pytest.raises(RuntimeError), crm.unit_of_work() as uow:
        uow.contacts.add(first_name="Ada", email="ada@example.com")
        raise RuntimeError("stop")
    assert crm.contacts.find("ada@example.com") is None


def test_one_read_sees_one_snapshot_while_others_write(snapshot_crm: CRM) -> None:
    crm = snapshot_crm
    contact = crm.entity_type("contact")
    crm.contacts.add(first_name="Ada", email="ada@example.com")
    with crm.backend.read() as reader:
        before = reader.count(contact)
        crm.contacts.add(first_name="Grace", email="grace@example.com")
        assert reader.count(contact) == before
        assert reader.get_by(contact, "email", "grace@example.com") is None
    assert crm.contacts.count() == before + 1


def test_queries_of_the_same_shape_find_each_their_own_records(crm: CRM) -> None:
    for name, city in [("Ada", "London"), ("Grace", "Arlington"), ("Alan", "London")]:
        crm.contacts.add(first_name=name, email=f"{name.lower()}@example.com", city=city)
    assert sorted(c.first_name for c in crm.contacts.list({"city": "London"})) == ["Ada", "Alan"]
    assert [c.first_name for c in crm.contacts.list({"city": "Arlington"})] == ["Grace"]
    assert crm.contacts.count({"city": "London"}) == 2
    assert crm.contacts.count({"city": "Paris"}) == 0
    by_name = [Cond("first_name", "in", ["Ada", "Grace"])]
    assert {c.first_name for c in crm.contacts.list(by_name)} == {"Ada", "Grace"}
    assert [c.first_name for c in crm.contacts.list([Cond("first_name", "in", ["Alan"])])] == [
        "Alan"
    ]
    assert crm.contacts.list([Cond("first_name", "in", [])]) == []
    assert [c.first_name for c in crm.contacts.search("gra")] == ["Grace"]
    assert [c.first_name for c in crm.contacts.search("ala")] == ["Alan"]
    assert [c.first_name for c in crm.contacts.list(limit=1, offset=2, order_by=["email"])] == [
        "Grace"
    ]


def test_the_timeline_pages_back_from_a_time_in_any_zone(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    for hour in (8, 9, 10, 11):
        crm.interactions.log(
            ada.id, channel="phone", summary=f"{hour}h",
            occurred_at=dt.datetime(2024, 6, 1, hour, tzinfo=dt.UTC),
        )
    paris = dt.timezone(dt.timedelta(hours=2))
    page = crm.interactions.timeline(ada.id, before=dt.datetime(2024, 6, 1, 12, tzinfo=paris))
    assert [i.summary for i in page] == ["9h", "8h"]
    assert all(i.occurred_at.tzinfo == dt.UTC for i in page)
    assert [i.summary for i in crm.interactions.timeline(ada.id, limit=1)] == ["11h"]


def test_the_view_lists_every_link_even_two_roles_in_one_organization(crm: CRM) -> None:
    engines = crm.organizations.add(name="Analytical Engines")
    society = crm.organizations.add(name="Royal Society")
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    crm.contacts.link(ada.id, engines.id, role="CTO")
    crm.contacts.link(ada.id, society.id, role="member")
    crm.contacts.link(ada.id, engines.id, role="founder")
    view = crm.view(ada.id)
    assert [(m.organization.name, m.role) for m in view.organizations] == [
        ("Analytical Engines", "CTO"),
        ("Royal Society", "member"),
        ("Analytical Engines", "founder"),
    ]
    assert [m.role for m in crm.contacts.organizations_of("ada@example.com")] == [
        "CTO", "member", "founder",
    ]


def test_many_threads_can_read_at_once(tmp_path: Path) -> None:
    with crmkit.open(f"sqlite:///{tmp_path / 'crm.db'}", plugins=[]) as crm:
        emails = [f"person{i}@example.com" for i in range(20)]
        crm.contacts.add_many({"first_name": f"P{i}", "email": e} for i, e in enumerate(emails))
        wrong: list[str] = []

        def read_all() -> None:
            for _ in range(10):
                for i, email in enumerate(emails):
                    if crm.contacts.get(email).first_name != f"P{i}":
                        wrong.append(email)

        threads = [threading.Thread(target=read_all) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wrong == []


def test_reading_a_database_that_was_never_upgraded_says_how_to_fix_it(sql_url: str) -> None:
    with crmkit.open(sql_url, plugins=[], migrate=False) as crm:
        with pytest.raises(DatabaseError, match="cannot read contact") as caught:
            crm.contacts.find("ada@example.com")
        assert "crmkit db upgrade" in str(caught.value)
