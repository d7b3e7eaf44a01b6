"""The service report, with every figure worked out by hand (on SQLite and PostgreSQL).

The story, in January 2026 (UTC; London office hours Mon-Thu 09:00-17:30):

=====  =======  ========  =========  ==============  ==============  ============
key    team     priority  opened     first reply     resolved        feedback
=====  =======  ========  =========  ==============  ==============  ============
T-1    support  normal    Mon 5 9h   +1h (10:00)     +2h (11:00)     CSAT 5 NPS 10
T-2    support  high      Mon 5 9h   +2h (11:00)     +10h (19:00)    CSAT 4 NPS 7
T-3    support  urgent    Mon 5 9h   +3h (12:00)     +30h (Tue 15h)  CSAT 2 NPS 3
T-4    support  normal    Mon 5 9h   +10h (19:00)    open
T-5    billing  low       Mon 5 9h   +4h (13:00)     +4h (13:00)     CSAT 3 NPS 9
T-6    -        normal    Tue 20 9h  -               open
T-7    support  normal    Sun Feb 1 12h (outside January)
=====  =======  ========  =========  ==============  ==============  ============

T-3 (urgent, 8 business hours) was due Monday 17:00 and resolved Tuesday: missed.
T-2 (high, 16 business hours) was due Tuesday 16:30: met. The report is made on
Monday 2 February at 12:00.
"""

from __future__ import annotations

import datetime as dt

import pytest
from crmkit_service.feedback import Feedback
from crmkit_service.report import (
    Figures,
    Reports,
    ServiceReport,
    median,
    nearest_rank,
    net_promoter_score,
    period_labels,
)
from crmkit_service.tickets import Tickets
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.crm import CRM
from crmkit.errors import ValidationError
from crmkit.testing.clock import Clock

HOUR = dt.timedelta(hours=1)


def at(month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def story(crm: CRM, crmkit_clock: Clock) -> Reports:
    tickets, feedback = Tickets(crm), Feedback(crm)
    crmkit_clock.set(at(1, 5, 9))
    for priority in ("normal", "high", "urgent", "normal"):
        tickets.add("Support question", team="support", priority=priority)
    tickets.add("Invoice question", team="billing", priority="low")
    steps = [
        (at(1, 5, 10), "reply", "T-1"),
        (at(1, 5, 11), "reply", "T-2"),
        (at(1, 5, 11), "resolve", "T-1"),
        (at(1, 5, 12), "reply", "T-3"),
        (at(1, 5, 13), "reply", "T-5"),
        (at(1, 5, 13), "resolve", "T-5"),
        (at(1, 5, 19), "reply", "T-4"),
        (at(1, 5, 19), "resolve", "T-2"),
        (at(1, 6, 15), "resolve", "T-3"),
    ]
    for moment, action, key in steps:
        crmkit_clock.set(moment)
        if action == "reply":
            tickets.reply(key, "On it", author="ana")
        else:
            tickets.set_status(key, "resolved")
    crmkit_clock.set(at(1, 7, 9))
    for key, csat, nps in (("T-1", 5, 10), ("T-2", 4, 7), ("T-3", 2, 3), ("T-5", 3, 9)):
        feedback.record(key, csat=csat, nps=nps)
    crmkit_clock.set(at(1, 20, 9))
    tickets.add("Unsorted question")
    crmkit_clock.set(at(2, 1, 12))
    tickets.add("February question", team="support")
    crmkit_clock.set(at(2, 2, 12))
    return Reports(crm)


def january(reports: Reports) -> ServiceReport:
    return reports.report(since=dt.date(2026, 1, 1), until=dt.date(2026, 1, 31))


def row(report: ServiceReport, period: str, team: str | None) -> Figures:
    [found] = [r for r in report.rows if (r.period, r.team) == (period, team)]
    return found


def test_support_in_january(story: Reports) -> None:
    report = january(story)
    support = row(report, "2026-01", "support")
    assert support.opened == 4
    # First replies after 1, 2, 3 and 10 hours: median (2+3)/2, p90 the 4th of 4.
    assert support.first_response.count == 4
    assert (support.first_response.median, support.first_response.p90) == (2.5 * HOUR, 10 * HOUR)
    # Resolved after 2, 10 and 30 hours: median 10, p90 the 3rd of 3 (ceil(2.7)).
    assert (support.resolution.median, support.resolution.p90) == (10 * HOUR, 30 * HOUR)
    # T-1 and T-2 met their resolution SLA, T-3 missed it.
    assert (support.sla_met, support.resolved_with_sla) == (2, 3)
    assert support.sla_compliance == pytest.approx(200 / 3)
    # CSAT 5, 4, 2: average 11/3, two of three satisfied. NPS 10, 7, 3: 1 promoter,
    # 1 detractor of 3 answers: 0.
    assert support.csat_average == pytest.approx(11 / 3)
    assert support.csat_satisfied == pytest.approx(200 / 3)
    assert (support.nps_answers, support.nps) == (3, 0)


def test_billing_no_team_and_totals_in_january(story: Reports) -> None:
    report = january(story)
    billing = row(report, "2026-01", "billing")
    assert (billing.opened, billing.first_response.median, billing.resolution.p90) == (
        1,
        4 * HOUR,
        4 * HOUR,
    )
    assert (billing.sla_compliance, billing.csat_average, billing.csat_satisfied) == (100, 3, 0)
    assert billing.nps == 100
    unsorted = row(report, "2026-01", None)
    assert (unsorted.opened, unsorted.first_response.count, unsorted.nps) == (1, 0, None)
    assert [r.team for r in report.rows] == ["billing", "support", None]

    [total] = report.totals
    assert (total.period, total.team, total.opened) == ("2026-01", None, 6)
    # First replies 1, 2, 3, 4, 10 hours: median 3, p90 rank ceil(4.5) = 5.
    assert (total.first_response.median, total.first_response.p90) == (3 * HOUR, 10 * HOUR)
    # Resolutions 2, 4, 10, 30 hours: median 7, p90 rank ceil(3.6) = 4.
    assert (total.resolution.median, total.resolution.p90) == (7 * HOUR, 30 * HOUR)
    assert total.sla_compliance == 75
    assert (total.csat_average, total.csat_satisfied) == (3.5, 50)
    # NPS 10, 7, 3, 9: promoters 2, detractors 1 of 4 answers: 25.
    assert total.nps == 25


def test_the_backlog_counts_open_tickets_by_age_today(story: Reports) -> None:
    report = january(story)
    by_team = {b.team: b.as_dict() for b in report.backlog}
    # T-4 (4 weeks old) and T-7 (exactly one day old: the older bucket) in support.
    assert by_team["support"] == {
        "team": "support",
        "under_1d": 0,
        "days_1_3": 1,
        "days_3_7": 0,
        "over_7d": 1,
        "total": 2,
    }
    assert by_team[None]["over_7d"] == 1 and by_team[None]["total"] == 1
    assert "billing" not in by_team


def test_weeks_and_one_team(story: Reports) -> None:
    report = story.report(
        period="week", since=dt.date(2026, 1, 5), until=dt.date(2026, 1, 25), team="support"
    )
    assert [t.period for t in report.totals] == ["2026-W02", "2026-W03", "2026-W04"]
    assert [(r.period, r.team, r.opened) for r in report.rows] == [("2026-W02", "support", 4)]
    assert report.totals[1].opened == 0 and report.totals[1].nps is None
    assert [b.team for b in report.backlog] == ["support"]
    data = report.as_dict()
    assert data["rows"][0]["first_response"] == {
        "count": 4,
        "median_hours": 2.5,
        "p90_hours": 10.0,
    }
    assert data["rows"][0]["sla_compliance"] == 66.7


def test_default_dates_and_bad_arguments(story: Reports) -> None:
    report = story.report()
    assert (report.since, report.until) == (dt.date(2025, 9, 1), dt.date(2026, 2, 2))
    assert [t.period for t in report.totals][-2:] == ["2026-01", "2026-02"]
    assert report.totals[-1].opened == 1
    with pytest.raises(ValidationError, match="no team 'nobody'"):
        story.report(team="nobody")
    with pytest.raises(ValidationError, match="'day' is not a period"):
        story.report(period="day")
    with pytest.raises(ValidationError, match="give a since before until"):
        story.report(since=dt.date(2026, 2, 1), until=dt.date(2026, 1, 1))


# -- the arithmetic -----------------------------------------------------------------------


def test_nearest_rank_and_median_by_hand() -> None:
    hours = [h * HOUR for h in (7, 1, 3, 5, 9, 2, 8, 4, 6, 10)]
    assert nearest_rank(hours, 90) == 9 * HOUR  # rank ceil(9.0) = 9 of 10
    assert nearest_rank(hours[:9], 90) == 9 * HOUR  # rank ceil(8.1) = 9 of 9
    assert nearest_rank(hours[:1], 90) == 7 * HOUR
    assert nearest_rank([], 90) is None
    assert median(hours) == 5.5 * HOUR
    assert median(hours[:3]) == 3 * HOUR


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=60))
def test_p90_is_a_value_that_occurred_with_nine_tenths_at_or_below_it(
    seconds: list[int],
) -> None:
    values = [dt.timedelta(seconds=s) for s in seconds]
    p90 = nearest_rank(values, 90)
    assert p90 in values
    n = len(values)
    assert sum(1 for v in values if v <= p90) >= 0.9 * n
    assert sum(1 for v in values if v < p90) < 0.9 * n


def test_nps_rounds_halves_away_from_zero() -> None:
    assert net_promoter_score([10, 8, 8, 8, 8, 8, 8, 8]) == 13  # 12.5
    assert net_promoter_score([0, 8, 8, 8, 8, 8, 8, 8]) == -13  # -12.5
    assert net_promoter_score([9, 10]) == 100
    assert net_promoter_score([6, 0]) == -100
    assert net_promoter_score([7, 8]) == 0
    assert net_promoter_score([]) is None


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=40))
def test_nps_stays_within_minus_and_plus_one_hundred(scores: list[int]) -> None:
    score = net_promoter_score(scores)
    assert score is not None and -100 <= score <= 100


def test_period_labels_cover_the_dates() -> None:
    assert period_labels(dt.date(2025, 12, 30), dt.date(2026, 1, 5), "week") == [
        "2026-W01",
        "2026-W02",
    ]
    assert period_labels(dt.date(2025, 11, 15), dt.date(2026, 1, 1), "month") == [
        "2025-11",
        "2025-12",
        "2026-01",
    ]
