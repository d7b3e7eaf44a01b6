"""Data subject rights: the export bundle, restriction, rectification, and the privacy check."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.entities.base import Entity, entity
from crmkit.entities.fields import field
from crmkit.errors import NotFound, PolicyDenied, ValidationError
from crmkit.privacy.check import PrivacyProblem, check_entity_types
from crmkit.storage.query import Cond, Query

SENSITIVE_CUSTOM = {
    "contact": {
        "properties": {
            "tier": {"type": "string"},
            "allergies": {"type": "string", "x-privacy": "sensitive"},
        }
    }
}


def _audit(crm: CRM, action: str) -> list[dict[str, Any]]:
    etype = crm.entity_type("privacy.audit")
    with crm.backend.read() as reader:
        return reader.query(etype, Query(Cond("action", "eq", action), ("seq",), None))


# -- export ---------------------------------------------------------------------------


def test_export_bundle_holds_everything_on_the_person(sql_url: str) -> None:
    with crmkit.open(sql_url, plugins=[], custom_fields=SENSITIVE_CUSTOM) as crm:
        ada = crm.contacts.add(
            first_name="Ada", email="ada@example.com", custom={"tier": "gold", "allergies": "nuts"}
        )
        bob = crm.contacts.add(first_name="Bob", email="bob@example.com")
        org = crm.organizations.add(name="Analytical Engines Ltd")
        crm.contacts.link(ada.id, org.id, role="CTO")
        crm.contacts.link(bob.id, org.id, role="Buyer")
        crm.interactions.log(ada.id, channel="email", summary="Asked for pricing")
        crm.interactions.log(bob.id, channel="phone", summary="Bob's call")
        crm.privacy.consent.grant(ada.id, purpose="marketing", channel="email", evidence="form v3")
        crm.privacy.restrict(ada.id, reason="disputes accuracy")

        bundle = crm.privacy.export("ada@example.com", actor="dpo")

        records = bundle["records"]
        assert bundle["contact_id"] == ada.id and bundle["exported_by"] == "dpo"
        assert records["contact"][0]["custom"] == {"tier": "gold", "allergies": "nuts"}
        assert [a["role"] for a in records["affiliation"]] == ["CTO"]
        assert [i["summary"] for i in records["interaction"]] == ["Asked for pricing"]
        assert [(c["purpose"], c["status"], c["evidence"]) for c in records["privacy.consent"]] == [
            ("marketing", "granted", "form v3")
        ]
        [state] = records["privacy.subject"]
        assert state["restricted"] is True and state["restricted_reason"] == "disputes accuracy"
        assert "privacy.key" not in records and "organization" not in records
        assert [o["name"] for o in bundle["referenced"]["organization"]] == [
            "Analytical Engines Ltd"
        ]
        names = [e["name"] for e in bundle["events"]]
        assert names[:3] == ["contact.created", "contact.linked", "interaction.logged"]
        assert "privacy.restricted" in names
        assert all("Bob" not in json.dumps(e) for e in bundle["events"])
        contact_fields = bundle["declarations"]["contact"]["fields"]
        assert contact_fields["email"] == {"privacy": "personal", "erase": "anonymise"}
        assert bundle["declarations"]["contact"]["custom_fields"] == {"allergies": "sensitive"}
        assert bundle["declarations"]["privacy.consent"]["fields"]["contact_id"]["hold"]
        assert json.loads(json.dumps(bundle)) == bundle  # machine-readable as it is
        [entry] = _audit(crm, "privacy.export")
    assert entry["actor"] == "dpo" and entry["subject_id"] == ada.id
    assert entry["details"]["records"]["interaction"] == 1


@entity("loyalty.program", description="A loyalty programme, run by someone.")
@attrs.define(kw_only=True)
class Program(Entity):
    name: str = field(privacy="none", erase="keep")
    manager_email: str = field(privacy="personal", erase="anonymise")


@entity("loyalty.card", description="A loyalty card.")
@attrs.define(kw_only=True)
class Card(Entity):
    contact_id: str = field(ref="contact", privacy="personal", erase="delete")
    program_id: str = field(ref="loyalty.program", privacy="none", erase="keep")
    number: str = field(privacy="personal", erase="delete")
    points: int = field(default=0, privacy="none", erase="keep")


class Loyalty:
    def crmkit_register_entity_types(self) -> Sequence[type]:
        return [Program, Card]


def test_export_bundle_holds_a_plugins_records_with_their_declarations() -> None:
    with crmkit.open(
        "memory://", plugins=["loyalty"], extra_plugins=[("loyalty", Loyalty())]
    ) as crm:
        ada = crm.contacts.add(first_name="Ada")
        bob = crm.contacts.add(first_name="Bob")
        programs, cards = crm.entity_type("loyalty.program"), crm.entity_type("loyalty.card")
        gold = Program(name="Gold", manager_email="manager@example.com")
        with crm.unit_of_work() as uow:
            uow.tx.add(programs, programs.to_row(gold))
            for person, number, points in ((ada, "C-1", 40), (bob, "C-2", 0)):
                card = Card(contact_id=person.id, program_id=gold.id, number=number, points=points)
                uow.tx.add(cards, cards.to_row(card))
        bundle = crm.privacy.export(ada.id)
    assert [(c["number"], c["points"]) for c in bundle["records"]["loyalty.card"]] == [("C-1", 40)]
    assert "loyalty.program" not in bundle["records"]
    [program] = bundle["referenced"]["loyalty.program"]
    assert program["name"] == "Gold" and "manager_email" not in program
    declared = bundle["declarations"]["loyalty.card"]
    assert declared["plugin"] == "loyalty"
    assert declared["fields"]["number"] == {"privacy": "personal", "erase": "delete"}
    assert declared["fields"]["contact_id"]["ref"] == "contact"


def test_export_masks_what_the_actor_may_not_see_and_says_so() -> None:
    privacy = {
        "roles": {"clerk": {"actions": ["read", "export"], "see": ["personal"]}},
        "actors": {"carl": ["clerk"], "eve": ["agent"]},
    }
    with crmkit.open(
        "memory://", plugins=[], custom_fields=SENSITIVE_CUSTOM, privacy=privacy
    ) as crm:
        ada = crm.contacts.add(first_name="Ada", custom={"tier": "gold", "allergies": "nuts"})
        bundle = crm.privacy.export(ada.id, actor="carl")
        with pytest.raises(PolicyDenied, match="may not export"):
            crm.privacy.export(ada.id, actor="eve")
    custom = bundle["records"]["contact"][0]["custom"]
    assert custom == {"tier": "gold", "allergies": "[masked: sensitive]"}
    assert bundle["masked"] == {"contact": ["custom.allergies"]}
    assert {e["payload"] for e in bundle["events"]} == {"[masked]"}


def test_export_of_an_unknown_contact_is_not_found() -> None:
    with crmkit.open("memory://", plugins=[]) as crm, pytest.raises(NotFound):
        crm.privacy.export("nobody@example.com")


# -- restriction ------------------------------------------------------------------------


def test_restriction_stops_processing_until_lifted(any_url: str) -> None:
    with crmkit.open(any_url, plugins=[]) as crm:
        ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
        crm.privacy.consent.grant(ada.id, purpose="marketing", channel="email")
        crm.privacy.restrict("ada@example.com", reason="disputes accuracy")

        denied = crm.privacy.may_contact(ada.id, "marketing", "email")
        assert not denied.allowed and "disputes accuracy" in denied.reason
        assert crm.privacy.export(ada.id)["contact_id"] == ada.id

        crm.privacy.restrict(ada.id, reason="objection pending")
        crm.privacy.lift_restriction(ada.id)
        assert crm.privacy.may_contact(ada.id, "marketing", "email").allowed
        crm.privacy.lift_restriction(ada.id)  # nothing to lift: nothing happens

        events = [e.name for e in crm.events.read() if e.name.startswith("privacy.")]
        restricts = _audit(crm, "privacy.restrict")
        lifts = _audit(crm, "privacy.lift_restriction")
    assert events == ["privacy.restricted", "privacy.restricted", "privacy.restriction_lifted"]
    assert [r["reason"] for r in restricts] == ["disputes accuracy", "objection pending"]
    assert [r["subject_id"] for r in lifts] == [ada.id]


def test_restriction_needs_a_reason() -> None:
    with crmkit.open("memory://", plugins=[]) as crm:
        ada = crm.contacts.add(first_name="Ada")
        with pytest.raises(ValidationError, match="restricted_reason"):
            crm.privacy.restrict(ada.id, reason="  ")
        assert _audit(crm, "privacy.restrict") == []


# -- rectification ----------------------------------------------------------------------


def test_rectify_corrects_a_restricted_person_and_audits_field_names_only(any_url: str) -> None:
    with crmkit.open(any_url, plugins=[], custom_fields=SENSITIVE_CUSTOM) as crm:
        ada = crm.contacts.add(first_name="Ada", email="ada@example.com", city="Paris")
        crm.privacy.restrict(ada.id, reason="disputes accuracy")
        with pytest.raises(PolicyDenied):
            crm.contacts.update(ada.id, city="London")

        fixed = crm.privacy.rectify(
            "ada@example.com", city="London", email="ADA.King@Example.com", custom={"tier": "gold"}
        )

        assert (fixed.city, fixed.email, fixed.custom) == (
            "London",
            "ada.king@example.com",
            {"tier": "gold"},
        )
        assert crm.contacts.get(ada.id).city == "London"
        [entry] = _audit(crm, "privacy.rectify")
        updated = [e for e in crm.events.read() if e.name == "contact.updated"]
    assert entry["details"] == {"fields": ["email", "city", "custom.tier"]}
    assert "London" not in json.dumps(entry, default=str)
    assert [sorted(e.payload["changes"]) for e in updated] == [["city", "custom", "email"]]


def test_rectify_refuses_invalid_values_and_changes_nothing() -> None:
    with crmkit.open("memory://", plugins=[]) as crm:
        ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
        with pytest.raises(ValidationError, match="email"):
            crm.privacy.rectify(ada.id, email="not an email", city="London")
        with pytest.raises(ValidationError, match="nothing to rectify"):
            crm.privacy.rectify(ada.id)
        assert crm.contacts.get(ada.id).city is None
        assert _audit(crm, "privacy.rectify") == []


def test_an_erased_person_can_no_longer_be_restricted_or_rectified() -> None:
    with crmkit.open("memory://", plugins=[]) as crm:
        ada = crm.contacts.add(first_name="Ada")
        crm.privacy.erase(ada.id)
        with pytest.raises(PolicyDenied, match="erased"):
            crm.privacy.rectify(ada.id, first_name="Ada")
        with pytest.raises(PolicyDenied, match="erased"):
            crm.privacy.restrict(ada.id, reason="too late")


# -- the privacy check --------------------------------------------------------------------


@entity("careless.note")
@attrs.define(kw_only=True)
class Note(Entity):
    contact_id: str = field(ref="contact", privacy="personal", erase="delete")
    text: str = field()
    mood: str | None = field(default=None, privacy="sensitive")
    author: str | None = field(default=None, privacy="personal", erase="keep")


@entity("careless.lead")
@attrs.define(kw_only=True)
class Lead(Entity):
    name: str = field(privacy="personal", erase="anonymise")


class Careless:
    def crmkit_register_entity_types(self) -> Sequence[type]:
        return [Note, Lead]


def test_the_core_declares_every_field() -> None:
    with crmkit.open("memory://", plugins=[]) as crm:
        assert crm.privacy.check() == []


def test_the_check_names_each_undeclared_field() -> None:
    with crmkit.open(
        "memory://", plugins=["careless"], extra_plugins=[("careless", Careless())]
    ) as crm:
        problems = crm.privacy.check()
    found = [(p.entity, p.field, p.problem) for p in problems]
    assert found == [
        ("careless.lead", "name", found[0][2]),
        ("careless.note", "text", "no privacy class"),
        ("careless.note", "text", "no erasure strategy"),
        ("careless.note", "mood", "no erasure strategy"),
        ("careless.note", "author", "a personal value kept on erasure without a reason"),
    ]
    assert "no field linking it to a contact" in found[0][2]
    assert all(p.plugin == "careless" and p.fix for p in problems)
    assert str(problems[1]).startswith("careless.note.text (careless): no privacy class; declare")


def test_check_entity_types_takes_any_entity_types() -> None:
    with crmkit.open(
        "memory://", plugins=["careless"], extra_plugins=[("careless", Careless())]
    ) as crm:
        lead = crm.entity_type("careless.lead")
        contact = crm.entity_type("contact")
    [problem] = check_entity_types([contact, lead])
    assert isinstance(problem, PrivacyProblem)
    assert (problem.entity, problem.field, problem.plugin) == ("careless.lead", "name", "careless")
    assert problem.fix == 'add a field declared ref="contact", or declare the values privacy="none"'
