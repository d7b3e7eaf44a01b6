"""The privacy policy in the data path: masked reads, refused writes, suppression, analytics."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.entities.core import Contact
from crmkit.errors import ImportFailed, PolicyDenied, ValidationError
from crmkit.io.exporter import export_contacts
from crmkit.io.importer import import_contacts
from crmkit.io.prepare import RowBuilder
from crmkit.privacy import Decision, Masked, PolicyRequest, SubjectFacts, audit
from crmkit.privacy.entities import ConsentRecord, SubjectState
from crmkit.privacy.keys import suppression_key
from crmkit.privacy.processing import allowed_for, decisions_for
from crmkit.privacy.suppression import suppress

CUSTOM = {
    "contact": {
        "properties": {
            "diagnosis": {"type": "string", "x-privacy": "sensitive"},
            "tier": {"type": "string"},
            "segment": {"type": "string", "x-privacy": "none"},
        }
    }
}
PRIVACY = {
    "actors": {"ann": ["agent"], "al": ["analyst"], "max": ["mailer"], "cleo": ["clerk"]},
    "roles": {
        "mailer": {"actions": ["contact"], "see": ["personal"]},
        "clerk": {"actions": ["read", "export"], "see": ["personal"]},
    },
}


@pytest.fixture
def crm(any_url: str) -> Iterator[CRM]:
    """A CRM whose contacts have a sensitive custom field; ann is an agent, al an analyst."""
    with crmkit.open(any_url, plugins=[], custom_fields=CUSTOM, privacy=PRIVACY) as opened:
        yield opened


def add_ada(crm: CRM, **extra: Any) -> Contact:
    return crm.contacts.add(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="+442079460958",
        owner="dana",
        custom={"diagnosis": "asthma", "tier": "gold", "segment": "retail"},
        **extra,
    )


def audit_log(crm: CRM) -> list[dict[str, Any]]:
    with crm.backend.read() as reader:
        return list(audit.entries(reader, crm.privacy.audit_type))


def set_state(crm: CRM, contact_id: str, **state: Any) -> None:
    """Give a contact a processing state (restricted, erased) as the privacy rights do."""
    etype = crm.entity_type("privacy.subject")
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(SubjectState(contact_id=contact_id, **state)))


def suppress_values(crm: CRM, **values: str) -> None:
    """Leave suppression markers for an email and/or phone, as an erasure does."""
    with crm.unit_of_work() as uow:
        secret = crm.privacy.secret(uow.tx)
        pairs = [(kind, suppression_key(secret, kind, value)) for kind, value in values.items()]
        suppress(uow.tx, crm.entity_type("privacy.suppression"), pairs, "erased")


def withdraw(crm: CRM, contact_id: str, purpose: str, channel: str = "any") -> None:
    etype = crm.entity_type("privacy.consent")
    entry = ConsentRecord(
        contact_id=contact_id, purpose=purpose, channel=channel, status="withdrawn"
    )
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(entry))


# -- reads ---------------------------------------------------------------------------------


def test_an_agent_sees_sensitive_custom_fields_masked_everywhere(crm: CRM) -> None:
    ada = add_ada(crm)
    crm.actor = "ann"
    reads = [
        crm.contacts.get(ada.id),
        crm.contacts.find("ada@example.com"),
        *crm.contacts.list(),
        *crm.contacts.search("Lovelace"),
        crm.view(ada.id).contact,
    ]
    for seen in reads:
        assert seen is not None
        assert seen.custom == {
            "diagnosis": "[masked: sensitive]",
            "tier": "gold",
            "segment": "retail",
        }
        assert isinstance(seen.custom["diagnosis"], Masked)
        assert seen.email == "ada@example.com" and seen.first_name == "Ada"
    view = crm.view(ada.id)
    assert view.masked == ("custom.diagnosis",)
    assert json.loads(json.dumps(view.as_dict()))["masked"] == ["custom.diagnosis"]
    assert [e["action"] for e in audit_log(crm)] == []


def test_an_admin_sees_sensitive_values_and_each_read_is_audited_once(crm: CRM) -> None:
    ada = add_ada(crm)
    crm.contacts.add(first_name="Bob", custom={"tier": "silver"})
    assert crm.contacts.get(ada.id).custom["diagnosis"] == "asthma"
    assert crm.view(ada.id).masked == ()
    assert len(crm.contacts.list()) == 2

    entries = audit_log(crm)
    assert [(e["action"], e["actor"], e["subject_id"]) for e in entries] == [
        ("read.sensitive", "system", ada.id),
        ("read.sensitive", "system", ada.id),
        ("read.sensitive", "system", None),
    ]
    assert entries[-1]["details"] == {"fields": ["custom.diagnosis"], "contacts": 1}
    assert crm.privacy.verify_audit().ok


def test_reads_without_sensitive_values_cost_no_audit_entry(crm: CRM) -> None:
    bob = crm.contacts.add(first_name="Bob", custom={"tier": "silver"})
    crm.contacts.get(bob.id)
    crm.contacts.list()
    crm.view(bob.id)
    assert audit_log(crm) == []


def test_an_analyst_sees_personal_fields_masked_and_records_keep_their_shape(crm: CRM) -> None:
    org = crm.organizations.add(name="Analytical Engines")
    ada = add_ada(crm, org=org.id, role="CTO")
    crm.interactions.log(ada.id, channel="email", summary="Asked about her inhaler")
    crm.actor = "al"

    seen = crm.contacts.get(ada.id)
    assert seen.first_name == "[masked: personal]" and seen.email == "[masked: personal]"
    assert seen.owner == "dana" and seen.id == ada.id
    assert seen.custom == {
        "diagnosis": "[masked: sensitive]",
        "tier": "[masked: personal]",
        "segment": "retail",
    }
    assert seen.last_name is not None and isinstance(seen.last_name, Masked)

    view = crm.view(ada.id)
    assert {"first_name", "email", "custom.diagnosis", "custom.tier"} <= set(view.masked)
    assert "custom.segment" not in view.masked
    assert "interactions.summary" in view.masked and "organizations.role" in view.masked
    assert view.interactions[0].summary == "[masked: personal]"
    assert view.organizations[0].organization.name == "Analytical Engines"
    assert crm.interactions.timeline(ada.id)[0].summary == "[masked: personal]"
    [(member, role)] = crm.organizations.members(org.id)
    assert member.email == "[masked: personal]" and role == "[masked: personal]"
    assert [m.role for m in crm.contacts.organizations_of(ada.id)] == ["[masked: personal]"]


def test_an_actor_whose_roles_do_not_allow_reading_is_refused(crm: CRM) -> None:
    ada = add_ada(crm)
    crm.actor = "max"
    for read in (
        lambda: crm.contacts.get(ada.id),
        lambda: crm.contacts.list(),
        lambda: crm.view(ada.id),
        lambda: crm.interactions.timeline(ada.id),
    ):
        with pytest.raises(PolicyDenied) as denied:
            read()
        assert "may not read" in str(denied.value)
    denials = [e for e in audit_log(crm) if e["outcome"] == "denied"]
    assert len(denials) == 4 and {e["actor"] for e in denials} == {"max"}


def test_a_plugin_rule_can_mask_more_than_the_roles_do(any_url: str) -> None:
    class HidePhones:
        def crmkit_privacy_rules(self) -> Sequence[Any]:
            def rule(request: PolicyRequest, facts: SubjectFacts) -> Decision | None:
                if request.action == "read" and request.entity == "contact":
                    return Decision(True, "phones are for the desk only", masked=("phone",))
                return None

            return [rule]

    with crmkit.open(
        any_url, plugins=["hide"], extra_plugins=[("hide", HidePhones())], custom_fields=CUSTOM
    ) as crm:
        ada = add_ada(crm)
        seen = crm.contacts.get(ada.id)
        assert seen.phone == "[masked: personal]" and seen.email == "ada@example.com"
        assert crm.view(ada.id).masked == ("phone",)


# -- writes --------------------------------------------------------------------------------


def test_a_restricted_contact_cannot_be_changed_but_can_be_rectified(crm: CRM) -> None:
    org = crm.organizations.add(name="Analytical Engines")
    ada = add_ada(crm)
    set_state(crm, ada.id, restricted=True, restricted_reason="disputes accuracy")
    events_before = len(crm.events.read())

    for write in (
        lambda: crm.contacts.update(ada.id, city="London"),
        lambda: crm.interactions.log(ada.id, channel="email", summary="Newsletter"),
        lambda: crm.contacts.link(ada.id, org.id, role="CTO"),
        lambda: crm.contacts.unlink(ada.id, org.id),
        lambda: crm.contacts.delete(ada.id),
    ):
        with pytest.raises(PolicyDenied) as denied:
            write()
        message = str(denied.value)
        assert ada.id in message and "restricted (disputes accuracy)" in message
        assert f"crmkit privacy restrict {ada.id} --lift" in message
        assert denied.value.rule == "crmkit.restriction"

    assert crm.contacts.get(ada.id).city is None
    assert crm.interactions.timeline(ada.id) == []
    assert crm.organizations.members(org.id) == []
    assert len(crm.events.read()) == events_before
    assert [e["action"] for e in audit_log(crm) if e["outcome"] == "denied"] == ["write"] * 5

    fixed = crm.contacts.rectify(ada.id, last_name="King")
    assert fixed.last_name == "King" and crm.contacts.get(ada.id).last_name == "King"
    with crm.unit_of_work() as uow:
        assert uow.contacts.rectify("ada@example.com", city="London").city == "London"


def test_an_erased_contact_cannot_be_written_to(crm: CRM) -> None:
    import datetime as dt

    ada = add_ada(crm)
    set_state(crm, ada.id, erased_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    with pytest.raises(PolicyDenied, match=f"contact {ada.id} was erased on 2024-05-01"):
        crm.interactions.log(ada.id, channel="phone")
    with pytest.raises(PolicyDenied, match="was erased"):
        crm.contacts.rectify(ada.id, first_name="Ada")
    assert crm.interactions.timeline(ada.id) == []


def test_writes_need_a_role_that_allows_them(crm: CRM) -> None:
    ada = add_ada(crm)
    crm.actor = "al"
    with pytest.raises(PolicyDenied, match="actor 'al' \\(roles: analyst\\) may not write"):
        crm.contacts.add(first_name="Bob")
    with pytest.raises(PolicyDenied, match="may not write"):
        crm.contacts.add_many([{"first_name": "Bob"}, {"first_name": "Eve"}])
    with pytest.raises(PolicyDenied, match="may not write"):
        crm.contacts.update(ada.id, city="Paris")
    with pytest.raises(PolicyDenied, match="may not write"):
        crm.organizations.add(name="Acme")
    with pytest.raises(PolicyDenied, match="may not write"):
        import_contacts(crm, io.BytesIO(b"first_name\nBob\n"), format="csv")
    crm.actor = None
    assert [c.first_name for c in crm.contacts.list()] == ["Ada"]
    assert crm.organizations.list() == []


def test_an_agent_changing_a_contact_gets_it_back_masked(crm: CRM) -> None:
    ada = add_ada(crm)
    crm.actor = "ann"
    changed = crm.contacts.update(ada.id, city="London")
    assert changed.city == "London" and changed.custom["diagnosis"] == "[masked: sensitive]"
    crm.actor = None
    assert crm.contacts.get(ada.id).custom["diagnosis"] == "asthma"


def test_masked_values_cannot_be_written_back(crm: CRM) -> None:
    ada = add_ada(crm)
    crm.actor = "ann"
    seen = crm.contacts.get(ada.id)
    with pytest.raises(ValidationError) as refused:
        crm.contacts.update(ada.id, custom=seen.custom, city="London")
    assert refused.value.field == "custom.diagnosis"
    assert "this value is masked for you; it cannot be written back" in str(refused.value)

    crm.actor = "al"
    hidden = crm.contacts.get(ada.id)
    crm.actor = None
    with pytest.raises(ValidationError, match="field 'email': this value is masked for you"):
        crm.contacts.update(ada.id, email=hidden.email)
    with pytest.raises(ValidationError, match="#2: field 'first_name': this value is masked"):
        crm.contacts.add_many([{"first_name": "Bob"}, {"first_name": hidden.first_name}])
    assert crm.contacts.get(ada.id).custom["diagnosis"] == "asthma"
    assert crm.contacts.get(ada.id).city is None
    assert crm.contacts.count() == 1


def test_the_import_row_builder_refuses_masked_values_as_clean_does(crm: CRM) -> None:
    rules = crm.rules("contact")
    values = {"first_name": "Ada", "tags": Masked("tags", "personal")}
    with pytest.raises(ValidationError) as by_rules:
        rules.clean(values)
    with pytest.raises(ValidationError) as by_builder:
        RowBuilder(rules).clean(values)
    assert str(by_rules.value) == str(by_builder.value)


# -- suppression ---------------------------------------------------------------------------


def test_an_erased_persons_email_or_phone_is_refused_until_consent_is_given(crm: CRM) -> None:
    suppress_values(crm, email="ada@example.com", phone="+442079460958")
    with pytest.raises(ValidationError) as refused:
        crm.contacts.add(first_name="Ada", email="ADA@example.com")
    assert refused.value.field == "email"
    assert "belongs to a person who was erased" in str(refused.value)
    assert "--consent PURPOSE:CHANNEL --evidence TEXT" in str(refused.value)
    with pytest.raises(ValidationError) as by_phone:
        crm.contacts.add(first_name="Ada", phone="+44 20 7946 0958")
    assert by_phone.value.field == "phone"
    assert crm.contacts.count() == 0

    ada = crm.contacts.add(
        first_name="Ada",
        email="ada@example.com",
        consent={"purpose": "marketing", "channel": "email", "evidence": "signup form v3"},
    )
    decision = crm.privacy.decide(
        "contact", subject_id=ada.id, purpose="marketing", channel="email"
    )
    assert decision.allowed
    assert not crm.privacy.is_suppressed(email="ada@example.com")
    with pytest.raises(ValidationError, match="field 'channel'"):
        crm.contacts.add(first_name="Bob", consent={"purpose": "marketing"})


def test_add_many_refuses_a_suppressed_row_and_writes_nothing(crm: CRM) -> None:
    suppress_values(crm, email="eve@example.com")
    records = [{"first_name": "Ada"}, {"email": "bob@example.com"}, {"email": "EVE@example.com"}]
    with pytest.raises(ValidationError) as refused:
        crm.contacts.add_many(records)
    assert "#3: field 'email': eve@example.com belongs to a person who was erased" in str(
        refused.value
    )
    assert crm.contacts.count() == 0
    assert len(crm.contacts.add_many(records[:2])) == 2


def test_an_import_with_a_suppressed_row_is_all_or_nothing(crm: CRM, tmp_path: Path) -> None:
    suppress_values(crm, phone="+442079460958")
    source = tmp_path / "people.csv"
    source.write_text(
        "first_name,email,phone\nAda,ada@example.com,+44 20 7946 0958\nBob,bob@example.com,\n"
    )
    with pytest.raises(ImportFailed) as refused:
        import_contacts(crm, source)
    assert "line 2: phone: +442079460958 belongs to a person who was erased" in str(refused.value)
    assert crm.contacts.count() == 0

    report = import_contacts(crm, source, skip_invalid=True)
    assert (report.imported, report.rejected) == (1, 1)
    assert [(p.line, p.field) for p in report.problems] == [(2, "phone")]
    assert report.rejects_path is not None
    assert "belongs to a person who was erased" in report.rejects_path.read_text()
    assert [c.first_name for c in crm.contacts.list()] == ["Bob"]


# -- export ----------------------------------------------------------------------------------


def test_an_export_is_masked_for_the_actor_and_audited(crm: CRM) -> None:
    add_ada(crm)
    out = io.StringIO()
    assert export_contacts(crm, out, format="jsonl", actor="cleo") == 1
    assert json.loads(out.getvalue())["custom"]["diagnosis"] == "[masked: sensitive]"

    out = io.StringIO()
    export_contacts(crm, out, format="csv")
    assert "asthma" in out.getvalue()
    entries = [(e["actor"], e["action"]) for e in audit_log(crm)]
    assert entries == [
        ("cleo", "export.records"),
        ("system", "export.records"),
        ("system", "read.sensitive"),
    ]
    assert audit_log(crm)[0]["details"]["masked"] == ["custom.diagnosis"]


def test_an_analyst_may_not_export(crm: CRM) -> None:
    add_ada(crm)
    out = io.StringIO()
    with pytest.raises(PolicyDenied, match="may not export"):
        export_contacts(crm, out, actor="al")
    assert out.getvalue() == ""


# -- many people at once --------------------------------------------------------------------


def test_allowed_for_keeps_only_the_people_the_policy_allows(crm: CRM) -> None:
    import datetime as dt

    ids = {
        name: crm.contacts.add(first_name=name).id
        for name in ("plain", "restricted", "erased", "objected", "granted")
    }
    set_state(crm, ids["restricted"], restricted=True)
    set_state(crm, ids["erased"], erased_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    withdraw(crm, ids["objected"], "analytics")
    crm.privacy.consent.grant(ids["granted"], purpose="marketing", channel="email")

    everyone = list(ids.values())
    assert allowed_for(crm, "analytics", everyone, actor="al") == {
        ids["plain"],
        ids["granted"],
    }
    assert allowed_for(crm, "contact", everyone, purpose="marketing", channel="email") == {
        ids["granted"]
    }
    assert allowed_for(crm, "analytics", everyone, actor="ann") == set()
    with crm.backend.read() as reader:
        assert allowed_for(crm, "analytics", everyone[:1], reader=reader) == {ids["plain"]}


class NoMinors:
    """A plugin rule: the people in ``minors`` are not written to."""

    def __init__(self) -> None:
        self.minors: set[str] = set()

    def crmkit_privacy_rules(self) -> Sequence[Any]:
        def rule(request: PolicyRequest, facts: SubjectFacts) -> Decision | None:
            if request.action == "contact" and request.subject_id in self.minors:
                return Decision.deny("under 18", rule="no-minors")
            return None

        return [rule]


def test_decisions_for_says_why_each_person_is_left_out(any_url: str) -> None:
    import datetime as dt

    rule = NoMinors()
    with crmkit.open(
        any_url, plugins=["minors"], extra_plugins=[("minors", rule)], privacy=PRIVACY
    ) as crm:
        ids = {
            name: crm.contacts.add(first_name=name).id
            for name in ("granted", "silent", "restricted", "erased", "objected", "minor")
        }
        rule.minors = {ids["minor"]}
        for name in ("granted", "restricted", "erased", "minor"):
            crm.privacy.consent.grant(ids[name], purpose="marketing", channel="email")
        withdraw(crm, ids["objected"], "marketing", "email")
        set_state(crm, ids["restricted"], restricted=True)
        set_state(crm, ids["erased"], erased_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))

        everyone = [*ids.values(), ids["granted"]]  # a repeated id is decided once
        decisions = decisions_for(crm, "contact", everyone, purpose="marketing", channel="email")
        by_name = {name: decisions[contact_id] for name, contact_id in ids.items()}
        assert {name: (d.allowed, d.rule) for name, d in by_name.items()} == {
            "granted": (True, "crmkit"),
            "silent": (False, "crmkit.consent"),
            "restricted": (False, "crmkit.restriction"),
            "erased": (False, "crmkit.erasure"),
            "objected": (False, "crmkit.consent"),
            "minor": (False, "no-minors"),
        }
        assert by_name["minor"].reason == "under 18"
        assert ids["erased"] in by_name["erased"].reason
        assert allowed_for(
            crm, "contact", everyone, purpose="marketing", channel="email"
        ) == {ids["granted"]}

        # An actor whose roles do not allow the action: the same refusal for everyone.
        refused = decisions_for(crm, "contact", everyone, actor="al", purpose="marketing",
                                channel="email")
        assert set(refused) == set(ids.values())
        assert {(d.allowed, d.rule) for d in refused.values()} == {(False, "crmkit.roles")}
        assert "'al'" in next(iter(refused.values())).reason
        assert decisions_for(crm, "contact", [], purpose="marketing", channel="email") == {}
