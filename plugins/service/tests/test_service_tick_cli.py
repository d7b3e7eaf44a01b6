"""``crmkit service tick`` as cron runs it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crmkit.testing.clock import Clock


def test_tick_prints_counts_and_exits_0_even_with_nothing_to_do(
    service_project: Any, crmkit_clock: Clock
) -> None:
    idle = service_project.run("service", "tick")
    assert idle.exit_code == 0, idle.output
    assert "Checked 0 running SLA clock(s): 0 warned, 0 breached" in idle.output

    crmkit_clock.set(dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
    added = service_project.run("service", "tickets", "add", "Server down", "--priority", "urgent")
    assert added.exit_code == 0, added.output
    crmkit_clock.set(dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC))
    warned = service_project.run("service", "tick")
    assert warned.exit_code == 0, warned.output
    assert "1 warned, 0 breached, 1 escalation action(s)" in warned.output
    assert "T-1" in warned.output and "notify:duty-manager" in warned.output

    crmkit_clock.set(dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC))
    as_json = service_project.run("service", "tick", "--json")
    assert as_json.exit_code == 0, as_json.output
    data = as_json.json()
    assert (data["checked"], data["warned"], data["breached"], data["failed"]) == (1, 0, 1, 0)
    assert data["notices"] == [
        {
            "key": "T-1",
            "target": "first_response",
            "kind": "breach",
            "due": "2026-01-05T10:00:00+00:00",
            "escalations": [],
        }
    ]
    again = service_project.run("service", "tick", "--json")
    assert (again.json()["warned"], again.json()["breached"]) == (0, 0)
