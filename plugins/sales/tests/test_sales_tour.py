"""A tour of the sales plugin from the command line, as a new user would take it.

From a fresh project (``crmkit init P --plugin sales``): capture a lead,
qualify and score it, convert it, move the deal along, quote it with lines,
send and accept the quote, win the deal, and look at the board, the forecast
and the customer's single view. Each step checks what the user sees and the
exit code, including the mistakes a user makes on the way.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Protocol

from crmkit.testing.cli_runner import CliResult

EXIT_NOT_FOUND = 3
EXIT_INVALID = 4


class Project(Protocol):
    def run(self, *args: str, input: str | None = None) -> CliResult: ...


def ok(project: Project, *args: str) -> CliResult:
    """Run a command that must succeed."""
    result = project.run(*args)
    assert result.exit_code == 0, str(result)
    return result


def test_from_lead_to_won_deal(sales_project: Project) -> None:
    lead = ok(
        sales_project,
        "sales", "leads", "add",
        "--first-name", "Ada", "--last-name", "Lovelace", "--email", "Ada@Example.com",
        "--company", "Analytical Engines", "--source", "referral", "--json",
    ).json()  # fmt: skip
    assert (lead["status"], lead["email"], lead["score"]) == ("new", "ada@example.com", 0)
    lead_id = lead["id"]

    # BANT: all four yes qualifies the lead; the default rules give referral +20, budget +15.
    qualified = ok(
        sales_project,
        "sales", "leads", "qualify", lead_id, "--budget", "--authority", "--need", "--timeline",
    )  # fmt: skip
    assert qualified.stdout.strip() == (
        f"Qualified lead Ada Lovelace ({lead_id}): qualified, score 35"
    )
    scored = ok(sales_project, "sales", "leads", "score", lead_id)
    assert scored.stdout.startswith("Score 35: rule points 35")
    assert "source = 'referral': +20" in scored.stdout

    # Converting makes the contact, the organization and an open deal at the first stage.
    done = ok(
        sales_project, "sales", "leads", "convert", lead_id, "--amount", "12000.00", "--json"
    ).json()
    deal_id = done["deal_id"]
    contact = ok(sales_project, "contacts", "show", "ada@example.com", "--json").json()
    assert contact["id"] == done["contact_id"]
    again = sales_project.run("sales", "leads", "convert", lead_id)
    assert again.exit_code == EXIT_INVALID
    assert f"already converted into deal {deal_id}" in again.output

    for stage in ("prospect", "opportunity", "quote"):
        moved = ok(sales_project, "sales", "deals", "move", deal_id, stage)
        assert moved.stdout.strip() == (
            f"Moved deal Analytical Engines ({deal_id}): {stage}, 12,000.00 EUR"
        )
    typo = sales_project.run("sales", "deals", "move", deal_id, "negociation")
    assert typo.exit_code == EXIT_INVALID
    assert "negotiation" in typo.output

    board = ok(sales_project, "sales", "board").stdout
    assert board.startswith("Pipeline default: 1 open deal, total 12,000.00 EUR, weighted 7,200.00")
    quote_column = board.split("QUOTE", 1)[1].split("NEGOTIATION", 1)[0]
    assert "Analytical Engines" in quote_column
    assert "7,200.00 EUR" in quote_column  # weighted: 60 % of 12,000

    # A quote: drafted, given lines, sent, accepted.
    quote = ok(sales_project, "sales", "quotes", "add", deal_id, "--json").json()
    assert (quote["quote"], quote["status"], quote["total"]) == ("Q-00001v1", "draft", "0.00")
    empty = sales_project.run("sales", "quotes", "send", "Q-00001")
    assert empty.exit_code == EXIT_INVALID
    assert "no lines" in empty.output
    ok(
        sales_project,
        "sales", "quotes", "line", "Q-00001",
        "--product", "Difference engine", "--quantity", "2", "--price", "5000", "--tax", "20",
    )  # fmt: skip
    line = ok(
        sales_project,
        "sales", "quotes", "line", "Q-00001",
        "--product", "Installation", "--quantity", "1", "--price", "1000", "--discount", "50",
    )  # fmt: skip
    assert line.stdout.strip() == (
        "Added line 2 (Installation) to Q-00001v1; quote total 12,500.00 EUR"
    )
    sent = ok(sales_project, "sales", "quotes", "send", "Q-00001")
    assert sent.stdout.strip() == "Quote Q-00001v1 sent (total 12,500.00 EUR, status sent)"
    accepted = ok(sales_project, "sales", "quotes", "accept", "Q-00001")
    assert "status accepted" in accepted.stdout

    won = ok(sales_project, "sales", "deals", "win", deal_id, "--json").json()
    assert (won["status"], won["stage"], won["days_to_close"]) == ("won", "won", 0)
    closed = sales_project.run("sales", "deals", "move", deal_id, "negotiation")
    assert closed.exit_code == EXIT_INVALID
    assert "reopen it first" in closed.output
    missing = sales_project.run("sales", "deals", "show", "no-such-deal")
    assert missing.exit_code == EXIT_NOT_FOUND

    history = ok(sales_project, "sales", "deals", "show", deal_id, "--json").json()["history"]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        (None, "lead"),
        ("lead", "prospect"),
        ("prospect", "opportunity"),
        ("opportunity", "quote"),
        ("quote", "won"),
    ]

    # The board has nothing open any more; the forecast counts the win this month.
    board = ok(sales_project, "sales", "board").stdout
    assert board.startswith("Pipeline default: 0 open deals, total 0.00 EUR")
    forecast = ok(sales_project, "sales", "forecast", "--json").json()
    this_month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    [row] = forecast["rows"]
    assert row["period"] == this_month
    assert row["won"] == {"amount": "12000.00", "currency": "EUR"}
    assert (row["won_count"], row["open_count"]) == (1, 0)
    assert forecast["total"]["won"] == row["won"]

    # The customer's single view tells the story in its Sales section.
    view = ok(sales_project, "view", "ada@example.com").stdout
    section = view.split("Sales [sales]\n", 1)[1]
    assert re.search(r"^won +1$", section, re.MULTILINE)
    assert re.search(r"^won_total +12,000\.00 EUR$", section, re.MULTILINE)
    assert re.search(r"^lead_score +35$", section, re.MULTILINE)
    last_quote = r"^last_quote +quote Q-00001v1, status accepted, total 12,500\.00 EUR$"
    assert re.search(last_quote, section, re.MULTILINE)
    assert "open_deals" not in section
    timeline = ok(sales_project, "timeline", "ada@example.com").stdout
    for kind in ("lead.converted", "deal.stage_changed", "quote.accepted", "deal.won"):
        assert kind in timeline, kind
