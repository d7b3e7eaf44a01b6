"""Deals: opening, the stage rules, winning, losing, reopening, contacts and privacy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from crmkit_sales.deal_records import deal_amount
from crmkit_sales.deals import Deals
from crmkit_sales.money import Money
from crmkit_sales.records import format_money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit import Event
from crmkit.crm import CRM
from crmkit.errors import NotFound, PolicyDenied, ValidationError
from crmkit.testing.clock import Clock

UTC = dt.UTC


def count(crm: CRM, entity: str) -> int:
    with crm.backend.read() as reader:
        return reader.count(crm.entity_type(entity))


def capture(crm: CRM, pattern: str = "sales.*") -> list[Event]:
    seen: list[Event] = []
    crm.events.subscribe(pattern, seen.append)
    return seen


@pytest.fixture
def ada(crm: CRM) -> str:
    return crm.contacts.add(first_name="Ada", last_name="Lovelace", email="ada@example.com").id


# -- opening ------------------------------------------------------------------


def test_a_deal_opens_at_the_first_stage_in_the_default_currency(crm: CRM, ada: str) -> None:
    events = capture(crm)
    deal = Deals(crm).add(title="Analytical engine", amount="12500", contact="ada@example.com")
    stored = Deals(crm).get(deal.id)
    assert (stored.pipeline, stored.stage, stored.status) == ("default", "lead", "open")
    assert (stored.amount_minor, stored.currency) == (1250000, "EUR")
    assert deal_amount(stored) == Money(Decimal("12500.00"), "EUR")
    assert format_money(deal_amount(stored)) == "12,500.00 EUR"
    assert stored.contact_id == ada
    [opened] = Deals(crm).history(deal.id)
    assert (opened.from_stage, opened.to_stage, opened.pipeline) == (None, "lead", "default")
    assert [e.name for e in events] == ["sales.deal.created"]
    assert events[0].subject_id == ada
    assert events[0].payload["amount"] == "12500.00"
    [entry] = crm.interactions.timeline(ada)
    assert (entry.kind, entry.source, entry.channel) == ("deal.created", "sales", "system")


def test_a_deal_names_its_organization_stage_and_products(crm: CRM) -> None:
    org = crm.organizations.add(name="Engines Ltd")
    deal = Deals(crm).add(
        title="Support",
        amount=Decimal("900.50"),
        currency="usd",
        stage="quote",
        organization="Engines Ltd",
        owner="alice",
        expected_close="2026-03-31",
        products=["support", "support", "training"],
    )
    stored = Deals(crm).get(deal.id)
    assert stored.organization_id == org.id
    assert (stored.stage, stored.currency, stored.amount_minor) == ("quote", "USD", 90050)
    assert stored.expected_close == dt.date(2026, 3, 31)
    assert stored.products == ["support", "training"]
    assert stored.contact_id is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"amount": "-5"}, "amount", "negative"),
        ({"amount": 12.5}, "amount", "float"),
        ({"amount": "12.505"}, "amount", "decimals"),
        ({"amount": "lots"}, "amount", "not an amount"),
        ({"currency": "euro"}, "currency", "ISO 4217"),
        ({"title": "  "}, "title", "title"),
        ({"pipeline": "enterprise"}, "pipeline", "use one of default"),
        ({"stage": "closing"}, "stage", "lead, prospect, opportunity, quote, negotiation"),
        ({"stage": "won"}, "stage", "crmkit sales deals win"),
        ({"expected_close": "31/03/2026"}, "expected_close", "YYYY-MM-DD"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    crm: CRM, changes: dict[str, object], field: str, words: str
) -> None:
    values: dict[str, object] = {"title": "Engine", "amount": "100", **changes}
    with pytest.raises(ValidationError) as refused:
        Deals(crm).add(**values)  # type: ignore[arg-type]
    assert (refused.value.entity, refused.value.field) == ("sales.deal", field)
    assert words in str(refused.value)
    assert count(crm, "sales.deal") == count(crm, "sales.stage_change") == 0


def test_unknown_contact_or_organization_is_not_found(crm: CRM) -> None:
    with pytest.raises(NotFound) as missing:
        Deals(crm).add(title="Engine", amount="1", contact="nobody@example.com")
    assert missing.value.entity == "contact"
    with pytest.raises(NotFound) as missing:
        Deals(crm).add(title="Engine", amount="1", organization="Nobody Ltd")
    assert missing.value.entity == "organization"
    assert count(crm, "sales.deal") == 0


def test_one_lead_becomes_one_deal(crm: CRM) -> None:
    first = Deals(crm).add(title="Engine", amount="1", lead_id="lead-1")
    with pytest.raises(ValidationError, match=f"already became deal {first.id}"):
        Deals(crm).add(title="Engine again", amount="1", lead_id="lead-1")
    assert count(crm, "sales.deal") == 1


def test_an_erased_person_gets_no_deal(crm: CRM, ada: str) -> None:
    crm.privacy.erase(ada)
    before = (count(crm, "sales.deal"), count(crm, "sales.stage_change"))
    with pytest.raises(PolicyDenied, match="erased"):
        Deals(crm).add(title="Engine", amount="100", contact=ada)
    assert (count(crm, "sales.deal"), count(crm, "sales.stage_change")) == before == (0, 0)
    assert crm.interactions.timeline(ada) == []


def test_a_restricted_person_gets_no_stage_change(crm: CRM, ada: str) -> None:
    deal = Deals(crm).add(title="Engine", amount="100", contact=ada)
    crm.privacy.restrict(ada, reason="disputed")
    with pytest.raises(PolicyDenied, match="restricted"):
        Deals(crm).move(deal.id, "prospect")
    assert Deals(crm).get(deal.id).stage == "lead"
    assert count(crm, "sales.stage_change") == 1


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    currency=st.sampled_from(["EUR", "JPY", "BHD"]),
    minor=st.integers(min_value=0, max_value=10**15),
)
def test_amounts_are_kept_exactly(crm: CRM, currency: str, minor: int) -> None:
    places = {"EUR": 2, "JPY": 0, "BHD": 3}[currency]
    amount = Decimal(minor).scaleb(-places)
    deal = Deals(crm).add(title="Engine", amount=str(amount), currency=currency)
    stored = Deals(crm).get(deal.id)
    assert stored.amount_minor == minor
    assert deal_amount(stored).amount == amount
    shown = format_money(deal_amount(stored))
    assert Decimal(shown.removesuffix(f" {currency}").replace(",", "")) == amount


# -- moving -------------------------------------------------------------------


def test_moves_are_recorded_with_the_clock_time(crm: CRM, ada: str, crmkit_clock: Clock) -> None:
    deals = Deals(crm)
    deal = deals.add(title="Engine", amount="2000", contact=ada)
    events = capture(crm, "sales.deal.stage_changed")
    crmkit_clock.advance(days=3)
    moved = deals.move(deal.id, "opportunity", actor="alice")
    crmkit_clock.advance(days=2, hours=4)
    deals.move(deal.id, "prospect")
    history = deals.history(deal.id)
    assert [(c.from_stage, c.to_stage) for c in history] == [
        (None, "lead"),
        ("lead", "opportunity"),
        ("opportunity", "prospect"),
    ]
    start = dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert [c.changed_at for c in history] == [
        start,
        start + dt.timedelta(days=3),
        start + dt.timedelta(days=5, hours=4),
    ]
    assert history[1].actor == "alice"
    assert moved.stage_entered_at == start + dt.timedelta(days=3)
    assert deals.get(deal.id).stage_entered_at == start + dt.timedelta(days=5, hours=4)
    assert events[0].payload == {
        "deal_id": deal.id,
        "pipeline": "default",
        "from_stage": "lead",
        "to_stage": "opportunity",
        "amount": "2000.00",
        "currency": "EUR",
    }
    assert events[0].subject_id == ada


@pytest.mark.parametrize(
    ("stage", "words"),
    [
        ("lead", "already at stage 'lead'"),
        ("won", "crmkit sales deals win"),
        ("lost", "--reason"),
        ("signed", "use one of lead, prospect, opportunity, quote, negotiation, won, lost"),
    ],
)
def test_illegal_moves_write_nothing(crm: CRM, stage: str, words: str) -> None:
    deal = Deals(crm).add(title="Engine", amount="1")
    with pytest.raises(ValidationError) as refused:
        Deals(crm).move(deal.id, stage)
    assert (refused.value.entity, refused.value.field) == ("sales.deal", "stage")
    assert words in str(refused.value)
    assert count(crm, "sales.stage_change") == 1
    assert Deals(crm).get(deal.id).stage == "lead"


def test_an_unknown_deal_is_not_found(crm: CRM) -> None:
    for call in (
        lambda: Deals(crm).get("0190a0b0-0000-7000-8000-000000000000"),
        lambda: Deals(crm).move("nope", "quote"),
        lambda: Deals(crm).win("nope"),
        lambda: Deals(crm).history("nope"),
    ):
        with pytest.raises(NotFound) as missing:
            call()
        assert missing.value.entity == "sales.deal"


# -- closing and reopening ----------------------------------------------------


def test_winning_stamps_the_close(crm: CRM, ada: str, crmkit_clock: Clock) -> None:
    deals = Deals(crm)
    deal = deals.add(title="Engine", amount="5000", contact=ada)
    deals.move(deal.id, "negotiation")
    events = capture(crm, "sales.deal.*")
    crmkit_clock.advance(days=12, hours=23)
    won = deals.win(deal.id, reason="best fit")
    assert (won.status, won.stage, won.close_reason, won.days_to_close) == (
        "won",
        "won",
        "best fit",
        12,
    )
    assert deals.get(deal.id).closed_at == dt.datetime(2026, 1, 14, 11, 0, tzinfo=UTC)
    assert deals.history(deal.id)[-1].from_stage == "negotiation"
    assert [e.name for e in events] == ["sales.deal.won"]
    assert events[0].payload["days_to_close"] == 12
    assert "deal.won" in [i.kind for i in crm.interactions.timeline(ada)]


def test_losing_needs_a_reason(crm: CRM) -> None:
    deal = Deals(crm).add(title="Engine", amount="5000")
    with pytest.raises(ValidationError) as refused:
        Deals(crm).lose(deal.id, reason="  ")
    assert refused.value.field == "close_reason"
    assert Deals(crm).get(deal.id).status == "open"
    lost = Deals(crm).lose(deal.id, reason="price")
    assert (lost.status, lost.stage, lost.close_reason, lost.days_to_close) == (
        "lost",
        "lost",
        "price",
        0,
    )


def test_a_closed_deal_neither_closes_nor_moves_again(crm: CRM) -> None:
    deal = Deals(crm).add(title="Engine", amount="5000")
    Deals(crm).win(deal.id)
    for call in (
        lambda: Deals(crm).win(deal.id),
        lambda: Deals(crm).lose(deal.id, reason="late"),
        lambda: Deals(crm).move(deal.id, "quote"),
    ):
        with pytest.raises(ValidationError) as refused:
            call()
        assert refused.value.field == "stage"
        assert "the deal is won" in str(refused.value)
        assert f"crmkit sales deals reopen {deal.id}" in str(refused.value)
    assert count(crm, "sales.stage_change") == 2


def test_reopen_returns_to_the_last_open_stage(crm: CRM, ada: str) -> None:
    deals = Deals(crm)
    deal = deals.add(title="Engine", amount="5000", contact=ada)
    deals.move(deal.id, "quote")
    deals.lose(deal.id, reason="budget cut")
    events = capture(crm, "sales.deal.reopened")
    back = deals.reopen(deal.id, reason="budget back")
    stored = deals.get(deal.id)
    assert (stored.status, stored.stage) == ("open", "quote") == (back.status, back.stage)
    assert (stored.closed_at, stored.close_reason, stored.days_to_close) == (None, None, None)
    assert [(c.from_stage, c.to_stage) for c in deals.history(deal.id)][-2:] == [
        ("quote", "lost"),
        ("lost", "quote"),
    ]
    assert events[0].payload["reason"] == "budget back"
    assert events[0].payload["previous_status"] == "lost"
    deals.win(deal.id)
    assert deals.reopen(deal.id, stage="prospect", reason="scope grew").stage == "prospect"


def test_reopen_is_only_for_closed_deals_and_open_stages(crm: CRM) -> None:
    deals = Deals(crm)
    deal = deals.add(title="Engine", amount="5000")
    with pytest.raises(ValidationError, match="only won or lost deals are reopened"):
        deals.reopen(deal.id, reason="why not")
    deals.win(deal.id)
    with pytest.raises(ValidationError, match="closes a deal"):
        deals.reopen(deal.id, stage="lost", reason="oops")
    with pytest.raises(ValidationError) as refused:
        deals.reopen(deal.id, reason=" ")
    assert refused.value.field == "reason"
    assert deals.get(deal.id).status == "won"
    assert count(crm, "sales.stage_change") == 2


# -- contacts, updates, lists ---------------------------------------------------


def test_contacts_of_a_deal_with_roles(crm: CRM, ada: str) -> None:
    bob = crm.contacts.add(first_name="Bob", email="bob@example.com")
    deals = Deals(crm)
    deal = deals.add(title="Engine", amount="5000", contact=ada)
    events = capture(crm, "sales.deal.contact_added")
    deals.add_contact(deal.id, "bob@example.com", role="CFO")
    with pytest.raises(ValidationError, match="already on deal") as refused:
        deals.add_contact(deal.id, bob.id, role="buyer")
    assert refused.value.entity == "sales.deal_contact"
    people = [(c.id, role) for c, role in deals.contacts(deal.id)]
    assert people == [(ada, "primary"), (bob.id, "CFO")]
    assert count(crm, "sales.deal_contact") == 1
    assert events[0].subject_id == bob.id
    assert [i.kind for i in crm.interactions.timeline(bob.id)] == ["deal.contact_added"]


def test_update_changes_fields_and_tells_what_changed(crm: CRM) -> None:
    deals = Deals(crm)
    deal = deals.add(title="Engine", amount="5000", owner="alice")
    events = capture(crm, "sales.deal.updated")
    changed = deals.update(deal.id, amount="6000.5", owner=None, expected_close=dt.date(2026, 6, 1))
    assert (changed.amount_minor, changed.owner) == (600050, None)
    assert deals.get(deal.id).expected_close == dt.date(2026, 6, 1)
    assert events[0].payload["changes"] == {
        "amount_minor": [500000, 600050],
        "owner": ["alice", None],
        "expected_close": [None, "2026-06-01"],
    }
    assert deals.update(deal.id, title="Engine") == deals.get(deal.id)
    assert len(events) == 1
    with pytest.raises(ValidationError, match="more decimals than JPY"):
        deals.update(deal.id, currency="JPY")
    assert deals.update(deal.id, amount="7000", currency="JPY").amount_minor == 7000


def test_list_filters(crm: CRM) -> None:
    deals = Deals(crm)
    org = crm.organizations.add(name="Engines Ltd")
    a = deals.add(title="A", amount="1", owner="alice", organization=org.id)
    b = deals.add(title="B", amount="2", owner="bob", stage="quote")
    c = deals.add(title="C", amount="3", owner="alice")
    deals.win(c.id)
    assert [d.title for d in deals.list(order_by=("title",))] == ["A", "B", "C"]
    assert [d.id for d in deals.list(owner="alice", status="open")] == [a.id]
    assert [d.id for d in deals.list(stage="quote")] == [b.id]
    assert [d.id for d in deals.list(pipeline="default", stage="won")] == [c.id]
    assert [d.id for d in deals.list(organization="Engines Ltd")] == [a.id]
    assert len(deals.list(limit=2)) == 2
    with pytest.raises(ValidationError, match="open, won, lost"):
        deals.list(status="pending")
    with pytest.raises(ValidationError, match="no pipeline has stage 'signed'"):
        deals.list(stage="signed")
    with pytest.raises(ValidationError, match="not a pipeline"):
        deals.list(pipeline="enterprise")


def _two_pipelines(stages: list[str]) -> dict[str, object]:
    return {
        "pipelines": {
            "default": {"stages": [{"name": "lead", "probability": 10}]},
            "enterprise": {
                "stages": [{"name": s, "probability": 10 * (i + 1)} for i, s in enumerate(stages)]
            },
        }
    }


def test_pipelines_come_from_the_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    settings = {"sales": _two_pipelines(["discovery", "pilot", "contract"])}
    with crmkit.open(url, plugins=["sales"], strict=True, plugin_settings=settings) as crm:
        deal = Deals(crm).add(title="Fleet", amount="1", pipeline="enterprise")
        assert (deal.pipeline, deal.stage) == ("enterprise", "discovery")
        with pytest.raises(ValidationError, match="use one of discovery, pilot, contract"):
            Deals(crm).move(deal.id, "quote")
        Deals(crm).move(deal.id, "pilot")
        Deals(crm).lose(deal.id, reason="no budget")
    # The stage the deal was in is dropped from the pipeline: reopening must name one.
    settings = {"sales": _two_pipelines(["discovery", "contract"])}
    with crmkit.open(url, plugins=["sales"], strict=True, plugin_settings=settings) as crm:
        with pytest.raises(ValidationError, match="name one of discovery, contract"):
            Deals(crm).reopen(deal.id, reason="budget back")
        assert Deals(crm).get(deal.id).status == "lost"
        back = Deals(crm).reopen(deal.id, stage="contract", reason="budget back")
        assert (back.status, back.stage) == ("open", "contract")
