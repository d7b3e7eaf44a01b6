"""``crmkit sales quotes`` as a user types it: output, --json shapes, files and exit codes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from crmkit_sales.deals import Deals

import crmkit

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import SalesProject


def _deal(project: SalesProject) -> str:
    """A deal on a contact, opened through the Python API in the project's database."""
    with crmkit.open(project.path) as crm:
        ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
        return Deals(crm).add(title="Analytical engine", amount="12500", contact=ada.id).id


def ok(project: SalesProject, *args: str) -> Any:
    """Run a command that must succeed with ``--json`` and return what it printed."""
    result = project.run(*args, "--json")
    assert result.exit_code == 0, str(result)
    return result.json()


def run(project: SalesProject, *args: str) -> str:
    result = project.run("sales", "quotes", *args)
    assert result.exit_code == 0, str(result)
    return result.output


def test_draft_price_send_and_accept_a_quote(sales_project: SalesProject) -> None:
    deal = _deal(sales_project)
    added = sales_project.run("sales", "quotes", "add", deal, "--valid-until", "2099-12-31")
    assert added.exit_code == 0, str(added)
    assert "Drafted quote Q-00001v1 in EUR" in added.output

    line = ok(
        sales_project,
        "sales", "quotes", "line", "Q-00001",
        "--product", "Engine", "--quantity", "2", "--price", "1999.99",
        "--discount", "10", "--tax", "20", "--description", "Brass",
    )  # fmt: skip
    # 2 x 1,999.99 = 3,999.98; 10 % off: 3,599.982 -> 3,599.98; tax 719.996 -> 720.00
    assert line["position"] == 1
    assert line["total"] == {"amount": "3599.98", "currency": "EUR"}
    assert (line["quantity"], line["discount_pct"], line["tax_pct"]) == ("2", "10", "20")
    text = run(sales_project, "line", "Q-00001", "--product", "Manual", "--quantity", "1",
               "--price", "0.02")  # fmt: skip
    assert "Added line 2 (Manual) to Q-00001v1; quote total 4,320.00 EUR" in text

    shown = ok(sales_project, "sales", "quotes", "show", "Q-00001")
    assert (shown["quote"], shown["status"], shown["deal_id"]) == ("Q-00001v1", "draft", deal)
    assert (shown["subtotal"], shown["discount"], shown["tax"], shown["total"]) == (
        "4000.00", "400.00", "720.00", "4320.00",
    )  # fmt: skip
    assert shown["total_minor"] == 432000
    assert [li["product"] for li in shown["lines"]] == ["Engine", "Manual"]

    table = run(sales_project, "show", "Q-00001")
    assert "Engine" in table and "3,599.98 EUR" in table and "4,320.00 EUR" in table

    assert "Quote Q-00001v1 sent" in run(sales_project, "send", "Q-00001")
    assert "Quote Q-00001v1 accepted" in run(sales_project, "accept", "Q-00001")
    listed = ok(sales_project, "sales", "quotes", "list")
    assert [(q["quote"], q["status"], q["total"]) for q in listed] == [
        ("Q-00001v1", "accepted", "4320.00")
    ]


def test_revise_reject_and_list_versions(sales_project: SalesProject) -> None:
    deal = _deal(sales_project)
    run(sales_project, "add", deal)
    run(sales_project, "line", "Q-00001", "--product", "Engine", "--quantity", "1",
        "--price", "100")  # fmt: skip
    run(sales_project, "send", "Q-00001")
    assert "Q-00001v1 rejected" in run(sales_project, "reject", "Q-00001")
    assert "Quote Q-00001v2 drafted as a revision" in run(sales_project, "revise", "Q-00001")
    run(sales_project, "remove-line", "Q-00001v2", "1")
    assert ok(sales_project, "sales", "quotes", "show", "Q-00001v2")["lines"] == []
    drafts = ok(sales_project, "sales", "quotes", "list", "--status", "draft")
    assert [q["quote"] for q in drafts] == ["Q-00001v2"]
    mine = ok(sales_project, "sales", "quotes", "list", "--deal", deal)
    assert [(q["version"], q["status"]) for q in mine] == [(1, "rejected"), (2, "draft")]
    table = run(sales_project, "list")
    assert "Q-00001v1" in table and "Q-00001v2" in table and "100.00 EUR" in table


def test_render_prints_or_writes_each_format(sales_project: SalesProject, tmp_path: Path) -> None:
    deal = _deal(sales_project)
    run(sales_project, "add", deal)
    run(sales_project, "line", "Q-00001", "--product", "<b>Engine</b>", "--quantity", "1000",
        "--price", "12.5")  # fmt: skip
    markdown = run(sales_project, "render", "Q-00001")
    assert "| **Total** | **12,500.00 EUR** |" in markdown
    document = json.loads(run(sales_project, "render", "Q-00001", "--format", "json"))
    assert document["totals"]["total"] == {"amount": "12500.00", "currency": "EUR"}
    target = tmp_path / "quote.html"
    said = run(sales_project, "render", "Q-00001", "--format", "html", "-o", str(target))
    assert f"Wrote Q-00001v1 as html to {target}" in said
    page = target.read_text(encoding="utf-8")
    assert "&lt;b&gt;Engine&lt;/b&gt;" in page and "<b>" not in page
    assert "12,500.00 EUR" in page


def test_expire_marks_sent_quotes_past_their_day(sales_project: SalesProject) -> None:
    deal = _deal(sales_project)
    run(sales_project, "add", deal, "--valid-until", "2099-01-31")
    run(sales_project, "line", "Q-00001", "--product", "A", "--quantity", "1", "--price", "1")
    run(sales_project, "send", "Q-00001")
    assert "Expired 0 quotes." in run(sales_project, "expire", "--today", "2099-01-31")
    assert "Expired 1 quote." in run(sales_project, "expire", "--today", "2099-02-01")
    assert ok(sales_project, "sales", "quotes", "show", "Q-00001")["status"] == "expired"


def test_errors_end_with_meaningful_exit_codes(sales_project: SalesProject) -> None:
    deal = _deal(sales_project)
    run(sales_project, "add", deal)

    missing = sales_project.run("sales", "quotes", "show", "Q-00042")
    assert missing.exit_code == 3
    assert "Q-00042" in missing.output
    assert sales_project.run("sales", "quotes", "add", "no-such-deal").exit_code == 3

    bad = sales_project.run("sales", "quotes", "line", "Q-00001", "--product", "A",
                            "--quantity", "1", "--price", "1.999")  # fmt: skip
    assert bad.exit_code == 4
    assert "Q-00001v1 line 1" in bad.output and "unit_price" in bad.output
    empty = sales_project.run("sales", "quotes", "send", "Q-00001")
    assert empty.exit_code == 4
    assert "no lines" in empty.output
    early = sales_project.run("sales", "quotes", "accept", "Q-00001")
    assert early.exit_code == 4
    assert "the quote is draft; only a sent quote can be accepted" in early.output
    assert ok(sales_project, "sales", "quotes", "show", "Q-00001")["status"] == "draft"

    usage = sales_project.run("sales", "quotes", "render", "Q-00001", "--format", "pdf")
    assert usage.exit_code == 2


def test_a_restricted_contact_ends_with_exit_code_7(sales_project: SalesProject) -> None:
    deal = _deal(sales_project)
    with crmkit.open(sales_project.path) as crm:
        crm.privacy.restrict("ada@example.com", reason="disputes the data")
    denied = sales_project.run("sales", "quotes", "add", deal)
    assert denied.exit_code == 7, str(denied)
    assert ok(sales_project, "sales", "quotes", "list") == []
