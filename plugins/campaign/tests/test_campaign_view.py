"""The "Campaigns" section of the single customer view (``crm.view``), on SQLite and PostgreSQL.

A real send through the SMTP adapter (to the test's SMTP server) makes the
records the section shows; the section is read through ``crm.view`` as a user
of the CRM gets it, so these tests go through the installed plugin's hook.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PLUGINS, SmtpServer
from crmkit_campaign import Marketing
from crmkit_campaign.responses import record_complaint, record_reply

from crmkit.crm import CRM
from crmkit.storage import Query
from crmkit.testing.crm_factory import CrmFactory

NEWSLETTER = {"field": "tags", "op": "has", "value": "newsletter"}


def campaigns_section(crm: CRM, contact: str, actor: str | None = None) -> dict[str, Any] | None:
    """The data of the contact's "Campaigns" section, or ``None`` when the view has none."""
    found = [s for s in crm.view(contact, actor=actor).sections if s.title == "Campaigns"]
    if not found:
        return None
    (section,) = found
    assert section.plugin == "campaign"
    data: dict[str, Any] = section.data
    return data


def send_newsletter(crm: CRM) -> dict[str, str]:
    """Ada (opted in) and Bob (never asked) on the newsletter list; one message sent.

    Returns the Message-ID each recipient's delivery got, by email.
    """
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com", tags=["newsletter"])
    crm.contacts.add(first_name="Bob", email="bob@example.com", tags=["newsletter"])
    crm.contacts.add(first_name="Cleo", email="cleo@example.com")
    crm.privacy.consent.grant(
        ada.id, purpose="marketing", channel="email", evidence="sign-up form v2"
    )
    marketing = Marketing(crm)
    marketing.segments.create("Newsletter", NEWSLETTER)
    launch = marketing.campaigns.create("Launch", segment="Newsletter")
    marketing.campaigns.add_step(
        launch.id, subject="Hello {first_name}", body="New plans are out.\n{unsubscribe_url}"
    )
    marketing.campaigns.start(launch.id)
    report = marketing.send_due(launch)
    assert (report.sent, report.excluded) == (1, {"consent": 1})
    with crm.backend.read() as reader:
        rows = reader.query(crm.entity_type("campaign.delivery"), Query())
    return {row["address"]: row["message_id"] for row in rows}


def test_the_section_shows_messages_responses_and_consent(
    smtp_crm: CRM, smtp_server: SmtpServer
) -> None:
    sent = send_newsletter(smtp_crm)
    record_reply(smtp_crm, sent["ada@example.com"], text="Which plan suits a team of five?")

    data = campaigns_section(smtp_crm, "ada@example.com")

    assert data is not None
    assert len(smtp_server.messages) == 1
    (message,) = data["messages"]
    assert {k: message[k] for k in ("campaign", "step", "variant", "status", "address")} == {
        "campaign": "Launch",
        "step": 1,
        "variant": "A",
        "status": "sent",
        "address": "ada@example.com",
    }
    assert message["sent_at"] is not None
    assert message["message_id"] == sent["ada@example.com"]
    assert data["messages_total"] == 1
    assert [(r["kind"], r["detail"]) for r in data["responses"]] == [
        ("reply", "Which plan suits a team of five?")
    ]
    assert data["exclusions"] == [] and data["blocked"] is False
    assert [(c["channel"], c["status"]) for c in data["marketing_consent"]] == [
        ("email", "granted")
    ]


def test_a_person_left_out_sees_the_reason_and_no_message(smtp_crm: CRM) -> None:
    send_newsletter(smtp_crm)

    data = campaigns_section(smtp_crm, "bob@example.com")

    assert data is not None
    assert data["messages"] == [] and data["messages_total"] == 0
    assert [(e["campaign"], e["step"], e["reason"]) for e in data["exclusions"]] == [
        ("Launch", 1, "consent")
    ]
    assert data["marketing_consent"] == []


def test_no_campaign_records_and_no_consent_means_no_section(smtp_crm: CRM) -> None:
    send_newsletter(smtp_crm)

    assert campaigns_section(smtp_crm, "cleo@example.com") is None


def test_a_complaint_shows_the_blocked_address_and_the_withdrawn_consent(smtp_crm: CRM) -> None:
    sent = send_newsletter(smtp_crm)
    record_complaint(smtp_crm, sent["ada@example.com"], "marked as spam")

    data = campaigns_section(smtp_crm, "ada@example.com")

    assert data is not None
    assert data["blocked"] is True
    assert [(b["address"], b["reason"]) for b in data["blocked_addresses"]] == [
        ("ada@example.com", "complaint")
    ]
    assert [r["kind"] for r in data["responses"]] == ["complaint"]
    assert [(c["channel"], c["status"]) for c in data["marketing_consent"]] == [
        ("email", "withdrawn")
    ]


def test_the_newest_ten_messages_are_listed_with_the_total(smtp_crm: CRM) -> None:
    send_newsletter(smtp_crm)
    marketing = Marketing(smtp_crm)
    for n in range(1, 12):
        campaign = marketing.campaigns.create(f"Weekly {n:02d}", segment="Newsletter")
        marketing.campaigns.add_step(campaign.id, subject="News", body="{unsubscribe_url}")
        marketing.campaigns.start(campaign.id)
        assert marketing.send_due(campaign).sent == 1

    data = campaigns_section(smtp_crm, "ada@example.com")

    assert data is not None
    assert data["messages_total"] == 12
    assert [m["campaign"] for m in data["messages"]] == [
        f"Weekly {n:02d}" for n in range(11, 1, -1)
    ]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_actor_who_may_not_see_personal_data_gets_addresses_and_texts_masked(
    database: str,
    crm_factory: CrmFactory,
    campaign_settings: dict[str, Any],
) -> None:
    privacy = {
        "roles": {"viewer": {"actions": ["read"], "see": []}},
        "actors": {"vic": ["viewer"]},
    }
    crm = crm_factory(
        PLUGINS, url=database, plugin_settings={"campaign": campaign_settings}, privacy=privacy
    )
    sent = send_newsletter(crm)
    record_reply(crm, sent["ada@example.com"], text="Call me on Monday")

    seen = campaigns_section(crm, "ada@example.com", actor="vic")

    assert seen is not None
    assert seen["messages"][0]["address"] == "[masked: personal]"
    assert seen["responses"][0]["detail"] == "[masked: personal]"
    assert seen["messages"][0]["status"] == "sent"
    assert {"address", "detail"} <= set(seen["masked"])
    as_admin = campaigns_section(crm, "ada@example.com")
    assert as_admin is not None
    assert as_admin["messages"][0]["address"] == "ada@example.com"
    assert as_admin["masked"] == []
