"""Lead scoring: rule points with their reasons, the learned score from history, the blend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from crmkit_sales.deals import Deals
from crmkit_sales.leads import Leads
from crmkit_sales.scoring import MIN_CLOSED, blend
from crmkit_sales.tasks import Tasks
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Event
from crmkit.crm import CRM
from crmkit.testing.clock import Clock
from crmkit.testing.crm_factory import CrmFactory

Opener = Callable[..., CRM]


@pytest.fixture(params=["sqlite", "postgresql"])
def open_crm(request: pytest.FixtureRequest, crm_factory: CrmFactory) -> Opener:
    """Open a CRM with the sales plugin and the given ``[plugins.sales.scoring]`` table."""

    def opener(**scoring: Any) -> CRM:
        return crm_factory(
            ["sales"], url=request.param, plugin_settings={"sales": {"scoring": scoring}}
        )

    return opener


def test_every_rule_gives_a_reason_naming_it_and_its_points(crm: CRM) -> None:
    lead = Leads(crm).add(first_name="Ada", source="Referral", budget=False)
    score = Leads(crm).explain(lead.id)
    assert [(r.rule, r.points) for r in score.reasons] == [
        ("source = 'referral'", 20),
        ("budget = True", 0),
        ("email activity within 30 days, at most 20", 0),
    ]
    assert score.reasons[1].detail == "budget is 'no'"
    assert "no contact yet" in score.reasons[2].detail
    assert str(score.reasons[0]) == "source = 'referral': +20 (source is 'Referral')"
    assert (score.points, score.learned, score.total) == (20, None, 20)
    assert Leads(crm).get(lead.id).score == 0  # explain writes nothing


def test_email_activity_on_the_contact_counts_within_the_window_up_to_max(
    crm: CRM, crmkit_clock: Clock
) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    lead = Leads(crm).add(first_name="Ada", email="ada@example.com", source="web")
    now = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    for days_ago in (1, 2, 3):
        crm.interactions.log(ada.id, channel="email", occurred_at=now - dt.timedelta(days_ago))
    crm.interactions.log(ada.id, channel="email", occurred_at=now - dt.timedelta(days=45))
    crm.interactions.log(ada.id, channel="phone", occurred_at=now - dt.timedelta(days=1))
    email = Leads(crm).explain(lead.id).reasons[2]
    assert (email.points, email.detail) == (
        15,
        "3 email interactions in the last 30 days on the contact with the lead's email",
    )
    for days_ago in (4, 5):
        crm.interactions.log(ada.id, channel="email", occurred_at=now - dt.timedelta(days_ago))
    assert Leads(crm).explain(lead.id).reasons[2].points == 20  # 5 x 5, capped at 20


def test_completed_lead_tasks_count_for_a_task_rule(open_crm: Opener) -> None:
    crm = open_crm(
        rules=[
            {"activity": "task", "within_days": 7, "points": 10},
            {"field": "company", "not_null": True, "points": 5},
            {"field": "title", "in": ["CTO", "CEO"], "points": 7},
        ],
        learned_weight=0,
    )
    lead = Leads(crm).add(first_name="Ada", company="Acme", title="ceo")
    tasks = Tasks(crm)
    done = [tasks.add(f"Call {n}", due="2026-01-02", lead=lead.id) for n in range(3)]
    for task in done[:2]:
        tasks.complete(task.id)
    score = Leads(crm).score(lead.id)
    assert [(r.rule, r.points) for r in score.reasons] == [
        ("task activity within 7 days", 20),
        ("company is set", 5),
        ("title in ('CTO', 'CEO')", 7),
    ]
    assert score.reasons[0].detail == "2 tasks completed in the last 7 days"
    assert (score.total, Leads(crm).get(lead.id).score) == (32, 32)


def _history(crm: CRM, *, won: int, lost: int, disqualified: int, open_: int) -> None:
    """Closed leads from referrals owned by alice: ``won`` won, the rest lost or dropped."""
    leads, deals = Leads(crm), Deals(crm)
    outcomes = ["won"] * won + ["lost"] * lost + ["dropped"] * disqualified + ["open"] * open_
    for n, outcome in enumerate(outcomes):
        lead = leads.add(
            first_name=f"L{n}", email=f"l{n}@example.com", source="referral", owner="alice"
        )
        if outcome == "dropped":
            leads.disqualify(lead.id, "no budget")
            continue
        deal = leads.convert(lead.id).deal
        if outcome == "won":
            deals.win(deal.id)
        elif outcome == "lost":
            deals.lose(deal.id, reason="price")


def test_the_learned_score_is_the_smoothed_won_rate_of_closed_leads(open_crm: Opener) -> None:
    crm = open_crm(rules=[{"field": "source", "equals": "referral", "points": 20}])
    _history(crm, won=12, lost=2, disqualified=1, open_=2)
    events: list[Event] = []
    crm.events.subscribe("sales.lead.scored", events.append)
    lead = Leads(crm).add(first_name="New", source="referral", owner="bob", budget=True)
    score = Leads(crm).score(lead.id)
    by_field = {r.field: r for r in score.learned_reasons}
    assert set(by_field) == {"source", "owner", "budget"}  # fields the lead has a value for
    source = by_field["source"]
    assert (source.won, source.closed, source.counted) == (12, 15, True)
    assert str(source) == "source=referral: 12 of 15 closed leads won (76.5%)"
    assert (by_field["owner"].closed, by_field["owner"].counted) == (0, False)
    assert str(by_field["budget"]) == (
        f"budget=yes: 0 of 0 closed leads won (fewer than {MIN_CLOSED}, not counted)"
    )
    assert score.learned == pytest.approx(13 / 17 * 100)
    # total = round(0.5 * 20 + 0.5 * 76.47) = round(48.235)
    assert (score.points, score.total) == (20, 48)
    assert Leads(crm).get(lead.id).score == 48
    [event] = events
    assert (event.payload["score"], event.payload["previous_score"]) == (48, 0)
    assert event.payload["reasons"] == [
        "source = 'referral': +20",
        "learned source: 12 of 15 closed leads won",
        "learned owner: 0 of 0 closed leads won",
        "learned budget: 0 of 0 closed leads won",
    ]


def test_the_learned_weight_sets_how_much_history_counts(open_crm: Opener) -> None:
    crm = open_crm(rules=[], learned_weight=1)
    _history(crm, won=1, lost=4, disqualified=0, open_=0)
    lead = Leads(crm).add(first_name="New", source="referral")
    score = Leads(crm).explain(lead.id)
    assert score.learned == pytest.approx(2 / 7 * 100)
    assert score.total == 29


def test_a_learned_weight_of_zero_turns_history_off(open_crm: Opener) -> None:
    crm = open_crm(learned_weight=0)
    _history(crm, won=5, lost=0, disqualified=0, open_=0)
    lead = Leads(crm).add(first_name="New", source="referral")
    score = Leads(crm).explain(lead.id)
    assert (score.learned, score.learned_reasons, score.total) == (None, (), 20)


@given(
    points=st.integers(min_value=-100, max_value=200),
    learned=st.floats(min_value=0, max_value=100),
    weight=st.floats(min_value=0, max_value=1),
)
def test_the_total_lies_between_the_points_and_the_learned_score(
    points: int, learned: float, weight: float
) -> None:
    total = blend(points, learned, weight)
    assert min(points, learned) - 0.5 <= total <= max(points, learned) + 0.5
    assert blend(points, None, weight) == points
    assert blend(points, learned, 0) == points
