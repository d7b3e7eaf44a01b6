"""Retention sweeps: what is past its [privacy.retention] period goes, the rest stays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.entities.core import Interaction
from crmkit.entities.types import build_entity_type
from crmkit.errors import ConfigError, PolicyDenied
from crmkit.privacy import retention
from crmkit.privacy.erasure import ERASED
from crmkit.privacy.facts import WITHDRAWN
from crmkit.storage.query import Query

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


def _open(url: str, periods: Mapping[str, Any], **privacy: Any) -> CRM:
    return crmkit.open(url, plugins=[], privacy={"retention": dict(periods), **privacy})


@pytest.fixture
def opened(sql_url: str) -> Iterator[CRM]:
    """A CRM on each SQL database keeping interactions 30 days and marketing grants a year."""
    with _open(sql_url, {"interaction": 30, "marketing": "1y"}) as crm:
        yield crm


def _interaction(crm: CRM, contact_id: str, created: dt.datetime, summary: str) -> str:
    """An interaction recorded at ``created`` (written straight to storage, as an import would)."""
    etype = crm.entity_type("interaction")
    item = Interaction(
        contact_id=contact_id,
        channel="email",
        summary=summary,
        occurred_at=created,
        created_at=created,
        updated_at=created,
    )
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(item))
    return item.id


def _summaries(crm: CRM) -> list[str]:
    with crm.backend.read() as reader:
        rows = reader.query(crm.entity_type("interaction"), Query(None, ("created_at",), None))
    return [r["summary"] for r in rows]


def _rows(crm: CRM, entity: str) -> list[dict[str, Any]]:
    with crm.backend.read() as reader:
        return reader.query(crm.entity_type(entity), Query(None, ("id",), None))


def test_interactions_past_the_period_are_deleted_and_newer_ones_kept(opened: CRM) -> None:
    ada = opened.contacts.add(email="ada@example.com")
    _interaction(opened, ada.id, NOW - 100 * DAY, "asked for pricing")
    _interaction(opened, ada.id, NOW - 31 * DAY, "sent a quote")
    opened.interactions.log(ada.id, channel="phone", summary="signed")

    report = opened.privacy.sweep()
    assert (report["interaction"].deleted, report["interaction"].days, report.total) == (2, 30, 2)
    assert _summaries(opened) == ["signed"]

    later = retention.sweep(opened, now=NOW + 31 * DAY)
    assert later["interaction"].deleted == 1
    assert _summaries(opened) == []
    assert opened.contacts.get(ada.id).email == "ada@example.com"  # the person stays

    sweeps = [r for r in _rows(opened, "privacy.audit") if r["action"] == "privacy.sweep"]
    assert [s["details"]["keys"]["interaction"]["deleted"] for s in sweeps] == [2, 1]
    assert opened.privacy.verify_audit().ok


def _grant(crm: CRM, contact: str, channel: str, when: dt.datetime, **extra: Any) -> None:
    crm.privacy.consent.grant(contact, purpose="marketing", channel=channel, now=when, **extra)


def test_marketing_grants_past_the_period_lapse(opened: CRM) -> None:
    ada = opened.contacts.add(email="ada@example.com")
    bob = opened.contacts.add(email="bob@example.com")
    cy = opened.contacts.add(email="cy@example.com")
    _grant(opened, ada.id, "email", NOW - 400 * DAY, lawful_basis="legitimate_interests")
    _grant(opened, ada.id, "sms", NOW - 400 * DAY)
    _grant(opened, bob.id, "email", NOW - 10 * DAY)
    _grant(opened, cy.id, "email", NOW - 800 * DAY)
    _grant(opened, cy.id, "email", NOW - 20 * DAY)  # renewed: the old grant no longer counts
    assert opened.privacy.may_contact(ada.id, "marketing", "email").allowed

    report = opened.privacy.sweep()
    assert (report["marketing"].lapsed, report["marketing"].kind) == (2, "purpose")

    denied = opened.privacy.may_contact(ada.id, "marketing", "email")
    assert not denied.allowed and "withdrew" in denied.reason
    assert not opened.privacy.may_contact(ada.id, "marketing", "sms").allowed
    assert opened.privacy.may_contact(bob.id, "marketing", "email").allowed
    assert opened.privacy.may_contact(cy.id, "marketing", "email").allowed

    last = opened.privacy.consent.history(ada.id, "marketing", "email")[-1]
    assert (last.status, last.source, last.lawful_basis) == (
        WITHDRAWN,
        "retention",
        "legitimate_interests",
    )
    withdrawn = [e for e in opened.events.read(limit=100) if e.name == "consent.withdrawn"]
    assert sorted(e.payload["channel"] for e in withdrawn) == ["email", "sms"]
    assert opened.privacy.sweep()["marketing"].lapsed == 0  # nothing lapses twice


def test_a_dry_run_counts_what_a_sweep_does_and_writes_nothing(sql_url: str) -> None:
    with _open(sql_url, {"interaction": 30, "marketing": 365, "privacy.consent": "2y"}) as crm:
        ada = crm.contacts.add(email="ada@example.com")
        _interaction(crm, ada.id, NOW - 40 * DAY, "old")
        _interaction(crm, ada.id, NOW - 5 * DAY, "new")
        _grant(crm, ada.id, "email", NOW - 900 * DAY, evidence="form v1", ip_address="192.0.2.7")
        _grant(crm, ada.id, "post", NOW - 10 * DAY, evidence="form v3")
        before = {e: _rows(crm, e) for e in ("interaction", "privacy.consent", "privacy.audit")}

        dry = retention.sweep(crm, dry_run=True, now=NOW)
        assert {e: _rows(crm, e) for e in before} == before
        counts = {k.key: (k.deleted, k.anonymised, k.lapsed) for k in dry.keys}
        assert counts == {
            "interaction": (1, 0, 0),
            "marketing": (0, 0, 1),
            "privacy.consent": (0, 1, 0),
        }

        real = retention.sweep(crm, now=NOW)
        assert (real.dry_run, dry.dry_run) == (False, True)
        assert [k.as_dict() for k in real.keys] == [k.as_dict() for k in dry.keys]
        assert real.total == dry.total == 3

        old_grant = next(r for r in _rows(crm, "privacy.consent") if r["channel"] == "email")
        assert (old_grant["evidence"], old_grant["ip_address"]) == (None, None)
        assert (old_grant["status"], old_grant["purpose"]) == ("granted", "marketing")
        recent = next(r for r in _rows(crm, "privacy.consent") if r["channel"] == "post")
        assert recent["evidence"] == "form v3"


def test_a_failing_sweep_changes_nothing(opened: CRM, monkeypatch: pytest.MonkeyPatch) -> None:
    ada = opened.contacts.add(email="ada@example.com")
    _interaction(opened, ada.id, NOW - 100 * DAY, "old")

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "_lapse_grants", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        opened.privacy.sweep()
    assert _summaries(opened) == ["old"]
    assert not [r for r in _rows(opened, "privacy.audit") if r["action"] == "privacy.sweep"]


def test_people_gone_quiet_are_erased(sql_url: str) -> None:
    with _open(sql_url, {"contact": "2y"}) as crm:
        quiet = crm.contacts.add(email="quiet@example.com")
        busy = crm.contacts.add(email="busy@example.com")
        fresh = crm.contacts.add(email="fresh@example.com")
        with crm.unit_of_work() as uow:
            for person in (quiet, busy):
                uow.tx.update(
                    crm.entity_type("contact"), person.id, {"updated_at": NOW - 800 * DAY}
                )
        crm.interactions.log(busy.id, channel="email", occurred_at=NOW - 30 * DAY)

        dry = retention.sweep(crm, dry_run=True, now=NOW)
        assert dry["contact"].erased == 1
        assert crm.contacts.get(quiet.id).email == "quiet@example.com"

        assert retention.sweep(crm, now=NOW)["contact"].erased == 1
        with crm.backend.read() as reader:
            state = reader.get_by(crm.entity_type("privacy.subject"), "contact_id", quiet.id)
        assert state is not None and state["erased_at"] is not None
        assert crm.privacy.is_suppressed(email="quiet@example.com")
        assert crm.contacts.get(busy.id).email == "busy@example.com"
        assert crm.contacts.get(fresh.id).email == "fresh@example.com"
        assert retention.sweep(crm, now=NOW)["contact"].erased == 0  # erased people stay erased


def test_sweeping_needs_a_role_that_allows_audit(sql_url: str) -> None:
    roles = {"actors": {"ann": ["agent"], "otto": ["auditor"]}}
    with _open(sql_url, {"interaction": 30}, **roles) as crm:
        ada = crm.contacts.add(email="ada@example.com")
        _interaction(crm, ada.id, NOW - 100 * DAY, "old")

        with pytest.raises(PolicyDenied, match=r"'ann'.*may not audit"):
            crm.privacy.sweep(actor="ann")
        assert _summaries(crm) == ["old"]
        denial = _rows(crm, "privacy.audit")[-1]
        assert (denial["actor"], denial["action"], denial["outcome"]) == ("ann", "audit", "denied")

        assert crm.privacy.sweep(actor="otto")["interaction"].deleted == 1
        assert _rows(crm, "privacy.audit")[-1]["actor"] == "otto"


@pytest.mark.parametrize(
    ("periods", "named"),
    [
        ({"interaction": "banana"}, "retention.interaction"),
        ({"bananas": 30}, "bananas"),
        ({"marketing": 0}, "retention.marketing"),
    ],
)
def test_a_wrong_retention_table_stops_the_crm_opening(
    sql_url: str, periods: Mapping[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError, match=named) as failure:
        _open(sql_url, periods)
    assert "[privacy" in str(failure.value)


# -- which fields a sweep touches, from the entity type's declarations ------------------


@crmkit.entity("shop.order")
@attrs.define(kw_only=True)
class Order(crmkit.Entity):
    contact_id: str = crmkit.field(ref="contact", privacy="personal", erase="delete")
    total: int = crmkit.field(default=0, privacy="none", erase="keep")


@crmkit.entity("shop.invoice")
@attrs.define(kw_only=True)
class Invoice(crmkit.Entity):
    contact_id: str = crmkit.field(ref="contact", privacy="personal", erase="keep", hold="tax")
    billing_name: str = crmkit.field(privacy="personal", erase="anonymise")
    note: str | None = crmkit.field(default=None, privacy="personal", erase="delete")
    tags: list[str] = crmkit.field(factory=list, privacy="personal", erase="anonymise")
    tier: int = crmkit.field(default=1, privacy="none", erase="anonymise")
    amount: int = crmkit.field(default=0, privacy="none", erase="keep")


@crmkit.entity("shop.visit")
@attrs.define(kw_only=True)
class Visit(crmkit.Entity):
    page: str = crmkit.field(privacy="none", erase="keep")
    ip_address: str | None = crmkit.field(default=None, privacy="personal", erase="delete")


@crmkit.entity("shop.survey")
@attrs.define(kw_only=True)
class Survey(crmkit.Entity):
    answer: str | None = crmkit.field(default=None, privacy="personal", erase="anonymise")
    score: int = crmkit.field(default=0, privacy="none", erase="keep")


def test_declarations_decide_between_deleting_and_blanking() -> None:
    order, invoice, visit, survey = (
        build_entity_type(cls, "shop") for cls in (Order, Invoice, Visit, Survey)
    )
    assert retention.deletes_records(order)
    assert retention.deletes_records(visit)  # no link to a person: any delete field decides
    assert not retention.deletes_records(invoice)
    assert not retention.deletes_records(survey)
    assert retention.blanked_fields(invoice) == {
        "billing_name": ERASED,
        "note": None,
        "tags": [],
        "tier": 0,
    }
    assert retention.blanked_fields(survey) == {"answer": None}
