"""``crmkit sales deals`` as a user types it: output, --json shapes and exit codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import SalesProject


def ok(project: SalesProject, *args: str) -> Any:
    """Run a command that must succeed with ``--json`` and return what it printed."""
    result = project.run(*args, "--json")
    assert result.exit_code == 0, str(result)
    return result.json()


def add_contact(project: SalesProject, email: str) -> str:
    contact = ok(project, "contacts", "add", "--first-name", "Ada", "--email", email)
    return str(contact["id"])


def test_open_move_and_show_a_deal(sales_project: SalesProject) -> None:
    ada = add_contact(sales_project, "ada@example.com")
    deal = ok(
        sales_project,
        "sales",
        "deals",
        "add",
        "Analytical engine",
        "--amount",
        "12500",
        "--contact",
        "ada@example.com",
        "--expected-close",
        "2026-03-31",
        "--product",
        "engine",
    )
    assert (deal["stage"], deal["status"], deal["amount"], deal["currency"]) == (
        "lead",
        "open",
        "12500.00",
        "EUR",
    )
    assert (deal["amount_minor"], deal["contact_id"], deal["products"]) == (
        1250000,
        ada,
        ["engine"],
    )
    moved = sales_project.run("sales", "deals", "move", deal["id"], "quote")
    assert moved.exit_code == 0, str(moved)
    assert "quote, 12,500.00 EUR" in moved.output

    shown = ok(sales_project, "sales", "deals", "show", deal["id"])
    assert shown["stage"] == "quote"
    assert shown["contacts"] == [
        {"id": ada, "name": "Ada", "email": "ada@example.com", "role": "primary"}
    ]
    assert [(h["from_stage"], h["to_stage"]) for h in shown["history"]] == [
        (None, "lead"),
        ("lead", "quote"),
    ]
    text = sales_project.run("sales", "deals", "show", deal["id"])
    assert text.exit_code == 0, str(text)
    assert "12,500.00 EUR" in text.output
    assert "Stage history:" in text.output and "Contacts:" in text.output

    listed = ok(sales_project, "sales", "deals", "list", "--stage", "quote")
    assert [d["id"] for d in listed] == [deal["id"]]
    table = sales_project.run("sales", "deals", "list")
    assert "Analytical engine" in table.output and "12,500.00 EUR" in table.output
    assert ok(sales_project, "sales", "deals", "list", "--status", "won") == []


def test_win_lose_reopen_and_their_exit_codes(sales_project: SalesProject) -> None:
    deal = ok(sales_project, "sales", "deals", "add", "Engine", "--amount", "99.90")
    did = deal["id"]
    assert sales_project.run("sales", "deals", "move", did, "won").exit_code == 4
    assert sales_project.run("sales", "deals", "move", did, "signed").exit_code == 4
    assert sales_project.run("sales", "deals", "lose", did).exit_code == 2
    missing = sales_project.run("sales", "deals", "win", "no-such-deal")
    assert missing.exit_code == 3 and "sales.deal 'no-such-deal' not found" in missing.output

    won = ok(sales_project, "sales", "deals", "win", did, "--reason", "fit")
    assert (won["status"], won["close_reason"], won["days_to_close"]) == ("won", "fit", 0)
    again = sales_project.run("sales", "deals", "lose", did, "--reason", "late")
    assert again.exit_code == 4
    assert f"crmkit sales deals reopen {did}" in again.output

    reopened = ok(sales_project, "sales", "deals", "reopen", did, "--reason", "new budget")
    assert (reopened["status"], reopened["stage"], reopened["closed_at"]) == ("open", "lead", None)
    lost = ok(sales_project, "sales", "deals", "lose", did, "--reason", "price")
    assert (lost["status"], lost["close_reason"]) == ("lost", "price")
    back = ok(
        sales_project, "sales", "deals", "reopen", did, "--reason", "retry", "--stage", "quote"
    )
    assert back["stage"] == "quote"


def test_deal_contacts_and_refusals(sales_project: SalesProject) -> None:
    ada = add_contact(sales_project, "ada@example.com")
    bob = add_contact(sales_project, "bob@example.com")
    deal = ok(sales_project, "sales", "deals", "add", "Engine", "--amount", "1")
    added = sales_project.run("sales", "deals", "contact", deal["id"], bob, "--role", "CFO")
    assert added.exit_code == 0, str(added)
    twice = sales_project.run("sales", "deals", "contact", deal["id"], bob)
    assert twice.exit_code == 4 and "already on deal" in twice.output
    nobody = sales_project.run("sales", "deals", "contact", deal["id"], "nobody@example.com")
    assert nobody.exit_code == 3
    shown = ok(sales_project, "sales", "deals", "show", deal["id"])
    assert [(c["email"], c["role"]) for c in shown["contacts"]] == [("bob@example.com", "CFO")]

    erased = sales_project.run("privacy", "erase", "ada@example.com", "--yes")
    assert erased.exit_code == 0, str(erased)
    denied = sales_project.run("sales", "deals", "add", "Engine", "--amount", "1", "--contact", ada)
    assert denied.exit_code == 7, str(denied)
    assert [d["id"] for d in ok(sales_project, "sales", "deals", "list")] == [deal["id"]]
    bad = sales_project.run("sales", "deals", "add", "Engine", "--amount", "-1")
    assert bad.exit_code == 4 and "negative" in bad.output
