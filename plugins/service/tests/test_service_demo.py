"""``crmkit demo`` with the service plugin: the sample desk, its summary and its view.

Only the service plugin is loaded (``CRMKIT_LOAD_PLUGINS=service``), so these
tests see this plugin's demo data alone whatever else is installed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from crmkit_service.demo import load_demo
from crmkit_service.tickets import Tickets

from crmkit.crm import CRM
from crmkit.demo.load import DemoData
from crmkit.testing.cli_runner import CliResult, CliRunner
from crmkit.testing.samples import Samples

ONLY_SERVICE = {"CRMKIT_LOAD_PLUGINS": "service"}
SUMMARY = re.compile(
    r"^  service: (\d+) tickets \((\d+) open, (\d+) breached\), (\d+) CSAT answers, "
    r"(\d+) articles$",
    re.MULTILINE,
)


def make_demo(folder: Path, *extra: str) -> CliResult:
    runner = CliRunner(folder.parent)
    return runner(
        "demo", folder, "--contacts", "120", "--organizations", "20", *extra, env=ONLY_SERVICE
    )


def summary_of(made: CliResult) -> tuple[int, ...]:
    """The service plugin's demo summary: tickets, open, breached, CSAT answers, articles."""
    found = SUMMARY.search(made.stdout)
    assert found is not None, made.stdout
    return tuple(map(int, found.groups()))


def run(folder: Path, *args: str) -> CliResult:
    """``crmkit --project FOLDER ARGS...`` as a user types it."""
    return CliRunner(folder)("--project", str(folder), *args, env=ONLY_SERVICE)


def desk_of(folder: Path) -> list[tuple[Any, ...]]:
    """Every ticket of the demo in FOLDER as what a user sees of it (ids and times left out)."""
    listed = run(folder, "service", "tickets", "list", "--status", "all", "--limit", "0", "--json")
    assert listed.exit_code == 0, str(listed)
    return sorted(
        (t["key"], t["status"], t["priority"], t["channel"], t["subject"], tuple(t["tags"]))
        for t in listed.json()
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CliResult]:
    """One demo CRM for the tests that only read it."""
    folder = tmp_path_factory.mktemp("demo") / "desk"
    made = make_demo(folder)
    assert made.exit_code == 0, str(made)
    return folder, made


def test_the_demo_reports_what_the_desk_holds(demo: tuple[Path, CliResult]) -> None:
    _, made = demo

    tickets, still_open, breached, answers, articles = summary_of(made)

    assert tickets == 80 and articles == 6
    assert 5 <= still_open <= 30
    assert 1 <= breached <= 15
    assert 15 <= answers <= 60


def test_the_featured_contact_has_a_service_section(demo: tuple[Path, CliResult]) -> None:
    _, made = demo

    view = made.stdout.split("Single customer view of", 1)[1]
    section = view.split("Service [service]", 1)[1].split("\n\n", 1)[0]

    assert re.search(r"^open +[1-9]", section, re.MULTILINE), section
    assert re.search(r"^open_tickets:\n  KEY +SUBJECT +STATUS", section, re.MULTILINE), section
    assert re.search(r"^  T-\d+ ", section, re.MULTILINE), section
    assert re.search(r"^last_feedback +ticket T-\d+, csat [1-5]", section, re.MULTILINE), section
    assert re.search(r"^last_resolved +key T-\d+", section, re.MULTILINE), section


def test_the_same_seed_makes_the_same_desk(demo: tuple[Path, CliResult], tmp_path: Path) -> None:
    folder, made = demo
    again = make_demo(tmp_path / "again")
    other = make_demo(tmp_path / "other", "--seed", "8")

    assert again.exit_code == 0 and other.exit_code == 0, str(again) + str(other)
    assert summary_of(again) == summary_of(made)
    assert desk_of(tmp_path / "again") == desk_of(folder)
    assert desk_of(tmp_path / "other") != desk_of(folder)


def test_the_desk_commands_work_on_the_demo(demo: tuple[Path, CliResult]) -> None:
    folder, made = demo
    _, still_open, _, answers, _ = summary_of(made)

    listed = run(folder, "service", "tickets", "list", "--limit", "0")
    report = run(folder, "service", "report", "--json")
    ticked = run(folder, "service", "tick", "--json")

    assert listed.exit_code == 0, str(listed)
    assert listed.stdout.startswith("KEY ")
    assert len(re.findall(r"^T-\d+ ", listed.stdout, re.MULTILINE)) >= still_open
    assert report.exit_code == 0, str(report)
    totals = report.json()["totals"]
    assert sum(period["opened"] for period in totals) == 80
    assert sum(period["csat_answers"] for period in totals) == answers
    assert sum(backlog["total"] for backlog in report.json()["backlog"]) == still_open
    assert ticked.exit_code == 0, str(ticked)
    assert ticked.json()["failed"] == 0
    assert ticked.json()["checked"] >= 1


def test_the_demo_works_with_the_projects_teams_calendar_and_escalation(
    crm: CRM, crmkit_samples: Samples
) -> None:
    """With the test settings: an office calendar, three teams and escalation rules."""
    ids = crm.contacts.add_many(crmkit_samples.contacts(30))
    demo = DemoData(seed=3, contact_ids=tuple(ids), organization_ids=(), featured_contact=ids[0])

    line = load_demo(crm, demo)

    tickets = Tickets(crm).list(status="all", limit=None)
    assert SUMMARY.search(f"  service: {line}"), line
    assert line.startswith("80 tickets (")
    assert len(tickets) == 80
    assert {t.team for t in tickets} <= {"support", "billing", "team-leads"}
    assert all(t.assignee for t in tickets)
    assert {t.sla_policy for t in tickets} <= {
        f"standard/{p}" for p in ("low", "normal", "high", "urgent")
    }
    assert {t.contact_id for t in tickets} <= set(ids)
    section = [s for s in crm.view(ids[0]).sections if s.title == "Service"]
    assert len(section) == 1
    assert section[0].data["open"] >= 1
    assert section[0].data["last_feedback"]["csat"] in range(1, 6)
