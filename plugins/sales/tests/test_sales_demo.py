"""``crmkit demo`` with the sales plugin: the summary, the featured Sales section, the same data
for the same seed, and the board and forecast working on what the demo made."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crmkit.testing.cli_runner import CliResult, CliRunner

SUMMARY = re.compile(
    r"^  sales: (\d+) leads \((\d+) converted\), (\d+) deals \((\d+) won\), "
    r"(\d+) quotes, (\d+) tasks$",
    re.MULTILINE,
)


# Only this plugin's demo data: other installed plugins (campaigns) add deals of their own.
ONLY_SALES = {"CRMKIT_LOAD_PLUGINS": "sales"}
Project = Callable[..., CliResult]


def make_demo(tmp_path: Path, name: str, seed: int = 7) -> tuple[CliResult, Project]:
    """Run ``crmkit demo NAME`` as a user would, and a runner for commands in the demo."""
    folder = tmp_path / name
    made = CliRunner(tmp_path)(
        "demo",
        str(folder),
        "--contacts",
        "120",
        "--organizations",
        "20",
        "--seed",
        str(seed),
        env=ONLY_SALES,
    )
    assert made.exit_code == 0, str(made)
    return made, functools.partial(CliRunner(folder), env=ONLY_SALES)


def deal_facts(project: Project) -> list[tuple[Any, ...]]:
    listed = project("sales", "deals", "list", "--limit", "0", "--json")
    assert listed.exit_code == 0, str(listed)
    return sorted(
        (d["title"], d["amount"], d["currency"], d["stage"], d["status"], d["close_reason"])
        for d in listed.json()
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[CliResult, Project]:
    return make_demo(tmp_path_factory.mktemp("demo"), "first")


def test_the_demo_reports_the_sales_data(demo: tuple[CliResult, Project]) -> None:
    made, project = demo
    found = SUMMARY.search(made.stdout)
    assert found is not None, made.output
    leads, converted, deals, won, quotes, tasks = map(int, found.groups())
    assert (leads, deals, tasks) == (61, 120, 40)
    assert 5 <= converted <= 20
    assert 15 <= won <= 60
    assert 15 <= quotes <= 60
    facts = deal_facts(project)
    assert len(facts) == deals
    assert sum(1 for f in facts if f[4] == "won") == won
    assert {f[3] for f in facts if f[4] == "open"} == {
        "lead",
        "prospect",
        "opportunity",
        "quote",
        "negotiation",
    }
    assert all(f[5] for f in facts if f[4] == "lost"), "every lost deal says why"
    listed = project("sales", "quotes", "list", "--json")
    assert listed.exit_code == 0, str(listed)
    assert len(listed.json()) == quotes
    assert {"sent", "accepted"} <= {q["status"] for q in listed.json()}


def test_the_featured_view_has_a_sales_section(demo: tuple[CliResult, Project]) -> None:
    made, _ = demo
    view = made.stdout.split("Single customer view of", 1)[1]
    section = view.split("Sales [sales]\n", 1)[1]
    lines = {
        "won": r"[1-9]",
        "last_quote": r"quote Q-\d{5}v1, status sent",
        "lead_score": r"\d+$",
        "open_tasks": r"[1-9]",
        "next_task": r"title .+, due \d{4}-\d\d-\d\d$",
    }
    for key, value in lines.items():
        assert re.search(rf"^{key} +{value}", section, re.MULTILINE), key
    # The open deals are a small table under their name.
    table = r"^open_deals:\n  TITLE +STAGE +AMOUNT +EXPECTED CLOSE$"
    assert re.search(table, section, re.MULTILINE)


def test_the_deal_history_lies_in_the_past_year(demo: tuple[CliResult, Project]) -> None:
    _, project = demo
    listed = project("sales", "deals", "list", "--status", "won", "--limit", "1", "--json")
    [deal] = listed.json()
    shown = project("sales", "deals", "show", deal["id"], "--json")
    assert shown.exit_code == 0, str(shown)
    history = shown.json()["history"]
    times = [dt.datetime.fromisoformat(step["changed_at"]) for step in history]
    created, closed = (dt.datetime.fromisoformat(deal[k]) for k in ("created_at", "closed_at"))
    assert times == sorted(times)
    assert [history[0]["from_stage"], history[-1]["to_stage"]] == [None, "won"]
    assert (times[0], times[-1]) == (created, closed)
    now = dt.datetime.now(dt.UTC)
    assert now - dt.timedelta(days=366) < created < closed < now
    assert deal["days_to_close"] == (closed - created).days


def test_the_same_seed_makes_the_same_data(
    demo: tuple[CliResult, Project], tmp_path: Path
) -> None:
    first, first_project = demo
    again, again_project = make_demo(tmp_path, "again")
    assert SUMMARY.findall(again.stdout) == SUMMARY.findall(first.stdout)
    assert deal_facts(again_project) == deal_facts(first_project)


def test_another_seed_makes_other_deals(demo: tuple[CliResult, Project], tmp_path: Path) -> None:
    _, first_project = demo
    _, other_project = make_demo(tmp_path, "other", seed=8)
    assert deal_facts(other_project) != deal_facts(first_project)


def test_board_and_forecast_work_on_the_demo(demo: tuple[CliResult, Project]) -> None:
    _, project = demo
    board = project("sales", "board")
    assert board.exit_code == 0, str(board)
    assert board.stdout.startswith("Pipeline default: ")
    for column in ("LEAD", "PROSPECT", "OPPORTUNITY", "QUOTE", "NEGOTIATION"):
        assert re.search(rf"^{column} +\d+%$", board.stdout, re.MULTILINE), column
    forecast = project("sales", "forecast", "--json")
    assert forecast.exit_code == 0, str(forecast)
    figures = forecast.json()
    listed = project("sales", "deals", "list", "--status", "open", "--limit", "0", "--json")
    open_deals = len(listed.json())
    assert figures["total"]["open_count"] == open_deals
    assert figures["total"]["won_count"] > 0
    assert figures["currency"] == "EUR"
    table = project("sales", "forecast", "--period", "quarter")
    assert table.exit_code == 0, str(table)
    assert re.search(r"^total ", table.stdout, re.MULTILINE)
