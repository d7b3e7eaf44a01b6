"""``crmkit campaign create|step|start|pause|list|show|preview|...`` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from conftest import CampaignProject
from crmkit_campaign.entities import Delivery
from crmkit_campaign.unsubscribe import make_token

import crmkit

READERS = json.dumps({"field": "tags", "op": "has", "value": "news"})


@pytest.fixture
def project(campaign_project: CampaignProject) -> CampaignProject:
    """A project with Ada (opted in to marketing email), Bob (not) and the "Readers" segment."""
    run = campaign_project.run
    for first, email in (("Ada", "ada@example.com"), ("Bob", "bob@example.com")):
        added = run("contacts", "add", "--first-name", first, "--email", email, "--tag", "news")
        assert added.exit_code == 0, added.output
    granted = run("consent", "grant", "ada@example.com", "--purpose", "marketing",
                  "--channel", "email", "--evidence", "signup form")
    assert granted.exit_code == 0, granted.output
    made = run("campaign", "segment", "create", "Readers", "--rules", READERS)
    assert made.exit_code == 0, made.output
    return campaign_project


def make_campaign(project: CampaignProject, tmp_path: Path) -> None:
    run = project.run
    created = run("campaign", "create", "Spring sale", "--segment", "Readers", "--throttle", "30")
    assert created.exit_code == 0, created.output
    assert created.output.startswith("Created campaign Spring sale (")
    body = tmp_path / "spring.txt"
    body.write_text("Dear {first_name},\nour spring sale starts today.\n", encoding="utf-8")
    step = run("campaign", "step", "Spring sale", "--subject", "Spring, {first_name}!",
               "--body", f"@{body}", "--variant-b-subject", "Sale for {first_name}",
               "--variant-b-body", "Hi {first_name}, it is sale time.", "--split-b", "50")
    assert step.exit_code == 0, step.output
    assert "Added step 1" in step.output and "variant B to 50%" in step.output
    follow = run("campaign", "step", "Spring sale", "--subject", "Last days", "--body",
                 "Only {campaign} days left.", "--wait-days", "3", "--stop-on", "replied")
    assert follow.exit_code == 0, follow.output


def test_create_step_show_start_pause_and_list(project: CampaignProject, tmp_path: Path) -> None:
    make_campaign(project, tmp_path)
    run = project.run
    shown = run("campaign", "show", "Spring sale", "--json")
    assert shown.exit_code == 0, shown.output
    data = shown.json()
    assert (data["status"], data["throttle_per_minute"], data["purpose"]) == (
        "draft", 30, "marketing")
    assert [(s["position"], s["wait_days"], s["split_b"], s["stop_on"]) for s in data["steps"]] == [
        (1, 0, 50, ["replied", "converted", "unsubscribed"]), (2, 3, 0, ["replied"])]
    assert data["steps"][0]["body"] == "Dear {first_name},\nour spring sale starts today."
    text = run("campaign", "show", "Spring sale").output
    assert "Last days" in text and "WAIT DAYS" in text

    started = run("campaign", "start", "Spring sale")
    assert started.output.strip() == "Campaign Spring sale is active"
    paused = run("campaign", "pause", "Spring sale")
    assert paused.output.strip() == "Campaign Spring sale is paused"
    listed = run("campaign", "list")
    assert listed.exit_code == 0
    assert listed.output.splitlines()[2].split()[:4] == ["Spring", "sale", "paused", "marketing"]
    assert [c["name"] for c in run("campaign", "list", "--json").json()] == ["Spring sale"]


def test_bad_input_exits_with_meaningful_codes(project: CampaignProject, tmp_path: Path) -> None:
    run = project.run
    missing = run("campaign", "create", "X", "--segment", "Nobody")
    assert missing.exit_code == 3 and "campaign.segment 'Nobody' not found" in missing.output
    bad_channel = run("campaign", "create", "X", "--segment", "Readers", "--channel", "pigeon")
    assert bad_channel.exit_code == 4 and "pigeon" in bad_channel.output
    run("campaign", "create", "X", "--segment", "Readers")
    unknown = run("campaign", "step", "X", "--subject", "Hi", "--body", "Hi {nick}")
    assert unknown.exit_code == 4 and "unknown placeholder {nick}" in unknown.output
    no_file = run("campaign", "step", "X", "--subject", "Hi", "--body", f"@{tmp_path}/none.txt")
    assert no_file.exit_code == 4 and "cannot read" in no_file.output
    no_steps = run("campaign", "start", "X")
    assert no_steps.exit_code == 4 and "has no steps" in no_steps.output
    assert run("campaign", "show", "X", "--json").json()["steps"] == []
    assert run("campaign", "show", "Nope").exit_code == 3


def test_preview_renders_one_persons_message(project: CampaignProject, tmp_path: Path) -> None:
    make_campaign(project, tmp_path)
    run = project.run
    ada = run("campaign", "preview", "Spring sale", "--contact", "ada@example.com",
              "--variant", "A")
    assert ada.exit_code == 0, ada.output
    assert "Spring, Ada!" in ada.output
    assert "Dear Ada,\nour spring sale starts today." in ada.output
    assert "Unsubscribe: https://shop.example/unsubscribe?token=u1." in ada.output
    assert "allowed" in ada.output
    bob = run("campaign", "preview", "Spring sale", "--contact", "bob@example.com",
              "--step", "2", "--json")
    assert bob.exit_code == 0, bob.output
    message = bob.json()
    assert message["body"].startswith("Only Spring sale days left.")
    assert message["would_send"] is False and "consent" in message["consent"]
    assert message["to"] == "bob@example.com"
    link = message["headers"]["List-Unsubscribe"]
    assert link.startswith("<https://shop.example/unsubscribe?token=")
    assert link[1:-1] in message["body"]
    b = run("campaign", "preview", "Spring sale", "--contact", "ada@example.com",
            "--variant", "B", "--json").json()
    assert (b["subject"], b["variant"]) == ("Sale for Ada", "B")


def _sent_to_ada(project: CampaignProject) -> tuple[str, str]:
    """Write a sent delivery of step 1 to Ada; her message id and an unsubscribe token."""
    with crmkit.open(project.path) as crm:
        ada = crm.contacts.get("ada@example.com")
        campaign = crm.entity_type("campaign.campaign")
        with crm.backend.read() as reader:
            [row] = reader.query(campaign, crmkit.storage.Query())
        steps = crm.entity_type("campaign.step")
        with crm.backend.read() as reader:
            step = reader.get_by(steps, "position", 1)
        assert step is not None
        etype = crm.entity_type("campaign.delivery")
        made = Delivery(key=f"{step['id']}:{ada.id}", campaign_id=row["id"], step_id=step["id"],
                        contact_id=ada.id, address=ada.email, message_id="-", status="sent",
                        sent_at=crmkit.entities.utcnow())
        made = attrs.evolve(made, message_id=f"<{made.id}@crmkit>")
        with crm.unit_of_work() as uow:
            uow.tx.add(etype, etype.to_row(made))
        token = make_token(crm, ada.id, row["id"], "marketing", "email")
    return made.message_id, token


def test_responses_and_report(project: CampaignProject, tmp_path: Path) -> None:
    make_campaign(project, tmp_path)
    run = project.run
    message_id, token = _sent_to_ada(project)

    replied = run("campaign", "reply", message_id, "--text", "Do you ship to Lyon?")
    assert replied.exit_code == 0, replied.output
    assert replied.output.startswith(f"Recorded a reply to message {message_id}")
    soft = run("campaign", "bounce", message_id, "--soft", "--detail", "452 mailbox full")
    assert soft.exit_code == 0 and "a soft bounce" in soft.output
    complaint = run("campaign", "complaint", message_id)
    assert complaint.exit_code == 0, complaint.output
    assert "Blocked address ada@example.com: complaint" in complaint.output
    assert run("campaign", "bounce", "<nope@crmkit>").exit_code == 3

    out = run("campaign", "unsubscribe", token)
    assert out.exit_code == 0, out.output
    assert out.output.startswith("Already unsubscribed")  # the complaint withdrew it first
    forged = run("campaign", "unsubscribe", token[:-3] + "xyz")
    assert forged.exit_code == 4 and "signature does not match" in forged.output

    report = run("campaign", "report", "Spring sale", "--json")
    assert report.exit_code == 0, report.output
    rows = {(r["position"], r["variant"]): r for r in report.json()["steps"]}
    ada_variant = next(k for k, r in rows.items() if r["sent"] == 1)
    assert rows[ada_variant]["replied"] == 1 and rows[ada_variant]["complained"] == 1
    assert sum(r["sent"] for r in rows.values()) == 1
    text = run("campaign", "report", "Spring sale").output
    assert "Campaign Spring sale (draft): marketing by email" in text
    assert "Step 1 A/B on replied: no winner yet" in text
