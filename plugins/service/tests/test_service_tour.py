"""A tour of the service desk from the command line, as a new user would take it.

A fresh project (``crmkit init P --plugin service``) with a support team added to
its crmkit.toml takes in a customer's email, and the desk lists the ticket,
shows it with its SLA, replies, waits on the customer, takes in their answer,
resolves it, records their CSAT/NPS answer, reports and ticks; the customer's
single view then shows the Service section. Without an ``sla`` table the
standard tier runs on the always-open ``24x7`` calendar: 8h to a first
response and 40h to resolve a normal ticket, 1h and 8h for an urgent one.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from crmkit.testing.cli_runner import CliResult, CliRunner
from crmkit.testing.clock import Clock

UTC = dt.UTC
ONLY_SERVICE = {"CRMKIT_LOAD_PLUGINS": "service"}
TEAM = """
[plugins.service.teams.support]
agents = ["ana", "ben"]
assignment = "round_robin"
"""
FIRST_EMAIL = """\
From: Grace Hopper <grace@navy.example>
To: help@desk.example
Subject: Compiler rejects my program
Message-ID: <first-1@navy.example>
Date: Thu, 01 Jan 2026 12:00:00 +0000
Content-Type: text/plain; charset="utf-8"

Since this morning the compiler stops at line 12 with "unknown symbol".
"""
ANSWER_EMAIL = """\
From: Grace Hopper <grace@navy.example>
To: help@desk.example
Subject: Re: Compiler rejects my program
Message-ID: <answer-2@navy.example>
In-Reply-To: <first-1@navy.example>
Date: Thu, 01 Jan 2026 15:00:00 +0000
Content-Type: text/plain; charset="utf-8"

The log file is attached below. It happens with every program.
"""


class Shell:
    """``crmkit`` typed in the project folder, every command checked for its exit code."""

    def __init__(self, project: Path) -> None:
        self.runner = CliRunner(project)

    def __call__(self, *args: str | Path, code: int = 0) -> CliResult:
        result = self.runner(*args, env=ONLY_SERVICE)
        assert result.exit_code == code, str(result)
        return result


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    made = CliRunner(tmp_path)("init", tmp_path / "desk", "--plugin", "service", env=ONLY_SERVICE)
    assert made.exit_code == 0, str(made)
    config = tmp_path / "desk" / "crmkit.toml"
    config.write_text(config.read_text(encoding="utf-8") + TEAM, encoding="utf-8")
    return Shell(tmp_path / "desk")


def test_a_ticket_from_email_to_feedback(shell: Shell, tmp_path: Path, crmkit_clock: Clock) -> None:
    first = tmp_path / "first.eml"
    first.write_text(FIRST_EMAIL, encoding="utf-8")
    answer = tmp_path / "answer.eml"
    answer.write_text(ANSWER_EMAIL, encoding="utf-8")

    crmkit_clock.set(dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    opened = shell("service", "intake", first, "--team", "support")
    assert opened.stdout.strip() == (
        "Opened T-1 from Grace Hopper <grace@navy.example> (new contact): "
        "Compiler rejects my program"
    )

    listed = shell("service", "tickets", "list")
    [row] = [line for line in listed.stdout.splitlines() if line.startswith("T-1 ")]
    assert row.split()[:3] == ["T-1", "new", "normal"]
    assert "support" in row and "ana" in row and "2026-01-01 20:00" in row

    crmkit_clock.set(dt.datetime(2026, 1, 1, 13, 0, tzinfo=UTC))
    shown = shell("service", "tickets", "show", "T-1")
    assert re.search(r"first response +running +2026-01-01 20:00 +7h 00m", shown.stdout)
    assert re.search(r"resolution +running +2026-01-03 04:00 +39h 00m", shown.stdout)
    assert "Since this morning the compiler stops at line 12" in shown.stdout

    replied = shell("service", "tickets", "reply", "T-1", "-m", "Could you send the log?")
    assert replied.stdout.startswith("Replied on T-1 as ")
    assert shell("service", "tickets", "status", "T-1", "waiting").stdout.strip() == (
        "T-1 is waiting."
    )
    paused = shell("service", "tickets", "show", "T-1", "--json").json()
    assert paused["ticket"]["status"] == "waiting"
    assert paused["sla"]["first_response"]["state"] == "met"
    assert paused["sla"]["resolution"] == {
        "state": "paused",
        "due": None,
        "remaining_seconds": 39 * 3600,
    }

    crmkit_clock.set(dt.datetime(2026, 1, 1, 15, 0, tzinfo=UTC))
    answered = shell("service", "intake", answer)
    assert answered.stdout.strip() == (
        "Added the reply from Grace Hopper <grace@navy.example> to T-1 (status open)."
    )
    resumed = shell("service", "tickets", "show", "T-1", "--json").json()
    # 39h left, counted again from 15:00: due on Saturday at 06:00.
    assert resumed["sla"]["resolution"]["due"] == "2026-01-03T06:00:00+00:00"
    assert [m["direction"] for m in resumed["messages"]] == ["inbound", "outbound", "inbound"]

    crmkit_clock.set(dt.datetime(2026, 1, 1, 17, 0, tzinfo=UTC))
    assert shell("service", "tickets", "status", "T-1", "resolved").stdout.strip() == (
        "T-1 is resolved."
    )
    rated = shell("service", "csat", "T-1", "--score", "5", "--nps", "9", "--comment", "Fast")
    assert rated.stdout.strip() == "Recorded feedback on T-1: CSAT 5/5, NPS 9/10."
    again = shell("service", "csat", "T-1", "--score", "4", code=4)  # one answer per ticket
    assert "already has feedback" in again.output

    report = shell("service", "report", "--json").json()
    [january] = [p for p in report["totals"] if p["period"] == "2026-01"]
    assert january["opened"] == 1
    assert (january["sla_met"], january["resolved_with_sla"]) == (1, 1)
    assert (january["csat_answers"], january["csat_average"], january["nps"]) == (1, 5.0, 100)

    ticked = shell("service", "tick")
    assert ticked.stdout.startswith("Checked 0 running SLA clock(s): 0 warned, 0 breached")

    view = shell("view", "grace@navy.example").stdout
    section = view.split("Service [service]", 1)[1]
    assert re.search(r"^open +0$", section, re.MULTILINE)
    assert re.search(r"^resolved +1$", section, re.MULTILINE)
    assert re.search(r"^last_feedback +ticket T-1, csat 5, nps 9", section, re.MULTILINE)


def test_a_missed_target_is_marked_by_tick_and_shows_as_overdue(
    shell: Shell, crmkit_clock: Clock
) -> None:
    crmkit_clock.set(dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    shell("contacts", "add", "--first-name", "Alan", "--email", "alan@example.com")
    added = shell(
        "service", "tickets", "add", "Bombe is down", "--contact", "alan@example.com",
        "--priority", "urgent", "--team", "support",
    )  # fmt: skip
    assert added.stdout.startswith("Opened T-1: Bombe is down (urgent")

    crmkit_clock.set(dt.datetime(2026, 1, 1, 12, 30, tzinfo=UTC))
    warned = shell("service", "tick", "--json").json()
    assert (warned["warned"], warned["breached"]) == (1, 0)

    crmkit_clock.set(dt.datetime(2026, 1, 1, 13, 5, tzinfo=UTC))
    ticked = shell("service", "tick")
    assert "1 breached" in ticked.stdout
    assert re.search(r"T-1 +breach +first response", ticked.stdout), ticked.stdout
    again = shell("service", "tick", "--json").json()
    assert again["breached"] == 0  # marked once

    overdue = shell("service", "tickets", "list", "--overdue", "--json").json()
    assert [t["key"] for t in overdue] == ["T-1"]
    shown = shell("service", "tickets", "show", "T-1")
    assert re.search(r"first response +breached +2026-01-01 13:00 +-0h 05m", shown.stdout)

    missing = shell("service", "tickets", "show", "T-9", code=3)
    assert "T-9" in missing.output
    refused = shell("service", "tickets", "status", "T-1", "closed", code=4)
    assert "cannot move from new to closed" in refused.output
