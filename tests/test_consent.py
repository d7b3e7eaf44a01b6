"""The consent ledger: state from the ledger, double opt-in, refusals that write nothing, audit."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.errors import NotFound, PolicyDenied, ValidationError
from crmkit.privacy import audit, suppression
from crmkit.privacy.entities import SubjectState
from crmkit.privacy.tokens import make_token

T0 = dt.datetime(2030, 3, 1, 9, 0, tzinfo=dt.UTC)


def ledger_size(crm: CRM) -> int:
    with crm.backend.read() as reader:
        return reader.count(crm.entity_type("privacy.consent"))


def audit_rows(crm: CRM) -> list[dict[str, Any]]:
    with crm.backend.read() as reader:
        return list(audit.entries(reader, crm.entity_type("privacy.audit")))


def add_ada(crm: CRM) -> str:
    return crm.contacts.add(first_name="Ada", email="ada@example.com", phone="+442079460958").id


@pytest.fixture
def ada(crm: CRM) -> str:
    return add_ada(crm)


@pytest.fixture
def sql_crm(sql_url: str) -> Iterator[CRM]:
    with crmkit.open(sql_url, plugins=[], privacy={"confirm_within_hours": 2}) as opened:
        yield opened


# -- state and history ------------------------------------------------------------


def test_state_follows_the_latest_grant_or_withdrawal(crm: CRM, ada: str) -> None:
    ledger = crm.privacy.consent
    ledger.grant(ada, purpose="marketing", channel="email", source="web-form")
    ledger.grant("ada@example.com", purpose="service", channel="sms", lawful_basis="contract")
    withdrawal = ledger.withdraw(ada, purpose="marketing", channel="email", source="unsubscribe")

    states = {(s.purpose, s.channel): s for s in ledger.state(ada)}
    assert set(states) == {("marketing", "email"), ("service", "sms")}
    marketing = states[("marketing", "email")]
    assert (marketing.status, marketing.source, marketing.record_id) == (
        "withdrawn",
        "unsubscribe",
        withdrawal.id,
    )
    assert marketing.since == withdrawal.created_at
    assert (states[("service", "sms")].status, states[("service", "sms")].lawful_basis) == (
        "granted",
        "contract",
    )


def test_withdrawal_on_any_channel_outranks_a_channel_grant(crm: CRM, ada: str) -> None:
    ledger = crm.privacy.consent
    ledger.grant(ada, purpose="marketing", channel="email")
    ledger.grant(ada, purpose="marketing", channel="sms")
    ledger.withdraw(ada, purpose="marketing", channel="any")
    ledger.grant(ada, purpose="marketing", channel="email")  # later, yet outranked

    states = {s.channel: s for s in ledger.state(ada)}
    assert [s.channel for s in ledger.state(ada)] == ["any", "email", "sms"]
    assert {c: s.status for c, s in states.items()} == {
        "any": "withdrawn",
        "email": "withdrawn",
        "sms": "withdrawn",
    }
    assert states["email"].decided_on == "any"
    assert not crm.privacy.may_contact(ada, "marketing", "email").allowed
    assert not crm.privacy.may_contact(ada, "marketing", "post").allowed

    ledger.grant(ada, purpose="marketing", channel="any")
    assert crm.privacy.may_contact(ada, "marketing", "email").allowed
    assert {s.channel: s.status for s in ledger.state(ada)}["email"] == "granted"


def test_history_is_oldest_first_and_filters(crm: CRM, ada: str) -> None:
    ledger = crm.privacy.consent
    first = ledger.grant(ada, purpose="marketing", channel="email", evidence="form v1")
    second = ledger.grant(ada, purpose="sales", channel="phone")
    third = ledger.withdraw(ada, purpose="marketing", channel="email")

    assert [e.id for e in ledger.history(ada)] == [first.id, second.id, third.id]
    assert [e.status for e in ledger.history(ada, purpose="marketing")] == [
        "granted",
        "withdrawn",
    ]
    assert [e.id for e in ledger.history(ada, channel="phone")] == [second.id]
    assert ledger.history(ada, purpose="marketing", channel="sms") == []
    assert ledger.history(ada)[0].evidence == "form v1"


def test_history_masks_personal_values_for_roles_that_may_not_see_them(sql_url: str) -> None:
    privacy = {"actors": {"ann": ["analyst"]}}
    with crmkit.open(sql_url, plugins=[], privacy=privacy) as crm:
        ada = add_ada(crm)
        crm.privacy.consent.grant(
            ada, purpose="marketing", channel="email", evidence="ticked box", ip_address="1.2.3.4"
        )
        seen = crm.privacy.consent.history(ada, actor="ann")[0]
        assert "ticked box" not in (seen.evidence, seen.ip_address)
        assert seen.evidence == "[masked: personal]"
        assert crm.privacy.consent.history(ada)[0].evidence == "ticked box"


def test_may_contact_follows_the_ledger(crm: CRM, ada: str) -> None:
    before = crm.privacy.may_contact(ada, "marketing", "email")
    assert not before.allowed and "no opt-in" in before.reason

    crm.privacy.consent.grant(ada, purpose="marketing", channel="email")
    assert crm.privacy.may_contact(ada, "marketing", "email").allowed
    assert not crm.privacy.may_contact(ada, "marketing", "sms").allowed

    crm.privacy.consent.withdraw(ada, purpose="marketing", channel="email")
    after = crm.privacy.may_contact(ada, "marketing", "email")
    assert not after.allowed and "withdrew" in after.reason


# -- refusals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        (
            {"purpose": "spam", "channel": "email"},
            ValidationError,
            ["unknown purpose 'spam'", "marketing", "service"],
        ),
        (
            {"purpose": "marketing", "channel": "pigeon"},
            ValidationError,
            ["unknown channel 'pigeon'", "email", "any"],
        ),
        (
            {"purpose": "marketing", "channel": "email", "lawful_basis": "because"},
            ValidationError,
            ["unknown lawful basis 'because'", "legitimate_interests", "vital_interests"],
        ),
        (
            {"contact": "nobody@example.com", "purpose": "marketing", "channel": "email"},
            NotFound,
            ["nobody@example.com"],
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    sql_crm: CRM, change: dict[str, Any], error: type[Exception], words: list[str]
) -> None:
    ada = add_ada(sql_crm)
    before = (ledger_size(sql_crm), len(audit_rows(sql_crm)), len(sql_crm.events.read()))
    change = dict(change)
    contact = change.pop("contact", ada)
    with pytest.raises(error) as raised:
        sql_crm.privacy.consent.grant(contact, **change)
    for word in words:
        assert word in str(raised.value)
    if "lawful_basis" not in change:
        with pytest.raises(error):
            sql_crm.privacy.consent.withdraw(contact, **change)
        with pytest.raises(error):
            sql_crm.privacy.consent.request(contact, **change)
    after = (ledger_size(sql_crm), len(audit_rows(sql_crm)), len(sql_crm.events.read()))
    assert after == before


def test_actor_whose_roles_lack_consent_is_refused_and_audited(sql_url: str) -> None:
    privacy = {"actors": {"bob": ["analyst"]}}
    with crmkit.open(sql_url, plugins=[], privacy=privacy) as crm:
        ada = add_ada(crm)
        with pytest.raises(PolicyDenied, match=r"'bob'.*may not consent"):
            crm.privacy.consent.grant(ada, purpose="marketing", channel="email", actor="bob")
        with (
            crmkit.open(sql_url, plugins=[], privacy=privacy, actor="bob") as as_bob,
            pytest.raises(PolicyDenied),
        ):
            as_bob.privacy.consent.withdraw(ada, purpose="marketing", channel="email")
        assert ledger_size(crm) == 0
        denial = audit_rows(crm)[-1]
        assert (denial["actor"], denial["action"], denial["outcome"]) == (
            "bob",
            "consent",
            "denied",
        )
        assert denial["subject_id"] == ada


def test_an_erased_contact_gets_no_new_consent(crm: CRM, ada: str) -> None:
    stype = crm.entity_type("privacy.subject")
    with crm.backend.begin() as tx:
        tx.add(stype, stype.to_row(SubjectState(contact_id=ada, erased_at=T0)))
    with pytest.raises(PolicyDenied, match="erased"):
        crm.privacy.consent.grant(ada, purpose="service", channel="email")
    assert ledger_size(crm) == 0


# -- double opt-in -----------------------------------------------------------------


def test_double_opt_in_grants_once_confirmed(sql_crm: CRM) -> None:
    ada = add_ada(sql_crm)
    ledger = sql_crm.privacy.consent
    pending, token = ledger.request(
        ada, purpose="marketing", channel="email", ip_address="10.0.0.1", form_version="v3", now=T0
    )
    assert pending.status == "pending"
    assert pending.expires_at == T0 + dt.timedelta(hours=2)
    assert ada not in token and "ada@example.com" not in token
    assert not sql_crm.privacy.may_contact(ada, "marketing", "email").allowed
    assert ledger.state(ada) == []

    granted = ledger.confirm(token, now=T0 + dt.timedelta(hours=1, minutes=59))
    assert (granted.status, granted.confirms, granted.form_version) == ("granted", pending.id, "v3")
    assert granted.ip_address == "10.0.0.1"
    assert sql_crm.privacy.may_contact(ada, "marketing", "email").allowed
    assert [e.status for e in ledger.history(ada)] == ["pending", "granted"]
    names = [e.name for e in sql_crm.events.read() if e.name.startswith("consent.")]
    assert names == ["consent.requested", "consent.granted"]


def _forged(crm: CRM, token: str) -> str:
    _, pending_id, expires, _ = token.split(".")
    when = dt.datetime.fromtimestamp(int(expires), dt.UTC)
    return make_token(b"another crm's secret", pending_id, when)


def _extended(crm: CRM, token: str) -> str:
    parts = token.split(".")
    parts[2] = str(int(parts[2]) + 86400)
    return ".".join(parts)


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (_forged, "signature does not match"),
        (_extended, "signature does not match"),
        (lambda crm, token: token[:-3], "malformed"),
        (lambda crm, token: "not a token", "malformed"),
        (lambda crm, token: token.replace("c1.", "c2.", 1), "malformed"),
        (lambda crm, token: "", "malformed"),
    ],
    ids=["forged", "expiry-changed", "cut-short", "garbage", "other-version", "empty"],
)
def test_bad_tokens_are_refused_and_write_nothing(
    sql_crm: CRM, spoil: Callable[[CRM, str], str], words: str
) -> None:
    ada = add_ada(sql_crm)
    _, token = sql_crm.privacy.consent.request(ada, purpose="marketing", channel="email", now=T0)
    before = (ledger_size(sql_crm), len(audit_rows(sql_crm)))
    with pytest.raises(ValidationError) as raised:
        sql_crm.privacy.consent.confirm(spoil(sql_crm, token), now=T0)
    assert (raised.value.entity, raised.value.field) == ("privacy.consent", "token")
    assert words in str(raised.value)
    assert (ledger_size(sql_crm), len(audit_rows(sql_crm))) == before
    assert not sql_crm.privacy.may_contact(ada, "marketing", "email").allowed


def test_an_expired_token_is_refused(sql_crm: CRM) -> None:
    ada = add_ada(sql_crm)
    _, token = sql_crm.privacy.consent.request(ada, purpose="marketing", channel="sms", now=T0)
    before = ledger_size(sql_crm)
    with pytest.raises(ValidationError, match="expired at 2030-03-01 11:00 UTC") as raised:
        sql_crm.privacy.consent.confirm(token, now=T0 + dt.timedelta(hours=2))
    assert raised.value.field == "token"
    assert ledger_size(sql_crm) == before


def test_a_token_confirms_only_once(sql_crm: CRM) -> None:
    ada = add_ada(sql_crm)
    _, token = sql_crm.privacy.consent.request(ada, purpose="marketing", channel="email", now=T0)
    first = sql_crm.privacy.consent.confirm(token, now=T0)
    sql_crm.privacy.consent.withdraw(ada, purpose="marketing", channel="email")
    before = ledger_size(sql_crm)
    with pytest.raises(ValidationError, match="already used") as raised:
        sql_crm.privacy.consent.confirm(token, now=T0)
    assert raised.value.field == "token" and first.id in str(raised.value)
    assert ledger_size(sql_crm) == before
    assert not sql_crm.privacy.may_contact(ada, "marketing", "email").allowed


def test_a_token_from_another_crm_does_not_confirm_here(sql_url: str) -> None:
    with crmkit.open(sql_url, plugins=[]) as crm, crmkit.open("memory://", plugins=[]) as other:
        _, token = crm.privacy.consent.request(add_ada(crm), purpose="marketing", channel="email")
        add_ada(other)
        with pytest.raises(ValidationError, match="signature"):
            other.privacy.consent.confirm(token)


# -- audit, events, suppression, transactions ------------------------------------------


def test_changes_are_audited_without_personal_values(sql_crm: CRM) -> None:
    ada = add_ada(sql_crm)
    ledger = sql_crm.privacy.consent
    secret_words = "signed the paper form at booth 7"
    ledger.grant(
        ada, purpose="marketing", channel="email", evidence=secret_words, ip_address="203.0.113.9"
    )
    ledger.withdraw(ada, purpose="marketing", channel="email", evidence=secret_words)
    _, token = ledger.request(ada, purpose="sales", channel="phone", evidence=secret_words)
    ledger.confirm(token)

    report = sql_crm.privacy.verify_audit()
    assert report.ok and report.checked == 4
    entries = audit_rows(sql_crm)
    assert [e["action"] for e in entries] == [
        "consent.grant",
        "consent.withdraw",
        "consent.request",
        "consent.confirm",
    ]
    assert all(e["subject_id"] == ada and e["outcome"] == "done" for e in entries)
    assert (entries[0]["purpose"], entries[0]["channel"]) == ("marketing", "email")
    text = json.dumps([{**e, "at": None, "created_at": None, "updated_at": None} for e in entries])
    assert secret_words not in text and "203.0.113.9" not in text and "ada@example.com" not in text

    payloads = [e.payload for e in sql_crm.events.read() if e.name.startswith("consent.")]
    assert [p["status"] for p in payloads] == ["granted", "withdrawn", "pending", "granted"]
    assert secret_words not in json.dumps(payloads, default=str)


def test_a_grant_lifts_the_suppression_of_the_contacts_email_and_phone(sql_crm: CRM) -> None:
    ada = add_ada(sql_crm)
    privacy = sql_crm.privacy
    keys = privacy.suppression_keys(email="ada@example.com", phone="+442079460958")
    with sql_crm.backend.begin() as tx:
        suppression.suppress(
            tx,
            sql_crm.entity_type("privacy.suppression"),
            zip(("email", "phone"), keys, strict=True),
            "erased",
        )
    assert privacy.is_suppressed(email="ada@example.com")

    privacy.consent.request(ada, purpose="marketing", channel="email")
    assert privacy.is_suppressed(email="ada@example.com"), "a request alone lifts nothing"
    privacy.consent.grant(ada, purpose="marketing", channel="email")
    assert not privacy.is_suppressed(email="ada@example.com")
    assert not privacy.is_suppressed(phone="+442079460958")
    assert audit_rows(sql_crm)[-1]["details"]["suppressions_lifted"] == 2


def test_consent_can_be_recorded_in_the_callers_unit_of_work(crm: CRM) -> None:
    with pytest.raises(RuntimeError), crm.unit_of_work() as uow:
        eve = uow.contacts.add(email="eve@example.com")
        crm.privacy.consent.grant(eve.id, purpose="marketing", channel="email", uow=uow)
        raise RuntimeError("the caller's work failed")
    assert ledger_size(crm) == 0 and crm.contacts.find("eve@example.com") is None

    with crm.unit_of_work("dana") as uow:
        eve = uow.contacts.add(email="eve@example.com")
        record = crm.privacy.consent.grant(eve.id, purpose="marketing", channel="email", uow=uow)
    assert record.actor == "dana"
    assert crm.privacy.may_contact("eve@example.com", "marketing", "email").allowed


def test_times_must_be_timezone_aware(crm: CRM, ada: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        crm.privacy.consent.grant(
            ada, purpose="marketing", channel="email", now=dt.datetime(2030, 1, 1)
        )
    assert ledger_size(crm) == 0
