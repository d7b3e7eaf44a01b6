"""``crmkit sales leads``: the commands as a user types them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import SalesProject


def add(project: SalesProject, *args: str) -> dict[str, Any]:
    result = project.run("sales", "leads", "add", *args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = result.json()
    return data


def test_add_list_show_and_update(sales_project: SalesProject) -> None:
    added = sales_project.run(
        "sales",
        "leads",
        "add",
        "--first-name",
        "Ada",
        "--email",
        "ADA@example.com",
        "--company",
        "Acme",
        "--source",
        "referral",
        "--budget",
    )
    assert added.exit_code == 0, added.output
    assert added.output.startswith("Added lead Ada (")
    add(sales_project, "--company", "Initech", "--owner", "bob")
    listed = sales_project.run("sales", "leads", "list", "--owner", "bob", "--json")
    assert [lead["company"] for lead in listed.json()] == ["Initech"]
    table = sales_project.run("sales", "leads", "list")
    assert table.output.splitlines()[0].split() == [
        "ID",
        "NAME",
        "COMPANY",
        "EMAIL",
        "SOURCE",
        "STATUS",
        "SCORE",
        "OWNER",
    ]
    assert "ada@example.com" in table.output
    [ada] = sales_project.run("sales", "leads", "list", "--source", "referral", "--json").json()
    assert ada["budget"] is True
    shown = sales_project.run("sales", "leads", "show", ada["id"])
    assert "email" in shown.output and "ada@example.com" in shown.output
    updated = sales_project.run(
        "sales", "leads", "update", ada["id"], "--status", "working", "--json"
    )
    assert updated.json()["status"] == "working"


def test_errors_exit_with_the_core_codes(sales_project: SalesProject) -> None:
    missing = sales_project.run("sales", "leads", "show", "nope")
    assert missing.exit_code == 3
    assert "sales.lead 'nope' not found" in missing.output
    invalid = sales_project.run("sales", "leads", "add", "--first-name", "A", "--email", "a@")
    assert invalid.exit_code == 4
    assert "'email'" in invalid.output


def test_qualify_score_disqualify(sales_project: SalesProject) -> None:
    lead = add(sales_project, "--first-name", "Ada", "--source", "referral")
    qualified = sales_project.run(
        "sales",
        "leads",
        "qualify",
        lead["id"],
        "--budget",
        "--authority",
        "--need",
        "--timeline",
    )
    assert qualified.exit_code == 0, qualified.output
    assert "Qualified lead Ada" in qualified.output and "score 35" in qualified.output
    scored = sales_project.run("sales", "leads", "score", lead["id"])
    assert scored.output.splitlines()[:3] == [
        "Score 35: rule points 35, learned none (too little history)",
        "  source = 'referral': +20 (source is 'referral')",
        "  budget = True: +15 (budget is 'yes')",
    ]
    as_json = sales_project.run("sales", "leads", "score", lead["id"], "--json").json()
    assert as_json["total"] == 35
    assert as_json["reasons"][0] == {
        "rule": "source = 'referral'",
        "points": 20,
        "detail": "source is 'referral'",
    }
    other = add(sales_project, "--company", "Initech")
    dropped = sales_project.run(
        "sales", "leads", "disqualify", other["id"], "--reason", "no budget", "--json"
    )
    assert dropped.json()["status"] == "unqualified"


def test_convert_makes_contact_and_deal(sales_project: SalesProject) -> None:
    lead = add(
        sales_project, "--first-name", "Ada", "--email", "ada@example.com", "--company", "Acme"
    )
    converted = sales_project.run(
        "sales", "leads", "convert", lead["id"], "--amount", "500", "--json"
    )
    assert converted.exit_code == 0, converted.output
    ids = converted.json()
    contact = sales_project.run("contacts", "show", "ada@example.com", "--json").json()
    assert ids["contact_id"] == contact["id"]
    again = sales_project.run("sales", "leads", "convert", lead["id"])
    assert again.exit_code == 4
    assert f"already converted into deal {ids['deal_id']}" in again.output
    bad = add(sales_project, "--first-name", "Bob", "--company", "Initech")
    refused = sales_project.run("sales", "leads", "convert", bad["id"], "--pipeline", "nope")
    assert refused.exit_code == 4
    orgs = sales_project.run("orgs", "list", "--json").json()
    assert [o["name"] for o in orgs] == ["Acme"]


def test_import_refuses_a_bad_file_and_skips_on_request(
    sales_project: SalesProject, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("first_name,email\nAda,ada@example.com\nAlan,alan@\n", encoding="utf-8")
    refused = sales_project.run("sales", "leads", "import", str(path))
    assert refused.exit_code == 4
    assert "line 3: email:" in refused.output
    assert sales_project.run("sales", "leads", "list", "--json").json() == []
    dry = sales_project.run("sales", "leads", "import", str(path), "--dry-run", "--json")
    assert (dry.json()["valid"], dry.json()["rejected"], dry.json()["imported"]) == (1, 1, 0)
    done = sales_project.run("sales", "leads", "import", str(path), "--skip-invalid")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Imported 1 lead, rejected 1; rejected rows are in ")
    assert (tmp_path / "leads.rejected.csv").exists()
    [lead] = sales_project.run("sales", "leads", "list", "--json").json()
    assert lead["first_name"] == "Ada"
