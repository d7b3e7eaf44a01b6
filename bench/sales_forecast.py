"""Sales forecast and board: crmkit-sales against hand-written sqlite3 SQL and Python objects.

The SQLite database holds ``--deals`` deals (default 100,000) of the default pipeline,
in one currency (EUR), owned by ten owners (and some by nobody): about 60% open, spread
over the five open stages, 25% won and 15% lost; expected close dates over two years,
close dates over the two years before, and the stage history of every deal (about four
stage changes per deal). Rows are bulk-inserted with ``uow.tx.add_many`` in batches.
The database is built once (seeded) and cached between runs, keyed by size.

Two figures are timed, the sides taking turns run by run (median of ``--runs`` runs
after a warm-up):

``forecast``
    crmkit: ``Forecasts(crm).forecast(period="quarter", by_owner=True)``: two grouped
    aggregates (open deals by pipeline, stage, owner, month, currency; won deals by
    owner, close month, currency) folded into quarters with the stage probabilities.
    Baseline: one hand-written ``sqlite3`` statement computing won, commit, best case,
    pipeline, weighted and the counts per quarter and owner (stage probabilities in a
    ``CASE``), rows read into a dict. For information, also plain ``sqlite3`` running
    crmkit's two grouped statements and the same fold, which shows what crmkit adds to
    the same plan (grouping on plain columns is cheaper than the ``CASE`` per row).
``board``
    crmkit: ``Forecasts(crm).board()``: one aggregate by stage, then one
    ``ORDER BY amount_minor DESC LIMIT 5`` query per open stage. Baseline: the
    aggregate by stage and one window query (``ROW_NUMBER() OVER (PARTITION BY
    stage ...)``) for the five largest deals of every stage. For information, also
    plain ``sqlite3`` with crmkit's plan (the aggregate, then one ``LIMIT`` query per
    stage), which shows what crmkit adds to the same statements.

For information, each is also computed by loading every relevant deal into ``Deal``
objects through the storage reader and summing in Python. Before timing, the script
checks that every way gives the same figures and stops with exit code 2 if they do not.

Target: crmkit within 2x of the hand-written SQL. Exit code 0 when met, 1 when missed.
Run: ``python bench/sales_forecast.py [--deals N] [--runs N] [--rebuild] [--cache DIR]``.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import statistics
import sys
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import _benchkit as kit

import crmkit
from crmkit.storage import Cond, Query

TARGET = 2.0
BATCH = 20_000
TOP = 5
OWNERS = (*(f"rep{i:02d}" for i in range(10)), None)
STAGES = ("lead", "prospect", "opportunity", "quote", "negotiation")
PROBABILITY = {"lead": 10, "prospect": 20, "opportunity": 40, "quote": 60, "negotiation": 80}
COMMIT_AT, BEST_CASE_AT = 70, 40
TODAY = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)

Figures = dict[tuple[str, str | None], tuple[int, ...]]
BoardFigures = dict[str, tuple[int, int, int, tuple[str, ...]]]


# -- the data -------------------------------------------------------------------------


def build(path: Path, count: int) -> None:
    """``count`` deals and their stage history, bulk-inserted through the storage port."""
    from crmkit_sales.entities import Deal, StageChange

    rng = random.Random(kit.SEED)
    with crmkit.open(kit.sqlite_url(path), plugins=["sales"], strict=True) as crm:
        deal_type = crm.entity_type("sales.deal")
        change_type = crm.entity_type("sales.stage_change")
        for start in range(0, count, BATCH):
            deals: list[dict[str, Any]] = []
            changes: list[dict[str, Any]] = []
            for _ in range(min(BATCH, count - start)):
                roll = rng.random()
                status = "open" if roll < 0.6 else "won" if roll < 0.85 else "lost"
                reached = rng.choices(range(5), weights=(30, 25, 20, 15, 10))[0]
                stage = STAGES[reached] if status == "open" else status
                opened = TODAY - dt.timedelta(days=rng.randrange(30, 760))
                closed_at = days = None
                if status != "open":
                    days = rng.randrange(1, 180)
                    closed_at = opened + dt.timedelta(days=days, hours=rng.randrange(8))
                deal = Deal(
                    title=f"Deal {start + len(deals)}",
                    pipeline="default",
                    stage=stage,
                    status=status,
                    amount_minor=int(rng.lognormvariate(9.5, 1.0)) * 100 + rng.randrange(100),
                    currency="EUR",
                    owner=rng.choice(OWNERS),
                    expected_close=(TODAY + dt.timedelta(days=rng.randrange(-60, 670))).date()
                    if rng.random() > 0.03
                    else None,
                    closed_at=closed_at,
                    days_to_close=days,
                    created_at=opened,
                    updated_at=closed_at or opened,
                    stage_entered_at=opened,
                )
                deals.append(deal_type.to_row(deal))
                path_to = [*STAGES[: (5 if status == "won" else reached + 1)]]
                if status != "open":
                    path_to.append(status)
                previous = None
                for step, to_stage in enumerate(path_to):
                    change = StageChange(
                        deal_id=deal.id,
                        pipeline="default",
                        from_stage=previous,
                        to_stage=to_stage,
                        changed_at=opened + dt.timedelta(days=step),
                    )
                    changes.append(change_type.to_row(change))
                    previous = to_stage
            with crm.unit_of_work() as uow:
                uow.tx.add_many(deal_type, deals)
                uow.tx.add_many(change_type, changes)


# -- forecast: three ways -------------------------------------------------------------


def minor(amount: Decimal) -> int:
    """A EUR amount in cents."""
    return int(amount.scaleb(2))


def weighted_cents(amount_x_percent: int) -> int:
    """Σ amount x probability (cents x percent) rounded half-even to cents."""
    return int((Decimal(amount_x_percent) / 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def crmkit_forecast(forecasts: Any) -> Figures:
    result = forecasts.forecast(period="quarter", by_owner=True)
    return {
        (row.period, row.owner): (
            minor(row.won.amount),
            minor(row.commit.amount),
            minor(row.best_case.amount),
            minor(row.pipeline.amount),
            minor(row.weighted.amount),
            row.won_count,
            row.commit_count,
            row.best_case_count,
            row.open_count,
        )
        for row in result.rows
    }


def _quarter(column: str) -> str:
    return (
        f"strftime('%Y', {column}) || '-Q' || "
        f"((CAST(strftime('%m', {column}) AS INTEGER) + 2) / 3)"
    )


PROBABILITY_SQL = "CASE stage " + " ".join(
    f"WHEN '{name}' THEN {value}" for name, value in PROBABILITY.items()
) + " ELSE 0 END"

FORECAST_SQL = f"""
WITH d AS (
    SELECT owner, status, amount_minor, {PROBABILITY_SQL} AS p,
           CASE WHEN status = 'won' THEN {_quarter('closed_at')}
                WHEN expected_close IS NULL THEN 'undated'
                ELSE {_quarter('expected_close')} END AS period
    FROM sales_deal WHERE status IN ('open', 'won')
)
SELECT period, owner,
       SUM(CASE WHEN status = 'won' THEN amount_minor ELSE 0 END),
       SUM(CASE WHEN status = 'open' AND p >= {COMMIT_AT} THEN amount_minor ELSE 0 END),
       SUM(CASE WHEN status = 'open' AND p >= {BEST_CASE_AT} THEN amount_minor ELSE 0 END),
       SUM(CASE WHEN status = 'open' THEN amount_minor ELSE 0 END),
       SUM(CASE WHEN status = 'open' THEN amount_minor * p ELSE 0 END),
       SUM(status = 'won'),
       SUM(status = 'open' AND p >= {COMMIT_AT}),
       SUM(status = 'open' AND p >= {BEST_CASE_AT}),
       SUM(status = 'open')
FROM d GROUP BY period, owner
"""


def sql_forecast(connection: sqlite3.Connection) -> Figures:
    return {
        (period, owner): (won, commit, best, pipe, weighted_cents(wx), *counts)
        for period, owner, won, commit, best, pipe, wx, *counts in connection.execute(
            FORECAST_SQL
        )
    }


def _quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


OPEN_BY_MONTH_SQL = """
SELECT stage, owner, strftime('%Y-%m', expected_close), SUM(amount_minor), COUNT(*)
FROM sales_deal WHERE status = 'open' GROUP BY pipeline, stage, owner, 3, currency
"""
WON_BY_MONTH_SQL = """
SELECT owner, strftime('%Y-%m', closed_at), SUM(amount_minor), COUNT(*)
FROM sales_deal WHERE status = 'won' GROUP BY owner, 2, currency
"""


def _month_quarter(month: str | None) -> str:
    if month is None:
        return "undated"
    year, number = month.split("-")
    return f"{year}-Q{(int(number) - 1) // 3 + 1}"


def sql_forecast_grouped(connection: sqlite3.Connection) -> Figures:
    """crmkit's plan in plain SQL: the same two grouped statements, folded in Python."""
    sums: dict[tuple[str, str | None], list[int]] = {}
    for owner, month, amount, count in connection.execute(WON_BY_MONTH_SQL):
        s = sums.setdefault((_month_quarter(month), owner), [0] * 9)
        s[0] += amount
        s[5] += count
    for stage, owner, month, amount, count in connection.execute(OPEN_BY_MONTH_SQL):
        s = sums.setdefault((_month_quarter(month), owner), [0] * 9)
        p = PROBABILITY[stage]
        s[3] += amount
        s[4] += amount * p
        s[8] += count
        if p >= BEST_CASE_AT:
            s[2] += amount
            s[7] += count
        if p >= COMMIT_AT:
            s[1] += amount
            s[6] += count
    return {key: (*s[:4], weighted_cents(s[4]), *s[5:]) for key, s in sums.items()}


def objects_forecast(crm: Any) -> Figures:
    """Every open or won deal as a ``Deal``, summed in Python."""
    etype = crm.entity_type("sales.deal")
    with crm.backend.read() as reader:
        rows = reader.query(etype, Query(where=Cond("status", "in", ["open", "won"])))
    sums: dict[tuple[str, str | None], list[int]] = {}
    for deal in map(etype.from_row, rows):
        if deal.status == "won":
            period = _quarter_of(deal.closed_at.date())
        else:
            period = "undated" if deal.expected_close is None else _quarter_of(deal.expected_close)
        s = sums.setdefault((period, deal.owner), [0] * 9)
        if deal.status == "won":
            s[0] += deal.amount_minor
            s[5] += 1
            continue
        p = PROBABILITY[deal.stage]
        s[3] += deal.amount_minor
        s[4] += deal.amount_minor * p
        s[8] += 1
        if p >= BEST_CASE_AT:
            s[2] += deal.amount_minor
            s[7] += 1
        if p >= COMMIT_AT:
            s[1] += deal.amount_minor
            s[6] += 1
    return {key: (*s[:4], weighted_cents(s[4]), *s[5:]) for key, s in sums.items()}


# -- board: three ways ----------------------------------------------------------------


def crmkit_board(forecasts: Any) -> BoardFigures:
    board = forecasts.board(top=TOP)
    return {
        c.stage: (c.count, minor(c.total.amount), minor(c.weighted.amount),
                  tuple(d.id for d in c.top))
        for c in board.columns
    }


BOARD_TOTALS_SQL = """
SELECT stage, COUNT(*), SUM(amount_minor) FROM sales_deal
WHERE pipeline = 'default' AND status = 'open' GROUP BY stage
"""
BOARD_TOP_SQL = f"""
SELECT stage, id, title, amount_minor, currency, owner, expected_close FROM (
    SELECT stage, id, title, amount_minor, currency, owner, expected_close,
           ROW_NUMBER() OVER (PARTITION BY stage ORDER BY amount_minor DESC, id) AS rank
    FROM sales_deal WHERE pipeline = 'default' AND status = 'open'
) WHERE rank <= {TOP} ORDER BY stage, rank
"""


def _board_figures(
    totals: Iterable[tuple[str, int, int]], tops: Mapping[str, list[str]]
) -> BoardFigures:
    found = {stage: (count, amount) for stage, count, amount in totals}
    result: BoardFigures = {}
    for stage in STAGES:
        count, amount = found.get(stage, (0, 0))
        weighted = weighted_cents(amount * PROBABILITY[stage])
        result[stage] = (count, amount, weighted, tuple(tops.get(stage, [])))
    return result


def sql_board(connection: sqlite3.Connection) -> BoardFigures:
    totals = connection.execute(BOARD_TOTALS_SQL).fetchall()
    tops: dict[str, list[str]] = {}
    for stage, deal_id, *_card in connection.execute(BOARD_TOP_SQL):
        tops.setdefault(stage, []).append(deal_id)
    return _board_figures(totals, tops)


BOARD_STAGE_TOP_SQL = f"""
SELECT id, title, amount_minor, currency, owner, expected_close FROM sales_deal
WHERE pipeline = 'default' AND status = 'open' AND stage = ?
ORDER BY amount_minor DESC, id LIMIT {TOP}
"""


def sql_board_per_stage(connection: sqlite3.Connection) -> BoardFigures:
    """The board's plan in plain SQL: totals, then one LIMIT query per stage."""
    totals = connection.execute(BOARD_TOTALS_SQL).fetchall()
    tops = {
        stage: [row[0] for row in connection.execute(BOARD_STAGE_TOP_SQL, (stage,))]
        for stage in STAGES
    }
    return _board_figures(totals, tops)


def objects_board(crm: Any) -> BoardFigures:
    """Every open deal of the pipeline as a ``Deal``, grouped and sorted in Python."""
    etype = crm.entity_type("sales.deal")
    where = Cond("status", "eq", "open")
    with crm.backend.read() as reader:
        deals = [etype.from_row(row) for row in reader.query(etype, Query(where=where))]
    totals: dict[str, list[int]] = {}
    by_stage: dict[str, list[Any]] = {}
    for deal in deals:
        if deal.pipeline != "default":
            continue
        t = totals.setdefault(deal.stage, [0, 0])
        t[0] += 1
        t[1] += deal.amount_minor
        by_stage.setdefault(deal.stage, []).append(deal)
    tops = {
        stage: [d.id for d in sorted(group, key=lambda d: (-d.amount_minor, d.id))[:TOP]]
        for stage, group in by_stage.items()
    }
    return _board_figures(((s, c, a) for s, (c, a) in totals.items()), tops)


# -- run ------------------------------------------------------------------------------


def same(name: str, figures: Mapping[str, Any]) -> bool:
    """Whether every way of computing ``name`` gave the same figures (prints the first gap)."""
    (first, expected), *others = figures.items()
    ok = True
    for other, got in others:
        if got != expected:
            ok = False
            keys = sorted(set(expected) | set(got), key=str)
            gap = next(k for k in keys if expected.get(k) != got.get(k))
            print(f"MISMATCH in {name}: {first} {gap}={expected.get(gap)} "
                  f"but {other} {gap}={got.get(gap)}")
    return ok


def main() -> int:
    args = kit.parse_run_args(__doc__, size="deals", default=100_000)
    path = kit.cached_database(
        args.cache, f"sales-forecast-v1-{args.deals}.db", args.rebuild,
        lambda p: build(p, args.deals),
    )
    from crmkit_sales.forecast import Forecasts

    plain = sqlite3.connect(path, check_same_thread=False)
    plain.execute("PRAGMA cache_size=-65536")
    with crmkit.open(kit.sqlite_url(path), plugins=["sales"], strict=True) as crm:
        forecasts = Forecasts(crm)
        checks: dict[str, dict[str, Any]] = {
            "forecast": {
                "crmkit": crmkit_forecast(forecasts),
                "hand-written sqlite3": sql_forecast(plain),
                "hand-written sqlite3, crmkit's grouping": sql_forecast_grouped(plain),
                "Python objects": objects_forecast(crm),
            },
            "board": {
                "crmkit": crmkit_board(forecasts),
                "hand-written sqlite3": sql_board(plain),
                "hand-written sqlite3, LIMIT per stage": sql_board_per_stage(plain),
                "Python objects": objects_board(crm),
            },
        }
        if not all(same(name, figures) for name, figures in checks.items()):
            print("the ways of computing the figures disagree; nothing timed")
            return 2
        samples = {
            "forecast": kit.time_runs(
                {
                    "hand-written sqlite3": lambda: sql_forecast(plain),
                    "crmkit forecast(quarter, by_owner)": lambda: crmkit_forecast(forecasts),
                    "sqlite3, crmkit's grouped statements": lambda: sql_forecast_grouped(
                        plain
                    ),
                    "Deal objects summed in Python": lambda: objects_forecast(crm),
                },
                args.runs,
            ),
            "board": kit.time_runs(
                {
                    "hand-written sqlite3": lambda: sql_board(plain),
                    "crmkit board()": lambda: crmkit_board(forecasts),
                    "sqlite3, one LIMIT query per stage": lambda: sql_board_per_stage(plain),
                    "Deal objects summed in Python": lambda: objects_board(crm),
                },
                args.runs,
            ),
        }
    plain.close()
    print(kit.machine())
    print(f"{args.deals:,} deals in {path}; figures equal on every side "
          f"({len(checks['forecast']['crmkit'])} forecast rows, {len(STAGES)} board columns)")
    ok = True
    for name, cases in samples.items():
        crmkit_case = next(k for k in cases if k.startswith("crmkit"))
        ok &= kit.report(
            f"{name}: median of {args.runs} runs",
            "hand-written sqlite3",
            cases,
            target=TARGET,
            informational=[
                "Deal objects summed in Python",
                "sqlite3, one LIMIT query per stage",
                "sqlite3, crmkit's grouped statements",
            ],
            unit="ms",
            ns_per_unit=1e6,
        )
        crmkit_ms = statistics.median(cases[crmkit_case])
        print(f"  ratio crmkit/hand-SQL: "
              f"{crmkit_ms / statistics.median(cases['hand-written sqlite3']):.2f}x; "
              f"ratio Python-objects/crmkit: "
              f"{statistics.median(cases['Deal objects summed in Python']) / crmkit_ms:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
