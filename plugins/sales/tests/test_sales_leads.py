"""Leads: capture, update, list, qualify (BANT), disqualify and convert."""

from __future__ import annotations

from typing import Any

import pytest
from crmkit_sales.deals import Deals
from crmkit_sales.leads import Leads

from crmkit import Event
from crmkit.crm import CRM
from crmkit.errors import NotFound, PolicyDenied, ValidationError


def count(crm: CRM, entity: str) -> int:
    with crm.backend.read() as reader:
        return reader.count(crm.entity_type(entity))


def capture(crm: CRM, pattern: str = "sales.lead.*") -> list[Event]:
    seen: list[Event] = []
    crm.events.subscribe(pattern, seen.append)
    return seen


# -- capture ------------------------------------------------------------------------


def test_a_lead_is_added_with_its_email_normalised_and_an_event(crm: CRM) -> None:
    events = capture(crm)
    lead = Leads(crm).add(
        first_name="Ada", email=" ADA@Example.COM ", phone="+44 20 7946 0958", company="Acme"
    )
    stored = Leads(crm).get(lead.id)
    assert (stored.email, stored.phone) == ("ada@example.com", "+442079460958")
    assert (stored.status, stored.source, stored.score) == ("new", "manual", 0)
    assert [e.name for e in events] == ["sales.lead.created"]
    assert events[0].payload == {
        "lead_id": lead.id,
        "source": "manual",
        "status": "new",
        "owner": None,
    }
    assert events[0].subject_id is None


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"email": "ada@", "first_name": "Ada"}, "email", "email"),
        ({"first_name": "Ada", "favourite_colour": "red"}, "favourite_colour", "no such field"),
        ({"first_name": "Ada", "score": 99}, "score", "computed"),
        ({"first_name": "Ada", "deal_id": "x"}, "deal_id", "converted"),
        ({"first_name": "Ada", "status": "converted"}, "status", "convert"),
        ({"first_name": "Ada", "status": "lukewarm"}, "status", "new, working"),
        ({"first_name": "Ada", "budget": "maybe"}, "budget", "true or false"),
        ({"source": "web"}, "email", "needs a first name, last name, email or company"),
    ],
)
def test_bad_lead_values_are_refused_naming_the_field(
    crm: CRM, fields: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        Leads(crm).add(**fields)
    assert raised.value.entity == "sales.lead"
    assert raised.value.field == field
    assert words in raised.value.reason
    assert count(crm, "sales.lead") == 0


def test_an_unknown_lead_is_not_found(crm: CRM) -> None:
    with pytest.raises(NotFound, match=r"sales\.lead 'nope' not found"):
        Leads(crm).get("nope")


def test_an_update_changes_fields_and_names_them_in_its_event(crm: CRM) -> None:
    lead = Leads(crm).add(first_name="Ada", company="Acme")
    events = capture(crm)
    changed = Leads(crm).update(lead.id, owner="alice", status="working", company="Acme")
    assert (changed.owner, changed.status) == ("alice", "working")
    assert Leads(crm).get(lead.id).owner == "alice"
    assert [e.payload["changed"] for e in events] == [["owner", "status"]]
    with pytest.raises(ValidationError, match="qualify"):
        Leads(crm).update(lead.id, status="qualified")


def test_leads_are_listed_by_filter_best_score_first(crm: CRM) -> None:
    leads = Leads(crm)
    low = leads.add(first_name="Low", source="web", owner="alice")
    high = leads.add(first_name="High", source="referral", owner="alice")
    other = leads.add(first_name="Other", source="referral", owner="bob")
    for lead in (low, high, other):
        leads.score(lead.id)
    assert [x.first_name for x in leads.list()] == ["High", "Other", "Low"]
    assert [x.first_name for x in leads.list(owner="alice")] == ["High", "Low"]
    assert [x.first_name for x in leads.list(source="web")] == ["Low"]
    assert [x.first_name for x in leads.list(min_score=20)] == ["High", "Other"]
    assert [x.first_name for x in leads.list(status="new", limit=1)] == ["High"]
    with pytest.raises(ValidationError, match="shoe_size"):
        leads.list(order_by=("shoe_size",))


# -- qualification -----------------------------------------------------------------------


def test_four_yes_answers_qualify_a_lead_whatever_its_score(crm: CRM) -> None:
    lead = Leads(crm).add(first_name="Ada", source="web")
    events = capture(crm)
    answered = Leads(crm).qualify(lead.id, budget=True, authority=True, need=True)
    assert (answered.status, answered.score) == ("working", 15)
    qualified = Leads(crm).qualify(lead.id, timeline=True)
    assert qualified.status == "qualified"
    assert (qualified.budget, qualified.authority, qualified.need, qualified.timeline) == (
        True,
        True,
        True,
        True,
    )
    [event] = [e for e in events if e.name == "sales.lead.qualified"]
    assert event.payload == {
        "lead_id": lead.id,
        "status": "qualified",
        "score": 15,
        "reason": "all four BANT answers are yes",
    }


def test_a_score_reaching_qualify_at_qualifies_a_lead(crm_factory: object, db: str) -> None:
    crm = crm_factory(  # type: ignore[operator]
        ["sales"], url=db, plugin_settings={"sales": {"scoring": {"qualify_at": 35}}}
    )
    lead = Leads(crm).add(first_name="Ada", source="referral")
    qualified = Leads(crm).qualify(lead.id, budget=True, need=False)
    assert (qualified.status, qualified.score, qualified.need) == ("qualified", 35, False)
    assert Leads(crm).get(lead.id).status == "qualified"


def test_a_lead_is_disqualified_with_its_reason(crm: CRM) -> None:
    lead = Leads(crm).add(first_name="Ada", notes="Met at the fair")
    events = capture(crm)
    with pytest.raises(ValidationError, match="say why"):
        Leads(crm).disqualify(lead.id, "  ")
    dropped = Leads(crm).disqualify(lead.id, "no budget this year")
    assert dropped.status == "unqualified"
    assert Leads(crm).get(lead.id).notes == "Met at the fair\nDisqualified: no budget this year"
    assert [(e.name, e.payload["status"], e.payload["reason"]) for e in events] == [
        ("sales.lead.qualified", "unqualified", "no budget this year")
    ]


# -- conversion ------------------------------------------------------------------------


def test_conversion_makes_contact_organization_and_deal_in_one_go(crm: CRM) -> None:
    lead = Leads(crm).add(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        company="Analytical Engines",
        title="CTO",
        owner="alice",
    )
    events = capture(crm, "sales.*")
    done = Leads(crm).convert(lead.id, amount="1200.50", stage="prospect")
    assert (done.contact.first_name, done.contact.email, done.contact.job_title) == (
        "Ada",
        "ada@example.com",
        "CTO",
    )
    assert done.organization is not None and done.organization.name == "Analytical Engines"
    [membership] = crm.contacts.organizations_of(done.contact.id)
    assert membership.organization.id == done.organization.id
    deal = Deals(crm).get(done.deal.id)
    assert (deal.title, deal.stage, deal.amount_minor, deal.owner) == (
        "Analytical Engines",
        "prospect",
        120050,
        "alice",
    )
    assert (deal.lead_id, deal.contact_id, deal.organization_id) == (
        lead.id,
        done.contact.id,
        done.organization.id,
    )
    stored = Leads(crm).get(lead.id)
    assert (stored.status, stored.contact_id, stored.organization_id, stored.deal_id) == (
        "converted",
        done.contact.id,
        done.organization.id,
        deal.id,
    )
    assert stored.converted_at is not None
    converted = [e for e in events if e.name == "sales.lead.converted"]
    assert [e.payload for e in converted] == [
        {
            "lead_id": lead.id,
            "contact_id": done.contact.id,
            "organization_id": done.organization.id,
            "deal_id": deal.id,
        }
    ]
    assert converted[0].subject_id == done.contact.id
    kinds = [i.kind for i in crm.interactions.timeline(done.contact.id)]
    assert "lead.converted" in kinds


def test_conversion_links_the_contact_and_organization_already_known(crm: CRM) -> None:
    org = crm.organizations.add(name="Acme Ltd")
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com", org=org.id, role="CTO")
    lead = Leads(crm).add(first_name="A.", email="Ada@Example.com", company="Acme Ltd")
    done = Leads(crm).convert(lead.id, deal_title="Engines", amount=0)
    assert done.contact.id == ada.id
    assert done.organization is not None and done.organization.id == org.id
    assert (count(crm, "contact"), count(crm, "organization"), count(crm, "affiliation")) == (
        1,
        1,
        1,
    )
    assert Deals(crm).get(done.deal.id).title == "Engines"


def test_a_lead_is_converted_only_once(crm: CRM) -> None:
    lead = Leads(crm).add(first_name="Ada", email="ada@example.com")
    first = Leads(crm).convert(lead.id)
    with pytest.raises(ValidationError) as raised:
        Leads(crm).convert(lead.id)
    assert raised.value.field == "status"
    assert lead.id in str(raised.value) and first.deal.id in str(raised.value)
    assert count(crm, "sales.deal") == 1
    with pytest.raises(ValidationError, match="converted into deal"):
        Leads(crm).qualify(lead.id, budget=True)


def test_a_failing_conversion_writes_nothing(crm: CRM) -> None:
    lead = Leads(crm).add(first_name="Ada", email="ada@example.com", company="Acme")
    before = [count(crm, e) for e in ("contact", "organization", "affiliation", "sales.deal")]
    with pytest.raises(ValidationError) as raised:
        Leads(crm).convert(lead.id, pipeline="enterprise")
    assert (raised.value.entity, raised.value.field) == ("sales.deal", "pipeline")
    after = [count(crm, e) for e in ("contact", "organization", "affiliation", "sales.deal")]
    assert before == after == [0, 0, 0, 0]
    stored = Leads(crm).get(lead.id)
    assert (stored.status, stored.contact_id, stored.deal_id) == ("new", None, None)


def test_conversion_for_a_restricted_person_is_refused(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    crm.privacy.restrict(ada.id, reason="disputes accuracy")
    lead = Leads(crm).add(first_name="Ada", email="ada@example.com", company="Acme")
    with pytest.raises(PolicyDenied):
        Leads(crm).convert(lead.id)
    assert (count(crm, "organization"), count(crm, "sales.deal")) == (0, 0)
    assert Leads(crm).get(lead.id).status == "new"


def test_a_lead_for_an_erased_person_is_refused(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    crm.privacy.erase(ada.id)
    with pytest.raises(ValidationError) as raised:
        Leads(crm).add(first_name="Ada", email="ada@example.com")
    assert raised.value.field == "email"
    assert "erased" in raised.value.reason
    assert count(crm, "sales.lead") == 0


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> str:
    """The database of tests that open their own CRM with other settings."""
    return str(request.param)
