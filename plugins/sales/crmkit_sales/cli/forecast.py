"""``crmkit sales board``, ``crmkit sales forecast`` and ``crmkit sales metrics``.

The board prints the open deals of a pipeline as a text kanban: one column per
open stage, side by side when the terminal is wide enough, one block per stage
under each other when it is not. The forecast prints a table of periods; the
metrics a short record and the stage conversion table. Each has ``--json``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from crmkit_sales.forecast import Board, BoardColumn, ForecastRow
    from crmkit_sales.money import Money

GAP = 2
MIN_COLUMN = 24
"""Narrowest column the side-by-side board uses; narrower terminals get blocks."""
MAX_COLUMN = 40
DAY = click.DateTime(formats=["%Y-%m-%d"])


def money_text(money: Money | None) -> str:
    """``Money(12500.00, EUR)`` as ``12,500.00 EUR``; nothing for ``None``."""
    from crmkit_sales.records import format_money

    return "" if money is None else format_money(money)


def amount_text(money: Money) -> str:
    """The amount alone, grouped by thousands (``12,500.00``), for tables in one currency."""
    return f"{money.amount:,}"


def percent_text(rate: Any) -> str:
    """A ratio such as ``Decimal("0.6667")`` as ``66.7%``; nothing for ``None``."""
    return "" if rate is None else f"{rate * 100:.1f}%"


def _day(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else value.date()


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _spread(left: str, right: str, width: int) -> str:
    """``left`` and ``right`` on one line of ``width``, ``left`` shortened to make room."""
    room = width - len(right) - 2
    if room < 4:
        return _fit(f"{left} {right}", width)
    return f"{_fit(left, room).ljust(room)}  {right}"


def column_lines(column: BoardColumn, width: int) -> list[str]:
    """One board column as lines of at most ``width`` characters."""
    deals = "1 deal" if column.count == 1 else f"{column.count} deals"
    lines = [
        _spread(column.stage.upper(), f"{column.probability}%", width),
        _fit(deals, width),
        _spread("total", money_text(column.total), width),
        _spread("weighted", money_text(column.weighted), width),
        "-" * width,
    ]
    lines.extend(_spread(deal.title, money_text(deal.amount), width) for deal in column.top)
    if column.count > len(column.top) and column.top:
        lines.append(f"+{column.count - len(column.top)} more")
    return lines


def board_lines(board: Board, width: int) -> list[str]:
    """The whole board fitted to ``width``: columns side by side, or blocks when narrow."""
    owner = f", owner {board.owner}" if board.owner else ""
    deals = "1 open deal" if board.count == 1 else f"{board.count} open deals"
    title = f"Pipeline {board.pipeline}{owner}: {deals}"
    sums = f"total {money_text(board.total)}, weighted {money_text(board.weighted)}"
    joined = f"{title}, {sums}"
    lines = [joined, ""] if len(joined) <= width else [title, sums, ""]
    count = len(board.columns)
    side_by_side = (width - GAP * (count - 1)) // count if count else 0
    if side_by_side >= MIN_COLUMN:
        col_width = min(MAX_COLUMN, side_by_side)
        blocks = [column_lines(column, col_width) for column in board.columns]
        height = max(len(block) for block in blocks)
        for i in range(height):
            cells = [(block[i] if i < len(block) else "").ljust(col_width) for block in blocks]
            lines.append((" " * GAP).join(cells).rstrip())
        return lines
    block_width = max(10, min(width, MAX_COLUMN + 20))
    for column in board.columns:
        lines.extend(column_lines(column, block_width))
        lines.append("")
    return lines[:-1] if lines[-1] == "" else lines


def _forecast_cells(row: ForecastRow, by_owner: bool) -> dict[str, Any]:
    from crmkit_sales.forecast import TOTAL

    cells: dict[str, Any] = {
        "period": row.period,
        "won": amount_text(row.won),
        "commit": amount_text(row.commit),
        "best_case": amount_text(row.best_case),
        "pipeline": amount_text(row.pipeline),
        "weighted": amount_text(row.weighted),
        "open": row.open_count,
        "won_count": row.won_count,
    }
    if by_owner and row.period != TOTAL:
        cells["owner"] = row.owner if row.owner is not None else "(none)"
    return cells


def forecast_columns(by_owner: bool) -> Sequence[tuple[str, str]]:
    """The forecast table's ``(key, header)`` columns."""
    owner = [("owner", "OWNER")] if by_owner else []
    return [
        ("period", "PERIOD"),
        *owner,
        ("won", "WON"),
        ("commit", "COMMIT"),
        ("best_case", "BEST CASE"),
        ("pipeline", "PIPELINE"),
        ("weighted", "WEIGHTED"),
        ("open", "OPEN DEALS"),
        ("won_count", "WON DEALS"),
    ]


# -- commands -----------------------------------------------------------------


@click.command("board")
@click.option("--pipeline", metavar="NAME", help="The pipeline to show (default: the default one).")
@click.option("--owner", metavar="USER", help="Only deals owned by USER.")
@click.option("--top", default=5, show_default=True, type=click.IntRange(min=0),
              help="Largest deals listed per stage.")
@click.option("--currency", metavar="CODE", help="Currency of the totals (default: settings).")
@click.option("--json", "as_json", is_flag=True, help="Print the board as JSON.")
def board_command(
    pipeline: str | None, owner: str | None, top: int, currency: str | None, as_json: bool
) -> None:
    """Show the open deals of a pipeline as a board, one column per stage.

    Each column gives the stage's probability, its deal count, total and
    weighted total (amount x probability), and its largest deals.

    \b
    Examples:
      crmkit sales board
      crmkit sales board --pipeline enterprise --owner alice --top 3
    """
    from crmkit.cli.context import get_crm
    from crmkit.cli.output import echo_json
    from crmkit_sales.forecast import Forecasts

    board = Forecasts(get_crm()).board(pipeline, owner=owner, top=top, currency=currency)
    if as_json:
        echo_json(board)
        return
    width = shutil.get_terminal_size((100, 24)).columns
    for line in board_lines(board, width):
        click.echo(line)


@click.command("forecast")
@click.option("--period", type=click.Choice(["month", "quarter"]), default="month",
              show_default=True, help="Rows per month or per quarter (2026-Q1).")
@click.option("--by-owner", is_flag=True, help="One row per period and owner.")
@click.option("--pipeline", metavar="NAME", help="Only this pipeline (default: all).")
@click.option("--start", type=DAY, metavar="YYYY-MM-DD", help="From this day on.")
@click.option("--end", type=DAY, metavar="YYYY-MM-DD", help="Up to this day (inclusive).")
@click.option("--currency", metavar="CODE", help="Currency of the figures (default: settings).")
@click.option("--json", "as_json", is_flag=True, help="Print the forecast as JSON.")
def forecast_command(
    period: str,
    by_owner: bool,
    pipeline: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    currency: str | None,
    as_json: bool,
) -> None:
    """Forecast sales per month or quarter: won, commit, best case, pipeline, weighted.

    Open deals count in the period of their expected close date (no date:
    the "undated" row), won deals in the period they were won. Commit and best
    case follow the stage probabilities and commit_at/best_case_at in
    [plugins.sales]; weighted sums amount x stage probability.

    \b
    Examples:
      crmkit sales forecast --period quarter --by-owner
      crmkit sales forecast --start 2026-01-01 --end 2026-12-31 --currency USD --json
    """
    from crmkit.cli.context import get_crm
    from crmkit.cli.output import echo_json, echo_table
    from crmkit_sales.forecast import Forecasts

    forecast = Forecasts(get_crm()).forecast(
        period="quarter" if period == "quarter" else "month",
        by_owner=by_owner,
        pipeline=pipeline,
        start=_day(start),
        end=_day(end),
        currency=currency,
    )
    if as_json:
        echo_json(forecast)
        return
    scope = f"pipeline {forecast.pipeline}" if forecast.pipeline else "all pipelines"
    click.echo(f"Forecast by {forecast.period} in {forecast.currency} ({scope})")
    if not forecast.rows:
        click.echo("No open or won deals in this window.")
        return
    rows = [_forecast_cells(row, by_owner) for row in (*forecast.rows, forecast.total)]
    echo_table(rows, forecast_columns(by_owner))


@click.command("metrics")
@click.option("--pipeline", metavar="NAME", help="The pipeline (default: the default one).")
@click.option("--owner", metavar="USER", help="Only deals owned by USER (not stage conversion).")
@click.option("--since", type=DAY, metavar="YYYY-MM-DD", help="Deals closed from this day on.")
@click.option("--until", type=DAY, metavar="YYYY-MM-DD", help="Deals closed up to this day.")
@click.option("--currency", metavar="CODE", help="Currency of the amounts (default: settings).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def metrics_command(
    pipeline: str | None,
    owner: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    currency: str | None,
    as_json: bool,
) -> None:
    """Show win rate, average won deal, days to close, velocity and stage conversion.

    Velocity is the amount expected to be won per day: open deals x average
    won amount x win rate / average days to close. Stage conversion is the
    share of deals that reached a stage and then reached the next one.

    \b
    Examples:
      crmkit sales metrics
      crmkit sales metrics --since 2026-01-01 --owner alice --json
    """
    from crmkit.cli.context import get_crm
    from crmkit.cli.output import echo_json, echo_record, echo_table
    from crmkit_sales.forecast import Forecasts

    metrics = Forecasts(get_crm()).metrics(
        pipeline=pipeline, since=_day(since), until=_day(until), owner=owner, currency=currency
    )
    if as_json:
        echo_json(metrics)
        return
    velocity = money_text(metrics.velocity)
    days = metrics.average_days_to_close
    echo_record(
        {
            "pipeline": metrics.pipeline,
            "owner": metrics.owner,
            "open deals": metrics.open_count,
            "won": metrics.won_count,
            "lost": metrics.lost_count,
            "win rate": percent_text(metrics.win_rate),
            "average won": money_text(metrics.average_won),
            "days to close": "" if days is None else f"{days} on average",
            "velocity": f"{velocity} per day" if velocity else "",
        }
    )
    click.echo("")
    click.echo("Stage conversion")
    echo_table(
        [
            {
                "from": step.from_stage,
                "to": step.to_stage,
                "reached": step.reached,
                "advanced": step.advanced,
                "rate": percent_text(step.rate),
            }
            for step in metrics.conversion
        ],
        [("from", "FROM"), ("to", "TO"), ("reached", "REACHED"), ("advanced", "ADVANCED"),
         ("rate", "RATE")],
    )
