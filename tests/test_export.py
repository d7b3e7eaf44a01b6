"""Exporting contacts, and importing an export back into an empty project."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.entities.core import Contact
from crmkit.errors import ConfigError, ValidationError
from crmkit.io.exporter import export_contacts
from crmkit.io.importer import import_contacts
from crmkit.testing.postgres import temporary_schema

PG_ENV = "CRMKIT_TEST_POSTGRES_URL"
CUSTOM = {
    "contact": {
        "properties": {
            "tier": {"type": "string", "enum": ["bronze", "silver", "gold"]},
            "score": {"type": "integer"},
            "ratio": {"type": "number"},
            "newsletter": {"type": "boolean"},
            "languages": {"type": "array", "items": {"type": "string"}},
            "note": {"type": "string"},
            "extra": {"type": "object"},
        }
    }
}


def io_open(url: str) -> CRM:
    return crmkit.open(url, plugins=[], default_region="GB", custom_fields=CUSTOM)


@pytest.fixture
def io_empty_url(sql_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as ``sql_url``."""
    if not sql_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'copy.db'}"
        return
    with temporary_schema(os.environ[PG_ENV]) as url:
        yield url


@pytest.fixture
def io_pair(sql_url: str, io_empty_url: str) -> Iterator[tuple[CRM, CRM]]:
    """A CRM full of awkward contacts on each SQL database, and an empty one beside it."""
    with io_open(sql_url) as source, io_open(io_empty_url) as target:
        fill(source)
        yield source, target


def fill(crm: CRM) -> None:
    crm.contacts.add(
        first_name="Zoë", last_name="O'Brien, \"Jr.\"", email="zoe@example.com",
        phone="+44 20 7946 0018", street="1 Main St,\nFlat 2", city="Zürich", country="CH",
        birth_date="1990-02-28", job_title='VP, "Sales"', tags=["vip", "newsletter", "ünï"],
        owner="alice", source="web-form",
        custom={"tier": "gold", "score": 3, "ratio": 0.25, "newsletter": False,
                "languages": ["de", "fr"], "note": 'said "hi", then\nleft', "extra": {"a": [1]}},
    )
    crm.contacts.add(last_name="Łukasiewicz", tags=[], custom={})
    crm.contacts.add(email="only@example.com", custom={"note": "  padded  ", "score": 0})
    crm.contacts.update("only@example.com", city="Paris")


def everyone(crm: CRM) -> list[Contact]:
    return crm.contacts.list(order_by=("id",), limit=None)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_import_into_an_empty_project_gives_the_same_contacts(
    io_pair: tuple[CRM, CRM], fmt: str, tmp_path: Path
) -> None:
    source, target = io_pair
    path = tmp_path / f"contacts.{fmt}"
    with path.open("w", encoding="utf-8", newline="") as fh:
        assert export_contacts(source, fh, format=fmt) == 3
    report = import_contacts(target, path)
    assert (report.imported, report.rejected) == (3, 0)
    assert everyone(target) == everyone(source)
    assert everyone(target)[2].updated_at > everyone(target)[2].created_at


def test_csv_flattens_custom_fields_and_joins_lists(io_pair: tuple[CRM, CRM]) -> None:
    source, _ = io_pair
    out = io.StringIO(newline="")
    export_contacts(source, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert list(rows[0])[:3] == ["id", "created_at", "updated_at"]
    assert "custom" not in rows[0] and {"tier", "languages", "extra"} <= set(rows[0])
    zoe = rows[0]
    assert zoe["tags"] == "vip;newsletter;ünï" and zoe["languages"] == "de;fr"
    assert zoe["street"] == "1 Main St,\nFlat 2" and zoe["newsletter"] == "false"
    assert json.loads(zoe["extra"]) == {"a": [1]}
    assert rows[1]["tier"] == "" and rows[1]["tags"] == ""


def test_json_lines_keep_custom_fields_nested(io_pair: tuple[CRM, CRM]) -> None:
    source, _ = io_pair
    out = io.StringIO()
    export_contacts(source, out, format="jsonl")
    first = json.loads(out.getvalue().splitlines()[0])
    assert first["custom"]["languages"] == ["de", "fr"] and first["tags"][2] == "ünï"
    assert first["created_at"].endswith("+00:00") and first["birth_date"] == "1990-02-28"


def test_export_pages_in_id_order_and_filters(sqlite_crm: CRM) -> None:
    ids = [sqlite_crm.contacts.add(first_name=f"P{i}", city="Paris" if i % 2 else "Rome").id
           for i in range(7)]
    out = io.StringIO()
    assert export_contacts(sqlite_crm, out, format="jsonl", page_size=2) == 7
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == ids
    some = io.StringIO()
    assert export_contacts(sqlite_crm, some, format="jsonl", where={"city": "Paris"},
                           page_size=2) == 3
    assert [json.loads(line)["id"] for line in some.getvalue().splitlines()] == ids[1::2]


def test_export_refuses_unknown_formats_and_fields(crm: CRM) -> None:
    with pytest.raises(ConfigError, match=r"no exporter for format 'xlsx'.*csv, jsonl"):
        export_contacts(crm, io.StringIO(), format="xlsx")
    with pytest.raises(ValidationError, match="no such field"):
        export_contacts(crm, io.StringIO(), where={"colour": "red"})
    out = io.StringIO()
    assert export_contacts(crm, out) == 0
    assert out.getvalue().startswith("id,created_at,updated_at,first_name")
