"""Two people changing the same deal at once: one change is kept, the other is refused.

Both users read the deal and pass the stage rules on what they read before either
writes (a barrier holds them there), on a SQLite file and on PostgreSQL. The deal
then ends where the first one put it, with one stage change and one event for it,
and the second user is told where the deal is now.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import crmkit_sales.pipeline_moves as pipeline_moves
import pytest
from crmkit_sales.deals import Deals
from crmkit_sales.entities import Deal

from crmkit import Event
from crmkit.crm import CRM
from crmkit.errors import ValidationError
from crmkit.uow import UnitOfWork

WAIT = 30.0
"""Seconds a user waits for the other before the test gives up (a hang, not a result)."""

Change = Callable[[UnitOfWork, str], Deal]


def _move_to(stage: str) -> Change:
    return lambda uow, ref: pipeline_moves.move_deal(uow, ref, stage)


def _win(uow: UnitOfWork, ref: str) -> Deal:
    return pipeline_moves.close_deal(uow, ref, "won", None)


def _both_read_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make each change wait, after reading and checking the deal, until the other has too."""
    both_checked = threading.Barrier(2, timeout=WAIT)
    ask_policy = pipeline_moves.require_contact_write

    def checked_then_wait(uow: UnitOfWork, contact_id: str | None, entity: str) -> None:
        ask_policy(uow, contact_id, entity)
        both_checked.wait()

    monkeypatch.setattr(pipeline_moves, "require_contact_write", checked_then_wait)


def _run(crm: CRM, change: Change, ref: str) -> Deal:
    with crm.unit_of_work("ana") as uow:
        return change(uow, ref)


@pytest.mark.parametrize(
    ("first", "second", "ends"),
    [
        (_move_to("prospect"), _move_to("opportunity"), {"prospect", "opportunity"}),
        (_win, _move_to("quote"), {"won", "quote"}),
    ],
    ids=["two-moves", "win-and-move"],
)
def test_of_two_concurrent_changes_of_a_deal_exactly_one_is_kept(
    crm: CRM,
    monkeypatch: pytest.MonkeyPatch,
    first: Change,
    second: Change,
    ends: set[str],
) -> None:
    deals = Deals(crm)
    deal = deals.add(title="Analytical engine", amount="12500")
    events: list[Event] = []
    crm.events.subscribe("sales.deal.*", events.append)
    _both_read_first(monkeypatch)

    with ThreadPoolExecutor(max_workers=2) as pool:
        changes: list[Future[Deal]] = [
            pool.submit(_run, crm, change, deal.id) for change in (first, second)
        ]
        outcomes = [f.exception(WAIT) or f.result() for f in changes]

    kept = [o for o in outcomes if isinstance(o, Deal)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(kept) == 1 and len(refused) == 1, outcomes
    stored = deals.get(deal.id)
    assert stored.stage == kept[0].stage and stored.stage in ends
    assert (refused[0].entity, refused[0].field, refused[0].record) == (
        "sales.deal",
        "stage",
        deal.id,
    )
    assert (
        f"deal 'Analytical engine' changed while you were moving it: it is now at "
        f"{stored.stage!r} ({stored.status}); look at it again and retry"
    ) in str(refused[0])
    history = deals.history(deal.id)
    assert [(h.from_stage, h.to_stage) for h in history] == [(None, "lead"), ("lead", stored.stage)]
    assert len(events) == 1 and events[0].payload["deal_id"] == deal.id


def test_a_refused_change_can_be_retried_on_what_the_deal_is_now(
    crm: CRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    deals = Deals(crm)
    deal = deals.add(title="Difference engine", amount="900")
    _both_read_first(monkeypatch)
    with ThreadPoolExecutor(max_workers=2) as pool:
        changes = [
            pool.submit(_run, crm, _move_to(stage), deal.id) for stage in ("prospect", "quote")
        ]
        refused = [f for f in changes if f.exception(WAIT) is not None]
    assert len(refused) == 1
    monkeypatch.undo()
    retried = deals.move(deal.id, "negotiation")
    assert retried.stage == "negotiation"
    assert len(deals.history(deal.id)) == 3
