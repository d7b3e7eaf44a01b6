"""``crmkit sales board``, ``forecast`` and ``metrics`` in a project, as a user runs them.

Four deals, default pipeline (negotiation 80% is commit, quote 60% best case):

    Alpha  open  negotiation  10,000.00 EUR  alice  expected 2026-01-15
    Bravo  open  quote         5,000.00 EUR  bob    expected 2026-02-10
    Golf   won                 4,000.00 EUR  alice  closed 2026-01-20 after 20 days
    India  lost                8,000.00 EUR  bob    closed 2026-02-01 after 30 days
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import pytest
from crmkit_sales.entities import Deal

import crmkit
from crmkit.testing.cli_runner import CliResult


class Project(Protocol):
    path: Any

    def run(self, *args: str, input: str | None = None) -> CliResult: ...

    @property
    def runner(self) -> Any: ...


def closed(day: int, month: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 10, 0, tzinfo=dt.UTC)


def store(project: Project, *deals: Deal) -> None:
    with crmkit.open(project.path) as crm:
        etype = crm.entity_type("sales.deal")
        with crm.unit_of_work() as uow:
            uow.tx.add_many(etype, [etype.to_row(deal) for deal in deals])


def deal(title: str, stage: str, amount_minor: int, **values: Any) -> Deal:
    status = stage if stage in ("won", "lost") else "open"
    values.setdefault("currency", "EUR")
    return Deal(title=title, pipeline="default", stage=stage, status=status,
                amount_minor=amount_minor, **values)


@pytest.fixture
def project(sales_project: Project) -> Project:
    store(
        sales_project,
        deal("Alpha", "negotiation", 1_000_000, owner="alice",
             expected_close=dt.date(2026, 1, 15)),
        deal("Bravo", "quote", 500_000, owner="bob", expected_close=dt.date(2026, 2, 10)),
        deal("Golf", "won", 400_000, owner="alice", closed_at=closed(20, 1), days_to_close=20),
        deal("India", "lost", 800_000, owner="bob", closed_at=closed(1, 2), days_to_close=30),
    )
    return sales_project


def board(project: Project, columns: int, *args: str) -> CliResult:
    result: CliResult = project.runner("sales", "board", *args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, str(result)
    return result


def test_board_puts_the_stages_side_by_side_on_a_wide_terminal(project: Project) -> None:
    result = board(project, 200)
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Pipeline default: 2 open deals, total 15,000.00 EUR, weighted 11,000.00 EUR"
    )
    header = next(line for line in lines if "LEAD" in line)
    assert [word for word in header.split() if word.isupper()] == [
        "LEAD", "PROSPECT", "OPPORTUNITY", "QUOTE", "NEGOTIATION",
    ]
    assert any("Alpha" in line and "10,000.00 EUR" in line for line in lines)
    assert any("weighted" in line and "8,000.00 EUR" in line and "3,000.00 EUR" in line
               for line in lines)
    assert all(len(line) <= 200 for line in lines)


def test_board_falls_back_to_one_block_per_stage_when_narrow(project: Project) -> None:
    lines = board(project, 60).stdout.splitlines()
    stage_lines = [line.split()[0] for line in lines if line[:1].isupper() and "%" in line]
    assert stage_lines == ["LEAD", "PROSPECT", "OPPORTUNITY", "QUOTE", "NEGOTIATION"]
    assert all(len(line) <= 60 for line in lines)
    quote = lines.index(next(line for line in lines if line.startswith("QUOTE")))
    assert lines[quote + 1] == "1 deal"
    assert lines[quote + 2].split() == ["total", "5,000.00", "EUR"]
    assert lines[quote + 3].split() == ["weighted", "3,000.00", "EUR"]
    assert lines[quote + 5].split() == ["Bravo", "5,000.00", "EUR"]


def test_board_as_json_and_for_one_owner(project: Project) -> None:
    data = board(project, 100, "--json", "--owner", "alice").json()
    assert (data["pipeline"], data["owner"], data["count"]) == ("default", "alice", 1)
    negotiation = data["columns"][-1]
    assert negotiation["stage"] == "negotiation"
    assert negotiation["top"][0]["title"] == "Alpha"
    assert negotiation["top"][0]["amount"] == {"amount": "10000.00", "currency": "EUR"}
    assert data["columns"][3]["count"] == 0


def test_forecast_table_by_quarter(project: Project) -> None:
    result = project.run("sales", "forecast", "--period", "quarter")
    assert result.exit_code == 0, str(result)
    lines = result.stdout.splitlines()
    assert lines[0] == "Forecast by quarter in EUR (all pipelines)"
    assert lines[1].split()[:4] == ["PERIOD", "WON", "COMMIT", "BEST"]
    assert lines[3].split() == [
        "2026-Q1", "4,000.00", "10,000.00", "15,000.00", "15,000.00", "11,000.00", "2", "1",
    ]
    assert lines[4].split()[0] == "total"


def test_forecast_by_owner_as_json(project: Project) -> None:
    result = project.run("sales", "forecast", "--by-owner", "--json")
    assert result.exit_code == 0, str(result)
    data = result.json()
    assert data["period"] == "month"
    assert [(r["period"], r["owner"], r["pipeline"]["amount"], r["won"]["amount"])
            for r in data["rows"]] == [
        ("2026-01", "alice", "10000.00", "4000.00"),
        ("2026-02", "bob", "5000.00", "0.00"),
    ]
    assert data["total"]["weighted"] == {"amount": "11000.00", "currency": "EUR"}


def test_metrics_text_and_json(project: Project) -> None:
    result = project.run("sales", "metrics")
    assert result.exit_code == 0, str(result)
    text = result.stdout
    assert "win rate       50.0%" in text
    assert "average won    4,000.00 EUR" in text
    assert "days to close  20.0 on average" in text
    # 2 open deals x 4,000.00 x 50% / 20 days
    assert "velocity       200.00 EUR per day" in text
    assert "Stage conversion" in text
    data = project.run("sales", "metrics", "--json").json()
    assert (data["open_count"], data["won_count"], data["lost_count"]) == (2, 1, 1)
    assert data["win_rate"] == "0.5000"
    assert data["velocity"] == {"amount": "200.00", "currency": "EUR"}
    assert [s["to_stage"] for s in data["conversion"]][-1] == "won"


def test_bad_input_exits_with_invalid(project: Project) -> None:
    unknown = project.run("sales", "forecast", "--pipeline", "nope")
    assert unknown.exit_code == 4
    assert "'nope' is not a pipeline" in unknown.output
    assert project.run("sales", "board", "--currency", "EURO").exit_code == 4
    assert project.run("sales", "metrics", "--since", "2026-02-01",
                       "--until", "2026-01-01").exit_code == 4


def test_mixed_currencies_without_rates_name_the_fix(project: Project) -> None:
    store(project, deal("Kilo", "quote", 100_000, currency="USD"))
    result = project.run("sales", "forecast")
    assert result.exit_code == 4
    assert "EUR and USD" in result.output
    assert "[plugins.sales.rates]" in result.output
