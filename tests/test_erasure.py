"""Erasure: nothing of the person is left anywhere, everyone else's data is untouched.

The completeness test reads every table of the database with plain SQLAlchemy
(the outbox and the audit log included), so a value kept by any path, known
or not, is found.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

import crmkit
from crmkit.crm import CRM
from crmkit.entities.base import Entity, entity
from crmkit.entities.fields import field
from crmkit.errors import NotFound, PolicyDenied
from crmkit.events import EventType
from crmkit.privacy import suppression
from crmkit.privacy.erasure import ERASED
from crmkit.storage.query import Query

CUSTOM = {
    "contact": {
        "properties": {
            "loyalty_code": {"type": "string"},
            "nickname": {"type": "string", "x-privacy": "personal"},
        }
    }
}

# The person to erase. Values are distinctive so a text search finds only them.
AUGUSTA: dict[str, Any] = {
    "first_name": "Augusta",
    "last_name": "Lovelace",
    "email": "augusta@example.com",
    "phone": "+442071234567",
    "city": "Marylebone",
    "custom": {"loyalty_code": "LC-777123", "nickname": "Enchantress"},
}
NEW_EMAIL = "ada.king@example.com"  # Augusta's email after a change
CHARLES: dict[str, Any] = {
    "first_name": "Charles",
    "last_name": "Babbage",
    "email": "charles@example.org",
    "phone": "+442079460001",
    "city": "Walworth",
    "custom": {"loyalty_code": "LC-999888", "nickname": "Differencer"},
}


class Referrals:
    """A plugin whose event about one person mentions another by email and name."""

    def crmkit_register_event_types(self) -> Sequence[EventType]:
        return [EventType("referral.noted")]


def _open(url: str, **kwargs: Any) -> CRM:
    return crmkit.open(
        url,
        plugins=["referrals"],
        extra_plugins=[("referrals", Referrals())],
        custom_fields=CUSTOM,
        **kwargs,
    )


def _values(person: dict[str, Any]) -> list[str]:
    return [
        person["first_name"],
        person["last_name"],
        person["email"],
        person["phone"],
        person["city"],
        *person["custom"].values(),
    ]


def _dump(url: str) -> dict[str, list[str]]:
    """Every row of every table of the database, as text, by table."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            return {
                name: sorted(repr(tuple(row)) for row in conn.execute(sa.select(table)))
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


def _fill(crm: CRM) -> tuple[str, str]:
    """Two people with a history: changes, organization links, timeline, consent, events."""
    augusta = crm.contacts.add(**AUGUSTA)
    charles = crm.contacts.add(**CHARLES)
    crm.contacts.update(augusta.id, email=NEW_EMAIL)
    crm.contacts.update(charles.id, job_title="Engineer")
    org = crm.organizations.add(name="Analytical Engines Ltd")
    crm.contacts.link(augusta.id, org.id, role="Countess of numbers")
    crm.contacts.link(charles.id, org.id, role="Inventor")
    crm.interactions.log(augusta.id, channel="email", summary="Augusta asked for the notes")
    crm.interactions.log(charles.id, channel="phone", summary="Charles called about gears")
    for person, evidence, ip in (
        (augusta, f"signup form filled by {NEW_EMAIL}", "192.0.2.44"),
        (charles, "signup form v3", "198.51.100.7"),
    ):
        crm.privacy.consent.grant(
            person.id, purpose="marketing", channel="email", evidence=evidence, ip_address=ip
        )
    with crm.unit_of_work() as uow:
        uow.raise_event(
            "referral.noted",
            {"referrer": NEW_EMAIL, "note": "Augusta Lovelace sent Charles", "score": 5},
            subject_id=charles.id,
        )
    return augusta.id, charles.id


@pytest.fixture
def filled(sql_url: str) -> Iterator[tuple[CRM, str, str, str]]:
    with _open(sql_url) as crm:
        augusta, charles = _fill(crm)
        yield crm, sql_url, augusta, charles


def test_erasure_leaves_none_of_the_persons_values_in_any_table(
    filled: tuple[CRM, str, str, str],
) -> None:
    crm, url, augusta, _ = filled
    gone = [*_values(AUGUSTA), NEW_EMAIL, "192.0.2.44", "Countess of numbers", "asked for"]
    kept = [*_values(CHARLES), "Engineer", "Inventor", "gears", "198.51.100.7"]
    before = "\n".join(row for rows in _dump(url).values() for row in rows).lower()
    assert all(value.lower() in before for value in gone + kept)

    plan = crm.privacy.erase(augusta)

    tables = _dump(url)
    assert {"crmkit_outbox", "privacy_audit", "privacy_consent", "contact"} <= set(tables)
    text = "\n".join(row for rows in tables.values() for row in rows).lower()
    assert [value for value in gone if value.lower() in text] == []
    assert [value for value in kept if value.lower() not in text] == []
    assert plan.done and plan.entity("interaction").deleted == 1
    assert plan.entity("affiliation").deleted == 1
    assert plan.entity("privacy.consent").anonymised == 1


def test_the_erased_contact_stays_as_an_anonymised_shell_with_its_kept_records(
    filled: tuple[CRM, str, str, str],
) -> None:
    crm, _, augusta, charles = filled
    crm.privacy.erase(augusta)
    consent = crm.entity_type("privacy.consent")
    with crm.backend.begin() as tx:
        shell = tx.get(crm.entity_type("contact"), augusta)
        ledger = tx.query(consent, Query(None, ("id",), None))
        state = tx.get_by(crm.entity_type("privacy.subject"), "contact_id", augusta)
    assert shell is not None
    assert shell["first_name"] is None and shell["email"] is None and shell["phone"] is None
    assert shell["custom"] == {} and shell["tags"] == []
    mine = [e for e in ledger if e["contact_id"] == augusta]
    theirs = [e for e in ledger if e["contact_id"] == charles]
    assert [(e["purpose"], e["status"], e["evidence"], e["ip_address"]) for e in mine] == [
        ("marketing", "granted", None, None)
    ]
    assert theirs[0]["evidence"] == "signup form v3"
    assert state is not None and state["erased_at"] is not None
    assert crm.contacts.get(charles).city == "Walworth"


def test_erasure_rewrites_only_the_events_that_carry_the_person(
    filled: tuple[CRM, str, str, str],
) -> None:
    crm, _, augusta, charles = filled
    crm.privacy.erase(augusta)
    events = crm.events.read()
    referral = next(e for e in events if e.name == "referral.noted")
    assert referral.payload == {"referrer": ERASED, "note": f"{ERASED} sent Charles", "score": 5}
    linked = [e for e in events if e.name == "contact.linked"]
    assert [e.payload["role"] for e in linked] == [ERASED, "Inventor"]
    mine = next(e for e in events if e.name == "contact.created" and e.subject_id == augusta)
    assert mine.payload["contact"]["id"] == augusta
    assert mine.payload["contact"]["first_name"] == ERASED
    assert mine.payload["contact"]["custom"] == {"loyalty_code": ERASED, "nickname": ERASED}
    theirs = next(e for e in events if e.name == "contact.created" and e.subject_id == charles)
    assert theirs.payload["contact"]["email"] == CHARLES["email"]
    [erased] = [e for e in events if e.name == "privacy.erased"]
    assert erased.subject_id == augusta
    assert erased.payload["deleted"] == {"affiliation": 1, "interaction": 1}


def test_erasure_is_audited_with_counts_only(filled: tuple[CRM, str, str, str]) -> None:
    crm, _, augusta, _ = filled
    plan = crm.privacy.erase(augusta, actor="dpo")
    audit = crm.entity_type("privacy.audit")
    with crm.backend.begin() as tx:
        [entry] = [r for r in tx.query(audit, Query()) if r["action"] == "privacy.erase"]
    assert entry["actor"] == "dpo" and entry["subject_id"] == augusta
    assert entry["details"] == plan.counts()
    assert entry["details"]["anonymised"] == {"contact": 1, "privacy.consent": 1}
    assert crm.privacy.verify_audit().ok


def test_erased_email_and_phone_are_suppressed_as_keyed_hashes_only(
    filled: tuple[CRM, str, str, str],
) -> None:
    crm, url, augusta, _ = filled
    assert not crm.privacy.is_suppressed(email=NEW_EMAIL)
    crm.privacy.erase(augusta)
    assert crm.privacy.is_suppressed(email=NEW_EMAIL)
    assert crm.privacy.is_suppressed(phone=AUGUSTA["phone"])
    assert not crm.privacy.is_suppressed(email=CHARLES["email"])
    rows = _dump(url)["privacy_suppression"]
    assert len(rows) == 2
    assert not any(NEW_EMAIL in row or AUGUSTA["phone"] in row for row in rows)


def test_a_failure_midway_leaves_everything_as_it_was(
    filled: tuple[CRM, str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    crm, url, augusta, _ = filled
    before = _dump(url)

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(suppression, "suppress", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        crm.privacy.erase(augusta)
    assert _dump(url) == before
    assert crm.contacts.get(augusta).first_name == "Augusta"


def test_erasing_twice_says_the_person_was_already_erased(
    filled: tuple[CRM, str, str, str],
) -> None:
    crm, url, augusta, _ = filled
    first = crm.privacy.erase(augusta)
    after_first = _dump(url)
    again = crm.privacy.erase(augusta)
    assert again.already_erased and not again.done
    assert again.erased_at == first.erased_at
    assert _dump(url) == after_first


def test_a_dry_run_plans_and_changes_nothing(filled: tuple[CRM, str, str, str]) -> None:
    crm, url, augusta, _ = filled
    before = _dump(url)
    plan = crm.privacy.erase(augusta, dry_run=True)
    assert _dump(url) == before
    assert not plan.done and plan == crm.privacy.erasure_plan(augusta)
    assert (plan.deleted, plan.anonymised) == (2, 2)
    assert plan.suppressed == ("email", "phone")
    # created, updated, linked, logged and the referral; consent.granted holds ids only.
    assert plan.events == 5
    consent = plan.entity("privacy.consent")
    assert consent.fields == ("evidence", "ip_address")
    assert dict(consent.held)["contact_id"].startswith("proof of consent")


def test_an_actor_not_allowed_to_erase_is_refused_and_nothing_changes(sql_url: str) -> None:
    with _open(sql_url, privacy={"actors": {"eve": ["agent"]}}) as crm:
        augusta, _ = _fill(crm)
        before = _dump(sql_url)
        with pytest.raises(PolicyDenied, match="may not erase"):
            crm.privacy.erase(augusta, actor="eve")
        after = _dump(sql_url)
    assert {k: v for k, v in after.items() if k != "privacy_audit"} == {
        k: v for k, v in before.items() if k != "privacy_audit"
    }
    assert len(after["privacy_audit"]) == len(before["privacy_audit"]) + 1


def test_erasing_an_unknown_contact_is_not_found() -> None:
    with crmkit.open("memory://", plugins=[]) as crm, pytest.raises(NotFound):
        crm.privacy.erase("nobody@example.com")


# -- a plugin's records, from its declarations (in memory: no migration needed) --------

HOLD = "invoices are kept ten years for the tax authority"


@entity("shop.basket", description="What a person left in their basket.")
@attrs.define(kw_only=True)
class Basket(Entity):
    contact_id: str = field(ref="contact", privacy="personal", erase="delete")
    items: list[str] = field(factory=list, privacy="personal", erase="delete")


@entity("shop.invoice", description="What a person paid.")
@attrs.define(kw_only=True)
class Invoice(Entity):
    contact_id: str = field(ref="contact", privacy="personal", erase="keep", hold=HOLD)
    amount: decimal.Decimal = field(privacy="none", erase="keep")
    billing_name: str = field(privacy="personal", erase="anonymise")
    billing_address: str | None = field(default=None, privacy="personal", erase="anonymise")
    lines: list[str] = field(factory=list, privacy="personal", erase="anonymise")
    quantity: int = field(default=1, privacy="personal", erase="anonymise")


class Shop:
    def crmkit_register_entity_types(self) -> Sequence[type]:
        return [Basket, Invoice]


def test_a_plugins_records_are_deleted_or_anonymised_as_declared() -> None:
    with crmkit.open("memory://", plugins=["shop"], extra_plugins=[("shop", Shop())]) as crm:
        ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
        bob = crm.contacts.add(first_name="Bob", email="bob@example.com")
        baskets, invoices = crm.entity_type("shop.basket"), crm.entity_type("shop.invoice")
        with crm.unit_of_work() as uow:
            for person in (ada, bob):
                uow.tx.add(baskets, baskets.to_row(Basket(contact_id=person.id, items=["tea"])))
                invoice = Invoice(
                    contact_id=person.id,
                    amount=decimal.Decimal("80.00"),
                    billing_name=f"{person.first_name} Byron",
                    billing_address="1 St James's Sq",
                    lines=["tea", "cups"],
                    quantity=3,
                )
                uow.tx.add(invoices, invoices.to_row(invoice))

        plan = crm.privacy.erase(ada.id)

        assert (plan.entity("shop.basket").deleted, plan.entity("shop.invoice").anonymised) == (
            1,
            1,
        )
        assert plan.entity("shop.invoice").held == (("contact_id", HOLD),)
        with crm.backend.read() as reader:
            left = reader.query(baskets, Query())
            kept = {r["contact_id"]: r for r in reader.query(invoices, Query())}
    assert [r["contact_id"] for r in left] == [bob.id]
    assert kept[ada.id]["amount"] == decimal.Decimal("80.00")
    assert (
        kept[ada.id]["billing_name"],
        kept[ada.id]["billing_address"],
        kept[ada.id]["lines"],
        kept[ada.id]["quantity"],
    ) == (ERASED, None, [], 0)
    assert kept[bob.id]["billing_name"] == "Bob Byron" and kept[bob.id]["quantity"] == 3


def test_a_namesakes_history_is_left_alone() -> None:
    with crmkit.open("memory://", plugins=[]) as crm:
        lovelace = crm.contacts.add(first_name="Ada", last_name="Lovelace")
        byron = crm.contacts.add(first_name="Ada", last_name="Byron")
        crm.privacy.erase(lovelace.id)
        created = {
            e.subject_id: e.payload["contact"] for e in crm.events.read(names=["contact.created"])
        }
    assert (created[lovelace.id]["first_name"], created[lovelace.id]["last_name"]) == (
        ERASED,
        ERASED,
    )
    assert (created[byron.id]["first_name"], created[byron.id]["last_name"]) == ("Ada", "Byron")


def test_subscribers_hear_that_a_person_was_erased() -> None:
    heard: list[tuple[str | None, dict[str, Any]]] = []
    with crmkit.open("memory://", plugins=[]) as crm:
        crm.events.subscribe(
            "privacy.erased", lambda e: heard.append((e.subject_id, dict(e.payload)))
        )
        ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
        crm.privacy.erase(ada.id)
    assert heard == [
        (
            ada.id,
            {
                "contact_id": ada.id,
                "deleted": {},
                "anonymised": {"contact": 1},
                "events": 1,
                "suppressed": 1,
            },
        )
    ]
