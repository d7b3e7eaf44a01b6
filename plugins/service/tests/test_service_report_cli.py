"""``crmkit service report`` as a team lead runs it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crmkit.testing.clock import Clock


def test_report_tables_and_json(service_project: Any, crmkit_clock: Clock) -> None:
    run = service_project.run
    crmkit_clock.set(dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
    assert run("service", "tickets", "add", "Q1", "--team", "support").exit_code == 0
    assert run("service", "tickets", "add", "Q2", "--team", "support").exit_code == 0
    crmkit_clock.set(dt.datetime(2026, 1, 5, 11, tzinfo=dt.UTC))
    assert run("service", "tickets", "reply", "T-1", "-m", "Hi").exit_code == 0
    assert run("service", "tickets", "status", "T-1", "resolved").exit_code == 0
    assert run("service", "csat", "T-1", "--score", "5", "--nps", "10").exit_code == 0
    crmkit_clock.set(dt.datetime(2026, 1, 9, 12, tzinfo=dt.UTC))

    table = run("service", "report", "--since", "2026-01-01")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == "Service report by month, 2026-01-01 to 2026-01-09 (UTC)"
    [support] = [line for line in lines if line.startswith("2026-01  support")]
    assert support.split()[2:6] == ["2", "2.0h", "2.0h", "2.0h"]
    assert "1/1 (100%)" in support and "5.00 (100% sat.)" in support and "+100" in support
    assert any(line.startswith("2026-01  all teams") for line in lines)
    assert "Backlog as of 2026-01-09 12:00 UTC" in table.output

    data = run("service", "report", "--period", "week", "--team", "support", "--json").json()
    assert data["team"] == "support" and data["period"] == "week"
    assert data["backlog"] == [
        {
            "team": "support",
            "under_1d": 0,
            "days_1_3": 0,
            "days_3_7": 1,
            "over_7d": 0,
            "total": 1,
        }
    ]
    assert run("service", "report", "--team", "nobody").exit_code == 4
    assert run("service", "report", "--since", "January").exit_code == 2
