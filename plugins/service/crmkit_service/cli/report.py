"""``crmkit service report``: volumes, response and resolution times, SLA, backlog, CSAT/NPS."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_table

if TYPE_CHECKING:
    from crmkit_service.report import Durations, Figures

FIGURE_COLUMNS = (
    ("period", "PERIOD"),
    ("team", "TEAM"),
    ("opened", "OPENED"),
    ("fr_median", "1ST RESP MEDIAN"),
    ("fr_p90", "1ST RESP P90"),
    ("res_median", "RESOLUTION MEDIAN"),
    ("res_p90", "RESOLUTION P90"),
    ("sla", "SLA MET"),
    ("csat", "CSAT"),
    ("nps", "NPS"),
)
BACKLOG_COLUMNS = (
    ("team", "TEAM"),
    ("under_1d", "<1D"),
    ("days_1_3", "1-3D"),
    ("days_3_7", "3-7D"),
    ("over_7d", ">7D"),
    ("total", "OPEN"),
)
DATE = click.DateTime(formats=["%Y-%m-%d"])


def hours(value: dt.timedelta | None) -> str:
    """``5.5h``; empty for no value."""
    if value is None:
        return ""
    return f"{value.total_seconds() / 3600:.1f}h"


def _times(durations: Durations) -> tuple[str, str]:
    return hours(durations.median), hours(durations.p90)


def figure_row(figures: Figures, team: str) -> dict[str, Any]:
    """One table row: times in wall-clock hours, SLA as met/total and %, CSAT as average."""
    fr_median, fr_p90 = _times(figures.first_response)
    res_median, res_p90 = _times(figures.resolution)
    compliance = figures.sla_compliance
    sla = (
        f"{figures.sla_met}/{figures.resolved_with_sla} ({compliance:.0f}%)"
        if compliance is not None
        else ""
    )
    csat = (
        f"{figures.csat_average:.2f} ({figures.csat_satisfied:.0f}% sat.)"
        if figures.csat_average is not None and figures.csat_satisfied is not None
        else ""
    )
    return {
        "period": figures.period,
        "team": team,
        "opened": figures.opened,
        "fr_median": fr_median,
        "fr_p90": fr_p90,
        "res_median": res_median,
        "res_p90": res_p90,
        "sla": sla,
        "csat": csat,
        "nps": "" if figures.nps is None else f"{figures.nps:+d}",
    }


@click.command("report")
@click.option("--period", type=click.Choice(["month", "week"]), default="month", show_default=True)
@click.option("--team", metavar="TEAM", help="Only this team's tickets.")
@click.option("--since", type=DATE, help="First day (YYYY-MM-DD, UTC); default: 6 months/8 weeks.")
@click.option("--until", type=DATE, help="Last day (YYYY-MM-DD, UTC); default: today.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def report_command(
    period: str,
    team: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    as_json: bool,
) -> None:
    """The service report per period and team.

    Tickets opened; first-response and resolution times (wall-clock hours from
    opening, median and nearest-rank 90th percentile, for replies and
    resolutions in the period); SLA compliance of tickets resolved in the
    period; CSAT average and share satisfied (4-5); NPS (% promoters minus %
    detractors); and the backlog of open tickets by age today.

    \b
    Examples:
      crmkit service report
      crmkit service report --period week --team support --since 2026-01-05
    """
    from crmkit_service.report import Reports

    report = Reports(get_crm()).report(
        period=period,
        since=since.date() if since is not None else None,
        until=until.date() if until is not None else None,
        team=team,
    )
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(
        f"Service report by {report.period}, {report.since.isoformat()} to "
        f"{report.until.isoformat()} (UTC)" + (f", team {report.team}" if report.team else "")
    )
    click.echo("")
    rows = [figure_row(f, f.team or "(no team)") for f in report.rows]
    if report.team is None:
        rows += [figure_row(t, "all teams") for t in report.totals if t.opened or _any(t)]
    rows.sort(key=lambda r: str(r["period"]))
    echo_table(rows, FIGURE_COLUMNS, empty="No tickets in these dates.")
    click.echo("")
    click.echo(f"Backlog as of {report.as_of:%Y-%m-%d %H:%M} UTC (open tickets by age):")
    echo_table(
        [{**b.as_dict(), "team": b.team or "(no team)"} for b in report.backlog],
        BACKLOG_COLUMNS,
        empty="No open tickets.",
    )


def _any(figures: Figures) -> bool:
    return bool(
        figures.first_response.count
        or figures.resolution.count
        or figures.csat_answers
        or figures.nps_answers
    )
