"""``crmkit campaign send``, ``status`` and ``reconcile`` as a user runs them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit_campaign import Marketing

import crmkit
from crmkit.storage import Query

if TYPE_CHECKING:
    from conftest import CampaignProject, SmtpServer

BASE = {"sender": "news@shop.example", "unsubscribe_url": "https://shop.example/unsubscribe"}


def _project(project: CampaignProject, server: SmtpServer) -> None:
    project.set_settings({**BASE, "smtp": {"host": server.host, "port": server.port}})
    with crmkit.open(project.path) as crm:
        for name, agreed in (("ada", True), ("bob", False)):
            person = crm.contacts.add(first_name=name.capitalize(), email=f"{name}@example.com",
                                      tags=["news"])
            if agreed:
                crm.privacy.consent.grant(person.id, purpose="marketing", channel="email",
                                          evidence="form")
        marketing = Marketing(crm)
        marketing.segments.create("News", {"field": "tags", "op": "has", "value": "news"})
        marketing.campaigns.create("Spring", segment="News")
        marketing.campaigns.add_step("Spring", subject="Hi {first_name}", body="Spring is here.")


def test_send_prints_what_went_and_who_was_left_out(
    campaign_project: CampaignProject, smtp_server: SmtpServer
) -> None:
    _project(campaign_project, smtp_server)
    not_started = campaign_project.run("campaign", "send", "Spring")
    assert not_started.exit_code == 4
    assert "crmkit campaign start Spring" in not_started.output
    assert campaign_project.run("campaign", "start", "Spring").exit_code == 0

    dry = campaign_project.run("campaign", "send", "Spring", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert (dry.json()["sent"], dry.json()["excluded"]) == (1, {"consent": 1})
    assert smtp_server.received == []

    sent = campaign_project.run("campaign", "send", "Spring")
    assert sent.exit_code == 0, sent.output
    lines = [" ".join(line.split()) for line in sent.output.splitlines()]
    assert "sent 1" in lines and "excluded 1" in lines and "consent 1" in lines
    assert [m.rcpt_tos for m in smtp_server.received] == [["ada@example.com"]]

    status = campaign_project.run("campaign", "status", "Spring", "--json")
    assert status.exit_code == 0, status.output
    assert status.json()["deliveries"]["sent"] == 1
    assert status.json()["excluded"] == {"consent": 1}

    reconciled = campaign_project.run("campaign", "reconcile", "Spring")
    assert reconciled.exit_code == 0, reconciled.output
    assert "No deliveries in doubt." in reconciled.output


def test_send_stops_with_an_error_when_the_smtp_server_is_down(
    campaign_project: CampaignProject, smtp_server: SmtpServer
) -> None:
    _project(campaign_project, smtp_server)
    campaign_project.run("campaign", "start", "Spring")
    campaign_project.set_settings({**BASE, "smtp": {"host": "127.0.0.1", "port": 9}})

    result = campaign_project.run("campaign", "send", "Spring")

    assert result.exit_code == 1
    assert "127.0.0.1:9" in result.output and "stays due" in result.output
    campaign_project.set_settings(
        {**BASE, "smtp": {"host": smtp_server.host, "port": smtp_server.port}}
    )
    again = campaign_project.run("campaign", "send", "Spring", "--json")
    assert again.exit_code == 0 and again.json()["sent"] == 1


def test_reconcile_resend_refuses_a_delivery_that_is_not_in_doubt(
    campaign_project: CampaignProject, smtp_server: SmtpServer
) -> None:
    _project(campaign_project, smtp_server)
    campaign_project.run("campaign", "start", "Spring")
    campaign_project.run("campaign", "send", "Spring")
    with crmkit.open(campaign_project.path) as crm, crm.backend.read() as reader:
        [delivery] = reader.query(crm.entity_type("campaign.delivery"), Query())

    result = campaign_project.run("campaign", "reconcile", "Spring", "--resend", delivery["id"])

    assert result.exit_code == 4
    assert "only a delivery in doubt" in result.output
    assert campaign_project.run("campaign", "send", "Nope").exit_code == 3
