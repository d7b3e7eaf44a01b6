"""``crmkit demo`` with the campaign plugin: its summary, its data and the featured view.

Only the campaign plugin is loaded (``CRMKIT_LOAD_PLUGINS=campaign``), except in
the test that adds crmkit-sales for the attributed conversion.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit.storage import Query
from crmkit.testing.cli_runner import CliResult, CliRunner

ONLY_CAMPAIGN = {"CRMKIT_LOAD_PLUGINS": "campaign"}
SUMMARY = re.compile(
    r"^  campaign: 2 segments, 1 campaign: (\d+) sent, (\d+) excluded \(([^)]*)\), "
    r"(\d+) replies, (\d+) bounces, (\d+) complaint, (\d+) unsubscribe(?:, (\d+) conversions)?$",
    re.MULTILINE,
)


def make_demo(folder: Path, env: dict[str, str]) -> CliResult:
    made = CliRunner(folder.parent)(
        "demo", str(folder), "--contacts", "120", "--organizations", "20", env=env
    )
    assert made.exit_code == 0, str(made)
    return made


def campaign_records(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What the demo stored, by the people's emails (ids and times left out)."""
    with crmkit.open(folder) as crm, crm.backend.read() as reader:
        emails = {r["id"]: r["email"] for r in reader.query(crm.entity_type("contact"), Query())}
        steps = {
            r["id"]: r["position"] for r in reader.query(crm.entity_type("campaign.step"), Query())
        }

        def rows(name: str) -> list[dict[str, Any]]:
            return reader.query(crm.entity_type(name), Query())

        return {
            "deliveries": sorted(
                (emails[r["contact_id"]], steps[r["step_id"]], r["variant"], r["status"])
                for r in rows("campaign.delivery")
            ),
            "exclusions": sorted(
                (emails[r["contact_id"]], steps[r["step_id"]], r["reason"])
                for r in rows("campaign.exclusion")
            ),
            "responses": sorted(
                (emails[r["contact_id"]], r["kind"], r["detail"] or "")
                for r in rows("campaign.response")
            ),
            "segments": sorted((r["name"], r["kind"]) for r in rows("campaign.segment")),
        }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CliResult]:
    """One demo CRM for the tests that only read it."""
    folder = tmp_path_factory.mktemp("demo") / "shop"
    return folder, make_demo(folder, ONLY_CAMPAIGN)


def test_the_demo_prints_the_campaign_summary(demo: tuple[Path, CliResult]) -> None:
    folder, made = demo

    found = SUMMARY.search(made.stdout)

    assert found is not None, made.stdout
    sent, excluded, reasons, replies, bounces, complaints, unsubscribes, conversions = (
        found.groups()
    )
    records = campaign_records(folder)
    assert int(sent) == len(records["deliveries"]) > 50
    assert int(excluded) == len(records["exclusions"])
    assert "consent" in reasons
    kinds = [kind for _, kind, _ in records["responses"]]
    assert int(replies) == kinds.count("reply") >= 1
    assert int(bounces) == kinds.count("bounce_hard") >= 1
    assert (
        (int(complaints), int(unsubscribes))
        == (1, 1)
        == (
            kinds.count("complaint"),
            kinds.count("unsubscribe"),
        )
    )
    assert conversions is None
    assert records["segments"] == [("Customers", "dynamic"), ("Newsletter", "dynamic")]
    variants = {variant for _, step, variant, _ in records["deliveries"] if step == 1}
    assert variants == {"A", "B"}


def test_the_unsubscribe_withdrew_consent_and_stopped_the_follow_up(
    demo: tuple[Path, CliResult],
) -> None:
    folder, _ = demo
    records = campaign_records(folder)
    (unsubscribed,) = [who for who, kind, _ in records["responses"] if kind == "unsubscribe"]

    with crmkit.open(folder) as crm:
        states = crm.privacy.consent.state(unsubscribed)

    assert [(s.purpose, s.channel, s.status, s.source) for s in states] == [
        ("marketing", "email", "withdrawn", "unsubscribe link")
    ]
    assert (unsubscribed, 2, "stopped:unsubscribed") in records["exclusions"]
    assert not [d for d in records["deliveries"] if d[0] == unsubscribed and d[1] == 2]


def test_the_featured_contact_shows_a_campaigns_section(demo: tuple[Path, CliResult]) -> None:
    # With seed 7 the featured contact subscribed to the newsletter (and opted in).
    _, made = demo

    view = made.stdout.split("Single customer view of", 1)[1]

    assert "Campaigns [campaign]" in view
    section = view.split("Campaigns [campaign]", 1)[1]
    assert re.search(r"^messages:\n  CAMPAIGN +STEP +VARIANT +STATUS", section, re.MULTILINE)
    assert re.search(r"^  Spring newsletter +1 +[AB] +sent ", section, re.MULTILINE), section
    assert re.search(r"^  Spring newsletter +reply ", section, re.MULTILINE), section
    assert re.search(r"^  email +granted ", section, re.MULTILINE), section


def test_the_same_seed_gives_the_same_campaign_data(
    demo: tuple[Path, CliResult], tmp_path: Path
) -> None:
    folder, made = demo
    again = make_demo(tmp_path / "again", ONLY_CAMPAIGN)

    assert campaign_records(tmp_path / "again") == campaign_records(folder)
    first, second = SUMMARY.search(made.stdout), SUMMARY.search(again.stdout)
    assert first is not None and second is not None
    assert second.group(0) == first.group(0)


def test_with_sales_a_won_deal_is_credited_to_the_campaign(tmp_path: Path) -> None:
    made = make_demo(tmp_path / "shop", {"CRMKIT_LOAD_PLUGINS": "sales,campaign"})

    found = SUMMARY.search(made.stdout)

    assert found is not None, made.stdout
    assert found.group(8) == "2"
    conversions = [
        r for r in campaign_records(tmp_path / "shop")["responses"] if r[1] == "conversion"
    ]
    assert len(conversions) == 2 and len({who for who, _, _ in conversions}) == 1
