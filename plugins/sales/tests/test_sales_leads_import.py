"""Importing leads from CSV and JSON Lines: all or nothing, skipping invalid rows, dry runs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from crmkit_sales.lead_import import import_leads
from crmkit_sales.leads import Leads

from crmkit import Event
from crmkit.crm import CRM
from crmkit.errors import ImportFailed
from crmkit.io.importer import ImportRefused

GOOD = (
    "First Name,Last Name,Email,Company,Source,Budget\n"
    "Ada,Lovelace,ADA@example.com,Acme,referral,yes\n"
    "Grace,Hopper,grace@example.com,Navy,,\n"
)
BAD = GOOD + "Alan,Turing,alan@,Bletchley,web,no\nKurt,,,,,maybe\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def count(crm: CRM) -> int:
    with crm.backend.read() as reader:
        return reader.count(crm.entity_type("sales.lead"))


def test_a_good_file_is_imported_with_one_event(crm: CRM, tmp_path: Path) -> None:
    events: list[Event] = []
    crm.events.subscribe("sales.lead.*", events.append)
    report = import_leads(crm, write(tmp_path, "leads.csv", GOOD))
    assert (report.total, report.valid, report.imported, report.rejected) == (2, 2, 2, 0)
    leads = {lead.first_name: lead for lead in Leads(crm).list()}
    assert (leads["Ada"].email, leads["Ada"].source, leads["Ada"].budget) == (
        "ada@example.com",
        "referral",
        True,
    )
    assert (leads["Grace"].source, leads["Grace"].budget) == ("import", None)
    assert [e.name for e in events] == ["sales.lead.imported"]
    assert events[0].payload == {
        "count": 2,
        "source": "leads.csv",
        "lead_ids": report.lead_ids,
        "rejected": 0,
    }
    assert sorted(report.lead_ids) == sorted(lead.id for lead in leads.values())


def test_a_bad_row_refuses_the_whole_file_naming_line_and_field(crm: CRM, tmp_path: Path) -> None:
    with pytest.raises(ImportRefused) as raised:
        import_leads(crm, write(tmp_path, "leads.csv", BAD))
    problems = [(p.line, p.field) for p in raised.value.report.problems]
    assert problems == [(4, "email"), (5, "budget")]
    assert "line 5: budget: expected true or false, got 'maybe'" in str(raised.value)
    assert "2 of 4 rows are invalid, so nothing was imported" in str(raised.value)
    assert count(crm) == 0


def test_skipping_invalid_rows_writes_the_good_ones_and_a_rejects_file(
    crm: CRM, tmp_path: Path
) -> None:
    report = import_leads(crm, write(tmp_path, "leads.csv", BAD), skip_invalid=True)
    assert (report.imported, report.rejected) == (2, 2)
    assert count(crm) == 2
    assert report.rejects_path == tmp_path / "leads.rejected.csv"
    with report.rejects_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["First Name"], r["line"], r["field"]) for r in rows] == [
        ("Alan", "4", "email"),
        ("Kurt", "5", "budget"),
    ]


def test_a_dry_run_checks_and_writes_nothing(crm: CRM, tmp_path: Path) -> None:
    report = import_leads(crm, write(tmp_path, "leads.csv", BAD), dry_run=True)
    assert (report.total, report.valid, report.rejected, report.imported) == (4, 2, 2, 0)
    assert count(crm) == 0


def test_an_unknown_column_stops_the_import(crm: CRM, tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", "first_name,shoe_size\nAda,38\n")
    with pytest.raises(ImportFailed, match="column 'shoe_size' \\(line 2\\)"):
        import_leads(crm, path, skip_invalid=True)
    path = write(tmp_path, "scored.csv", "first_name,score\nAda,99\n")
    with pytest.raises(ImportFailed, match="score is computed"):
        import_leads(crm, path)
    assert count(crm) == 0


def test_json_lines_and_repeated_emails(crm: CRM, tmp_path: Path) -> None:
    text = (
        '{"first_name": "Ada", "email": "ada@example.com", "need": true}\n'
        "\n"
        '{"first_name": "Ada again", "email": "Ada@Example.com"}\n'
        "not json\n"
    )
    with pytest.raises(ImportRefused) as raised:
        import_leads(crm, write(tmp_path, "leads.jsonl", text))
    assert [(p.line, p.field, p.reason) for p in raised.value.report.problems] == [
        (3, "email", "ada@example.com is also on line 1"),
        (4, None, "not valid JSON: Expecting value at column 1"),
    ]
    report = import_leads(crm, write(tmp_path, "leads.jsonl", text), skip_invalid=True)
    assert report.imported == 1
    assert report.rejects_path == tmp_path / "leads.rejected.jsonl"
    [lead] = Leads(crm).list()
    assert (lead.email, lead.need) == ("ada@example.com", True)


def test_erased_people_are_not_imported_again(crm: CRM, tmp_path: Path) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    crm.privacy.erase(ada.id)
    with pytest.raises(ImportRefused) as raised:
        import_leads(crm, write(tmp_path, "leads.csv", GOOD))
    [problem] = raised.value.report.problems
    assert (problem.line, problem.field) == (2, "email")
    assert "erased" in problem.reason
    assert count(crm) == 0
