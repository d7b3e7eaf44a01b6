"""Two ``crmkit service tick`` runs that overlap mark each warning or breach once.

Both runs read the ticket and decide on it before either writes (a barrier holds
them there), on a SQLite file and on PostgreSQL. The run that writes first marks
the target and raises its events; the other finds the ticket changed and leaves
it, without counting a failure.

Office calendar and SLA as in ``test_service_tick``: an urgent ticket opened on
Friday 2026-01-02 at 16:30 London time is due a first response on Monday at 09:30.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import crmkit_service.sla as sla
import pytest
from crmkit_service.calendar import Calendar
from crmkit_service.entities import Ticket
from crmkit_service.settings import ServiceSettings
from crmkit_service.tick import TickReport, tick
from crmkit_service.tickets import Tickets

from crmkit.crm import CRM
from crmkit.testing.clock import Clock

WAIT = 30.0
"""Seconds a run waits for the other before the test gives up (a hang, not a result)."""


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in January 2026, UTC (London time in winter)."""
    return dt.datetime(2026, 1, day, hour, minute, tzinfo=dt.UTC)


def _both_read_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each run, once it has read its ticket, until the other run has read it too."""
    both_read = threading.Barrier(2, timeout=WAIT)
    waited = threading.local()
    calendar_of = sla.calendar_of

    def read_then_wait(settings: ServiceSettings, ticket: Ticket) -> Calendar:
        if not getattr(waited, "done", False):
            waited.done = True
            both_read.wait()
        return calendar_of(settings, ticket)

    monkeypatch.setattr(sla, "calendar_of", read_then_wait)


def _sla_events(crm: CRM) -> list[tuple[str, str]]:
    return [
        (event.name, event.payload.get("action") or event.payload["target"])
        for event in crm.events.read()
        if event.name.startswith(("service.sla.", "service.escalation."))
    ]


@pytest.mark.parametrize(
    ("moment", "kind", "marked", "events"),
    [
        (
            at(2, 16, 30),
            "warned",
            "first_response_warned_at",
            [
                ("service.sla.warning", "first_response"),
                ("service.escalation.applied", "notify:duty-manager"),
            ],
        ),
        (
            at(5, 9, 30),
            "breached",
            "first_response_breached_at",
            [("service.sla.breached", "first_response")],
        ),
    ],
    ids=["warning", "breach"],
)
def test_overlapping_ticks_mark_a_target_once(
    crm: CRM,
    crmkit_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    moment: dt.datetime,
    kind: str,
    marked: str,
    events: list[tuple[str, str]],
) -> None:
    crmkit_clock.set(at(2, 16, 30))
    tickets = Tickets(crm)
    tickets.add("Server down", priority="urgent")
    crmkit_clock.set(moment)
    _both_read_first(monkeypatch)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(tick, crm) for _ in range(2)]
        reports: list[TickReport] = [run.result(WAIT) for run in runs]

    assert sorted(getattr(r, kind) for r in reports) == [0, 1]
    assert [r.failed for r in reports] == [0, 0]
    assert [(n.key, n.target) for r in reports for n in r.notices] == [("T-1", "first_response")]
    assert _sla_events(crm) == events
    assert getattr(tickets.get("T-1"), marked) == moment

    monkeypatch.undo()
    again = tick(crm)
    assert (again.warned, again.breached, again.failed) == (0, 0, 0)
    assert _sla_events(crm) == events
