"""Unsubscribe links: one click withdraws consent once; bad tokens are refused, writing nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import attrs
import crmkit_campaign.unsubscribe as unsubscribe
import pytest
from crmkit_campaign.campaigns import Campaigns
from crmkit_campaign.entities import Delivery
from crmkit_campaign.results import Results
from crmkit_campaign.segments import Segments
from crmkit_campaign.settings import campaign_settings
from crmkit_campaign.unsubscribe import make_token, read_token, redeem, unsubscribe_link

import crmkit
from crmkit import Event
from crmkit.crm import CRM
from crmkit.errors import NotFound, ValidationError
from crmkit.privacy.keys import sign
from crmkit.storage import Cond, Query
from crmkit.testing.clock import Clock

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def shop(crm: CRM, crmkit_clock: Clock) -> CRM:
    """Ada, who opted in to marketing by email, and an active campaign sent to her."""
    crmkit_clock.set(T0)
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com", tags=["news"])
    crm.privacy.consent.grant(ada.id, purpose="marketing", channel="email", evidence="form v1")
    Segments(crm).create("Readers", {"field": "tags", "op": "has", "value": "news"})
    Campaigns(crm).create("Launch", segment="Readers")
    step = Campaigns(crm).add_step("Launch", subject="Hi", body="Hi {first_name}")
    Campaigns(crm).start("Launch")
    etype = crm.entity_type("campaign.delivery")
    sent = Delivery(key=f"{step.id}:{ada.id}", campaign_id=step.campaign_id, step_id=step.id,
                    contact_id=ada.id, address=ada.email, message_id="-", status="sent",
                    sent_at=T0)
    sent = attrs.evolve(sent, message_id=f"<{sent.id}@crmkit>")
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(sent))
    return crm


def token_for(crm: CRM) -> str:
    ada = crm.contacts.get("ada@example.com")
    return make_token(crm, ada.id, Campaigns(crm).get("Launch").id, "marketing", "email")


def ledger(crm: CRM) -> list[tuple[str, str, str, str | None]]:
    return [(r.purpose, r.channel, r.status, r.source)
            for r in crm.privacy.consent.history("ada@example.com")]


def responses(crm: CRM) -> list[dict[str, object]]:
    with crm.backend.read() as reader:
        return reader.query(crm.entity_type("campaign.response"), Query())


def test_redeeming_withdraws_consent_once_and_says_so_the_second_time(shop: CRM) -> None:
    seen: list[Event] = []
    shop.events.subscribe("campaign.unsubscribed", seen.append)
    ada = shop.contacts.get("ada@example.com")
    assert shop.privacy.may_contact(ada.id, "marketing", "email").allowed
    token = token_for(shop)

    first = redeem(shop, token)
    assert (first.contact_id, first.purpose, first.channel, first.already) == (
        ada.id, "marketing", "email", False)
    assert not shop.privacy.may_contact(ada.id, "marketing", "email").allowed
    withdrawal = shop.privacy.consent.history(ada.id)[-1]
    assert (withdrawal.status, withdrawal.source) == ("withdrawn", "unsubscribe link")
    assert withdrawal.evidence is not None and "'Launch'" in withdrawal.evidence
    [response] = responses(shop)
    assert (response["kind"], response["contact_id"]) == ("unsubscribe", ada.id)
    assert response["delivery_id"] is not None
    assert [e.payload["campaign_id"] for e in seen] == [first.campaign_id]
    timeline = shop.interactions.timeline(ada.id)
    assert [(i.kind, i.direction, i.channel) for i in timeline][:1] == [
        ("unsubscribed", "inbound", "email")]

    second = redeem(shop, token)
    assert second.already is True
    assert len(ledger(shop)) == 2 and len(responses(shop)) == 1 and len(seen) == 1


def test_the_report_counts_the_unsubscribe_on_the_message(shop: CRM) -> None:
    redeem(shop, token_for(shop))
    [row] = Results(shop).report("Launch").variants
    assert (row.sent, row.unsubscribed) == (1, 1)


def _tampered(token: str) -> str:
    version, payload, signature = token.split(".")
    raw = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[2] = "sales"
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).rstrip(b"=").decode()
    return f"{version}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "signature does not match"),
        (_tampered, "signature does not match"),
        (lambda t: "c1." + t.split(".", 1)[1], "malformed"),
        (lambda t: "u1.garbage", "malformed"),
        (lambda t: "", "malformed"),
    ],
)
def test_forged_or_malformed_tokens_are_refused_and_write_nothing(
    shop: CRM, change: object, words: str
) -> None:
    before = ledger(shop)
    bad = change(token_for(shop))  # type: ignore[operator]
    with pytest.raises(ValidationError) as caught:
        redeem(shop, bad)
    assert (caught.value.entity, caught.value.field) == ("campaign.unsubscribe", "token")
    assert words in str(caught.value)
    assert ledger(shop) == before and responses(shop) == []


def test_a_validly_signed_but_unreadable_payload_is_refused(shop: CRM) -> None:
    payload = base64.urlsafe_b64encode(b"[1, 2]").rstrip(b"=").decode()
    signature = sign(shop.privacy.secret(), f"{unsubscribe.SIGNING_LABEL}:u1:{payload}")
    with pytest.raises(ValidationError, match="cannot be read"):
        redeem(shop, f"u1.{payload}.{signature}")
    assert responses(shop) == []


def test_an_expired_token_is_refused(shop: CRM, crmkit_clock: Clock) -> None:
    token = token_for(shop)
    expires = T0 + unsubscribe.VALID_FOR
    assert read_token(shop, token, now=expires - dt.timedelta(seconds=1)).purpose == "marketing"
    crmkit_clock.set(expires)
    with pytest.raises(ValidationError, match="expired"):
        redeem(shop, token)
    assert ledger(shop) == [("marketing", "email", "granted", None)]


def test_a_token_from_another_crm_is_refused(shop: CRM, tmp_path: Path) -> None:
    with crmkit.open(f"sqlite:///{tmp_path / 'other.db'}", plugins=["campaign"]) as other:
        foreign = make_token(other, "0" * 8 + "-0000-0000-0000-" + "0" * 12, "x", "marketing",
                             "email")
    with pytest.raises(ValidationError, match="signature does not match"):
        redeem(shop, foreign)


def test_a_token_for_a_deleted_contact_is_not_found(shop: CRM) -> None:
    token = token_for(shop)
    shop.contacts.delete("ada@example.com")
    with pytest.raises(NotFound, match="contact"):
        redeem(shop, token)


def test_the_link_adds_the_token_to_the_page_address(shop: CRM) -> None:
    settings = campaign_settings(shop)
    assert unsubscribe_link(shop, settings, "u1.abc.def") == (
        "https://shop.example/unsubscribe?token=u1.abc.def")
    with_query = attrs.evolve(settings, unsubscribe_url="https://shop.example/u?lang=fr")
    assert unsubscribe_link(shop, with_query, "u1.a") == "https://shop.example/u?lang=fr&token=u1.a"


def test_unsubscribing_from_one_channel_leaves_the_other(shop: CRM) -> None:
    ada = shop.contacts.get("ada@example.com")
    shop.privacy.consent.grant(ada.id, purpose="marketing", channel="sms", evidence="form v1")
    redeem(shop, token_for(shop))
    assert shop.privacy.may_contact(ada.id, "marketing", "sms").allowed
    assert not shop.privacy.may_contact(ada.id, "marketing", "email").allowed
    with shop.backend.read() as reader:
        kinds = reader.query(shop.entity_type("campaign.response"),
                             Query(Cond("contact_id", "eq", ada.id)))
    assert [k["kind"] for k in kinds] == ["unsubscribe"]
