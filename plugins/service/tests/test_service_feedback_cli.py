"""``crmkit service csat`` as an agent types it."""

from __future__ import annotations

from typing import Any

from crmkit.testing.clock import Clock


def test_csat_is_recorded_once_after_resolution(service_project: Any, crmkit_clock: Clock) -> None:
    run = service_project.run
    assert run("service", "tickets", "add", "Broken login").exit_code == 0

    early = run("service", "csat", "T-1", "--score", "5")
    assert early.exit_code == 4
    assert "T-1 is new" in early.output

    assert run("service", "tickets", "status", "T-1", "resolved").exit_code == 0
    out_of_range = run("service", "csat", "T-1", "--score", "6")
    assert out_of_range.exit_code == 2  # a usage error: click checks the range

    recorded = run("service", "csat", "T-1", "--score", "4", "--nps", "9", "--comment", "Thanks")
    assert recorded.exit_code == 0, recorded.output
    assert "Recorded feedback on T-1: CSAT 4/5, NPS 9/10." in recorded.output

    twice = run("service", "csat", "T-1", "--nps", "3", "--json")
    assert twice.exit_code == 4
    assert "already has feedback" in twice.output
    assert run("service", "csat", "T-9", "--score", "3").exit_code == 3
    assert run("service", "csat", "T-1").exit_code == 4  # no score at all
