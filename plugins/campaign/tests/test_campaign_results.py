"""Campaign reports: counts per step and variant, exclusions, and A/B verdicts worked by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import pytest
from crmkit_campaign.campaigns import Campaigns
from crmkit_campaign.entities import Delivery, Exclusion, Response, Step
from crmkit_campaign.results import MIN_SAMPLE, Results, decide
from crmkit_campaign.segments import Segments

from crmkit.crm import CRM
from crmkit.errors import NotFound, ValidationError
from crmkit.ids import new_id

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def shop(crm: CRM) -> CRM:
    """Campaign "Launch": step 1 tests variant B on half, step 2 is a plain follow-up."""
    Segments(crm).create("Readers", {"field": "tags", "op": "has", "value": "news"})
    service = Campaigns(crm)
    service.create("Launch", segment="Readers", ab_metric="replied")
    service.add_step("Launch", subject="A", body="A", variant_b_subject="B",
                     variant_b_body="B", split_b=50)
    service.add_step("Launch", subject="Two", body="Two", wait_days=2)
    return crm


def write(crm: CRM, step: Step, plan: Sequence[tuple[str, str, Sequence[str]]]) -> None:
    """Deliveries of ``step``: (variant, status, response kinds) per message."""
    deliveries, responses = [], []
    for variant, status, kinds in plan:
        contact_id = new_id()
        made = Delivery(key=f"{step.id}:{contact_id}", campaign_id=step.campaign_id,
                        step_id=step.id, contact_id=contact_id, variant=variant, status=status,
                        message_id="-", sent_at=T0 if status in ("sent", "bounced") else None)
        deliveries.append(attrs.evolve(made, message_id=f"<{made.id}@crmkit>"))
        for kind in kinds:
            touch = {"conv_first": "first", "conv_last": "last"}.get(kind)
            responses.append(Response(delivery_id=made.id, campaign_id=step.campaign_id,
                                      contact_id=contact_id,
                                      kind="conversion" if touch else kind, touch=touch, at=T0))
    dtype, rtype = crm.entity_type("campaign.delivery"), crm.entity_type("campaign.response")
    with crm.unit_of_work() as uow:
        uow.tx.add_many(dtype, [dtype.to_row(d) for d in deliveries])
        if responses:
            uow.tx.add_many(rtype, [rtype.to_row(r) for r in responses])


def exclude(crm: CRM, step: Step, reasons: Sequence[str]) -> None:
    etype = crm.entity_type("campaign.exclusion")
    rows = []
    for reason in reasons:
        contact_id = new_id()
        rows.append(etype.to_row(Exclusion(campaign_id=step.campaign_id, step_id=step.id,
                                           contact_id=contact_id, reason=reason,
                                           key=f"{step.id}:{contact_id}")))
    with crm.unit_of_work() as uow:
        uow.tx.add_many(etype, rows)


def test_report_counts_per_step_and_variant(shop: CRM) -> None:
    one, two = Campaigns(shop).steps("Launch")
    write(shop, one, [
        ("A", "sent", ["reply", "reply"]),       # one person replying twice counts once
        ("A", "sent", ["unsubscribe"]),
        ("A", "sent", ["conv_first", "conv_last"]),
        ("A", "bounced", ["bounce_hard"]),
        ("A", "failed", []),
        ("A", "intended", []),
        ("B", "sent", ["reply"]),
        ("B", "sent", ["complaint"]),
        ("B", "in_doubt", []),
    ])
    write(shop, two, [("A", "sent", ["conv_last"]), ("A", "sent", [])])
    exclude(shop, one, ["consent", "consent", "no_address", "blocked_address"])
    exclude(shop, two, ["stopped:replied"])

    report = Results(shop).report("Launch")
    got = {(v.position, v.variant): attrs.asdict(v) for v in report.variants}
    assert set(got) == {(1, "A"), (1, "B"), (2, "A")}
    a1 = got[(1, "A")]
    assert (a1["sent"], a1["delivered"], a1["bounced"], a1["failed"], a1["in_doubt"]) == (
        4, 3, 1, 1, 0)
    assert (a1["replied"], a1["unsubscribed"], a1["complained"]) == (1, 1, 0)
    assert (a1["converted_first"], a1["converted_last"]) == (1, 1)
    b1 = got[(1, "B")]
    assert (b1["sent"], b1["delivered"], b1["in_doubt"], b1["replied"], b1["complained"]) == (
        2, 2, 1, 1, 1)
    a2 = got[(2, "A")]
    assert (a2["sent"], a2["converted_first"], a2["converted_last"]) == (2, 0, 1)
    assert report.excluded == {
        1: {"consent": 2, "no_address": 1, "blocked_address": 1}, 2: {"stopped:replied": 1}}
    [verdict] = report.ab
    assert (verdict.position, verdict.winner) == (1, None)
    assert "no winner yet" in verdict.verdict
    data = report.as_dict()
    assert data["campaign"]["name"] == "Launch" and len(data["steps"]) == 3
    assert data["excluded"]["2"] == {"stopped:replied": 1}


def test_an_empty_campaign_reports_zeros(shop: CRM) -> None:
    report = Results(shop).report("Launch")
    assert [(v.position, v.variant, v.sent) for v in report.variants] == [
        (1, "A", 0), (1, "B", 0), (2, "A", 0)]
    assert report.excluded == {}
    with pytest.raises(NotFound):
        Results(shop).report("Nope")


def test_ab_winner_on_replies_worked_by_hand(shop: CRM) -> None:
    one = Campaigns(shop).step("Launch", 1)
    # A: 120 delivered, 12 replied (10%); B: 125 delivered, 25 replied (20%).
    write(shop, one, [("A", "sent", ["reply"] if n < 12 else []) for n in range(120)]
          + [("A", "bounced", ["reply"])] * 5
          + [("B", "sent", ["reply"] if n < 25 else []) for n in range(125)])
    verdict = Results(shop).ab_winner("Launch", 1)
    assert (verdict.metric, verdict.winner) == ("replied", "B")
    assert (verdict.delivered_a, verdict.delivered_b) == (120, 125)
    assert verdict.rate_a == pytest.approx(0.10) and verdict.rate_b == pytest.approx(0.20)
    assert Results(shop).report("Launch").ab[0].winner == "B"


def test_fewer_unsubscribes_win_and_a_small_sample_names_no_winner(shop: CRM) -> None:
    one = Campaigns(shop).step("Launch", 1)
    write(shop, one, [("A", "sent", ["unsubscribe"] if n < 3 else []) for n in range(100)]
          + [("B", "sent", ["unsubscribe"] if n < 9 else []) for n in range(99)])
    verdict = Results(shop).ab_winner("Launch", 1, "unsubscribed")
    assert verdict.winner is None
    assert verdict.verdict == (
        f"no winner yet: each variant needs {MIN_SAMPLE} delivered messages (A has 100, B has 99)")
    assert Results(shop).ab_winner("Launch", 1, "unsubscribed", min_sample=99).winner == "A"
    assert Results(shop).ab_winner("Launch", 1, "replied", min_sample=99).verdict == "a tie"


def test_conversions_decide_when_asked(shop: CRM) -> None:
    one = Campaigns(shop).step("Launch", 1)
    write(shop, one, [("A", "sent", ["conv_first"] if n < 4 else []) for n in range(10)]
          + [("B", "sent", ["conv_last"] if n < 2 else []) for n in range(10)])
    verdict = Results(shop).ab_winner("Launch", 1, "converted", min_sample=10)
    assert (verdict.winner, verdict.rate_a, verdict.rate_b) == ("A", 0.4, 0.2)


def test_ab_winner_refuses_unknown_metric_and_step(shop: CRM) -> None:
    with pytest.raises(ValidationError, match="'opened'"):
        Results(shop).ab_winner("Launch", 1, "opened")
    with pytest.raises(NotFound, match="#3"):
        Results(shop).ab_winner("Launch", 3)


def test_decide_handles_nothing_delivered() -> None:
    verdict = decide(1, "replied", {}, {}, 1)
    assert (verdict.winner, verdict.rate_a, verdict.rate_b) == (None, None, None)
    assert decide(1, "replied", {"A": 5, "B": 5}, {"A": 1}, 5).winner == "A"
