"""The privacy policy: roles from crmkit.toml, the built-in rules, masking, denials audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.errors import ConfigError, PolicyDenied
from crmkit.privacy import Masked
from crmkit.privacy.entities import ConsentRecord, SubjectState
from crmkit.privacy.facts import consent_state

ROLES = {
    "actors": {"ann": ["agent"], "sam": ["analyst"], "dpo": ["admin"]},
    "default_roles": ["agent"],
}
SENSITIVE = {"contact": {"properties": {"diagnosis": {"type": "string", "x-privacy": "sensitive"}}}}


def _open(url: str = "memory://", **kwargs: object) -> CRM:
    return crmkit.open(url, plugins=[], privacy=ROLES, custom_fields=SENSITIVE, **kwargs)  # type: ignore[arg-type]


def _ledger(crm: CRM, contact_id: str, purpose: str, channel: str, status: str) -> None:
    etype = crm.entity_type("privacy.consent")
    with crm.unit_of_work() as uow:
        record = ConsentRecord(
            contact_id=contact_id, purpose=purpose, channel=channel, status=status
        )
        uow.tx.add(etype, etype.to_row(record))


def test_without_a_privacy_table_every_actor_may_do_everything() -> None:
    with crmkit.open("memory://", plugins=[]) as crm:
        actor = crm.privacy.actor("whoever")
        assert actor.role_names == ("admin",)
        assert all(actor.allows(a) for a in crmkit.privacy.ACTIONS)
        assert actor.sees("sensitive")


def test_roles_come_from_the_privacy_table() -> None:
    with _open() as crm:
        ann, sam, other = (crm.privacy.actor(n) for n in ("ann", "sam", "newcomer"))
        assert (ann.allows("contact"), ann.allows("erase"), ann.sees("sensitive")) == (
            True,
            False,
            False,
        )
        assert (sam.allows("write"), sam.sees("personal")) == (False, False)
        assert other.role_names == ("agent",)


@pytest.mark.parametrize(
    ("privacy", "message"),
    [
        ({"actors": {"ann": ["boss"]}}, "unknown role 'boss'"),
        ({"roles": {"clerk": {"actions": ["fly"]}}}, "unknown action 'fly'"),
        ({"roles": {"clerk": {"see": ["secret"]}}}, "unknown privacy class 'secret'"),
        ({"retention": {"interaction": "banana"}}, "retention.interaction"),
        ({"retention": {"parcels": 30}}, "parcels: not an entity type or purpose"),
        ({"secret": "short"}, "16+ characters"),
        ({"colour": "blue"}, "unknown key(s) colour"),
    ],
)
def test_a_broken_privacy_table_names_the_key(privacy: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        crmkit.open("memory://", plugins=[], privacy=privacy)
    assert message in str(caught.value)


def test_the_privacy_table_is_read_from_crmkit_toml(tmp_path: Path) -> None:
    (tmp_path / "crmkit.toml").write_text(
        '[crmkit]\ndatabase = "sqlite:///crm.db"\n\n'
        '[privacy.actors]\nann = ["analyst"]\n\n'
        '[privacy.retention]\ninteraction = "2y"\nmarketing = "26w"\n',
        encoding="utf-8",
    )
    with crmkit.open(tmp_path, actor="ann") as crm:
        assert crm.privacy.actor().role_names == ("analyst",)
        assert crm.privacy.settings.retention == {"interaction": 730, "marketing": 182}


def test_marketing_needs_an_opt_in_and_an_objection_always_wins() -> None:
    with _open(actor="dpo") as crm:
        ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
        assert not crm.privacy.may_contact(ada.id, "marketing", "email").allowed
        assert crm.privacy.may_contact(ada.id, "service", "email").allowed
        _ledger(crm, ada.id, "marketing", "email", "granted")
        assert crm.privacy.may_contact(ada.id, "marketing", "email").allowed
        assert not crm.privacy.may_contact(ada.id, "marketing", "sms").allowed
        _ledger(crm, ada.id, "service", "email", "withdrawn")
        refused = crm.privacy.may_contact(ada.id, "service", "email")
        assert (refused.allowed, refused.rule) == (False, "crmkit.consent")
        assert "withdrew consent for service on email" in refused.reason
        # An objection to the purpose on every channel outranks a channel's grant.
        _ledger(crm, ada.id, "marketing", "any", "withdrawn")
        assert not crm.privacy.may_contact(ada.id, "marketing", "email").allowed


def test_a_pending_double_opt_in_does_not_count_as_a_grant() -> None:
    rows = [
        {"purpose": "marketing", "channel": "email", "status": "granted"},
        {"purpose": "marketing", "channel": "email", "status": "withdrawn"},
        {"purpose": "marketing", "channel": "email", "status": "pending"},
    ]
    state = consent_state(rows)
    assert state[("marketing", "email")]["status"] == "withdrawn"


def _set_state(crm: CRM, contact_id: str, **values: object) -> None:
    etype = crm.entity_type("privacy.subject")
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(SubjectState(contact_id=contact_id, **values)))  # type: ignore[arg-type]


def test_restriction_stops_contact_and_analytics_but_not_reading() -> None:
    with _open(actor="dpo") as crm:
        ada = crm.contacts.add(first_name="Ada")
        _set_state(crm, ada.id, restricted=True, restricted_reason="accuracy contested")
        contact = crm.privacy.may_contact(ada.id, "service", "email")
        assert (contact.allowed, contact.rule) == (False, "crmkit.restriction")
        assert "accuracy contested" in contact.reason and "--lift" in contact.reason
        assert not crm.privacy.decide("analytics", subject_id=ada.id, purpose="analytics").allowed
        assert crm.privacy.decide("read", subject_id=ada.id).allowed
        assert crm.privacy.decide("rectify", subject_id=ada.id).allowed


def test_an_erased_person_is_never_contacted_again() -> None:
    with _open(actor="dpo") as crm:
        ada = crm.contacts.add(first_name="Ada")
        _ledger(crm, ada.id, "marketing", "email", "granted")
        _set_state(crm, ada.id, erased_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
        decision = crm.privacy.may_contact(ada.id, "marketing", "email")
        assert (decision.allowed, decision.rule) == (False, "crmkit.erasure")
        assert "erased on 2026-11-01" in decision.reason


def test_masking_hides_what_the_role_may_not_see_and_says_so() -> None:
    with _open(actor="dpo") as crm:
        ada = crm.contacts.add(first_name="Ada", custom={"diagnosis": "asthma"})
        etype = crm.entity_type("contact")
        row = etype.to_row(ada)
        for_ann, masked = crm.privacy.mask(etype, row, "ann")
        assert masked == ("custom.diagnosis",)
        assert for_ann["first_name"] == "Ada"
        hidden = for_ann["custom"]["diagnosis"]
        assert isinstance(hidden, Masked) and hidden == "[masked: sensitive]"
        for_sam, masked = crm.privacy.mask(etype, row, "sam")
        assert "first_name" in masked and "custom" in masked
        assert for_sam["custom"] == "[masked: personal]"
        assert for_sam["id"] == ada.id  # privacy class "none" is always shown
        assert crm.privacy.mask(etype, row, "dpo") == (row, ())


def test_a_denial_is_raised_with_its_reason_and_audited() -> None:
    with _open(actor="dpo") as crm:
        ada = crm.contacts.add(first_name="Ada")
        with pytest.raises(PolicyDenied) as caught:
            crm.privacy.require("erase", actor="ann", subject_id=ada.id)
        assert "actor 'ann' (roles: agent) may not erase" in str(caught.value)
        assert caught.value.__class__.exit_code == 7
        with pytest.raises(PolicyDenied), crm.unit_of_work("ann") as uow:
            # The denied work is rolled back; the denial is still audited.
            crm.privacy.require("export", actor="ann", subject_id=ada.id, uow=uow)
        with crm.backend.read() as reader:
            from crmkit.privacy.audit import entries

            denied = [
                e for e in entries(reader, crm.privacy.audit_type) if e["outcome"] == "denied"
            ]
        assert [(e["actor"], e["action"], e["subject_id"]) for e in denied] == [
            ("ann", "erase", ada.id),
            ("ann", "export", ada.id),
        ]
        assert crm.privacy.verify_audit().ok


def test_the_audit_chain_holds_on_every_backend(any_url: str) -> None:
    with crmkit.open(any_url, plugins=[]) as crm:
        crm.privacy.write_audit(
            [{"actor": "dpo", "action": "privacy.export", "subject_id": None} for _ in range(3)]
        )
        report = crm.privacy.verify_audit()
        assert (report.ok, report.checked) == (True, 3)
