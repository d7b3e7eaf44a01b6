"""A tour of the campaign commands on a fresh project, as a user types them.

``crmkit init P --plugin campaign``, SMTP settings pointing at a real SMTP
server, contacts with and without consent, a segment (create, preview), a
campaign (create, step, start), a preview for one person, the send, its status,
an unsubscribe with the token from the message received, and the report.
"""

from __future__ import annotations

import re

from conftest import CampaignProject, SmtpServer

TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_.\-%]+)")


def test_a_campaign_from_init_to_report(
    campaign_project: CampaignProject,
    smtp_server: SmtpServer,
    campaign_settings: dict[str, object],
) -> None:
    project = campaign_project
    project.set_settings(campaign_settings)
    run = project.run

    for args in (
        ("--first-name", "Ada", "--email", "ada@example.com", "--tag", "newsletter",
         "--consent", "marketing:email", "--evidence", "sign-up form v2"),
        ("--first-name", "Grace", "--email", "grace@example.com", "--tag", "newsletter",
         "--consent", "marketing:email", "--evidence", "sign-up form v2"),
        ("--first-name", "Bob", "--email", "bob@example.com", "--tag", "newsletter"),
        ("--first-name", "Cleo", "--email", "cleo@example.com"),
    ):  # fmt: skip
        added = run("contacts", "add", *args)
        assert added.exit_code == 0, str(added)

    created = run(
        "campaign", "segment", "create", "Newsletter", "--rules",
        '{"field": "tags", "op": "has", "value": "newsletter"}',
    )  # fmt: skip
    assert created.exit_code == 0, str(created)
    preview = run("campaign", "segment", "preview", "Newsletter")
    assert preview.exit_code == 0, str(preview)
    assert "3" in preview.stdout
    assert "cleo@example.com" not in preview.stdout
    assert "ada@example.com" in preview.stdout

    made = run("campaign", "create", "Launch", "--segment", "Newsletter")
    assert made.exit_code == 0, str(made)
    step = run(
        "campaign", "step", "Launch", "--subject", "Hello {first_name}",
        "--body", "Our new plans are out, {first_name}.\n\nLeave the list: {unsubscribe_url}",
    )  # fmt: skip
    assert step.exit_code == 0, str(step)
    started = run("campaign", "start", "Launch")
    assert started.exit_code == 0, str(started)

    shown = run("campaign", "preview", "Launch", "--contact", "ada@example.com")
    assert shown.exit_code == 0, str(shown)
    assert "Hello Ada" in shown.stdout
    assert "Our new plans are out, Ada." in shown.stdout
    assert smtp_server.messages == []

    sent = run("campaign", "send", "Launch", "--json")
    assert sent.exit_code == 0, str(sent)
    report = sent.json()
    assert (report["sent"], report["excluded"]) == (2, {"consent": 1})
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "ada@example.com",
        "grace@example.com",
    ]

    status = run("campaign", "status", "Launch", "--json")
    assert status.exit_code == 0, str(status)
    assert status.json()["deliveries"]["sent"] == 2
    assert status.json()["excluded"] == {"consent": 1}

    (to_ada,) = [m for m in smtp_server.messages if m["To"] == "ada@example.com"]
    assert to_ada["Subject"] == "Hello Ada"
    found = TOKEN.search(str(to_ada["List-Unsubscribe"]))
    assert found is not None
    token = found.group(1)
    assert token in to_ada.get_content()
    left = run("campaign", "unsubscribe", token)
    assert left.exit_code == 0, str(left)
    again = run("campaign", "unsubscribe", token)
    assert again.exit_code == 0, str(again)
    assert again.stdout != left.stdout
    forged = run("campaign", "unsubscribe", token[:-3] + "xyz")
    assert forged.exit_code != 0
    assert "token" in forged.output

    consent = run("consent", "show", "ada@example.com", "--json")
    assert consent.exit_code == 0, str(consent)
    assert "withdrawn" in consent.stdout

    final = run("campaign", "report", "Launch", "--json")
    assert final.exit_code == 0, str(final)
    text = final.stdout
    assert '"unsubscribed": 1' in text
    assert '"sent": 2' in text
    assert '"consent": 1' in text

    resent = run("campaign", "send", "Launch", "--json")
    assert resent.exit_code == 0, str(resent)
    assert resent.json()["sent"] == 0
    assert len(smtp_server.messages) == 2
