"""Importing contacts through ``crmkit.io.importer.import_contacts``.

Every kind of bad input is covered: a bad email, a wrong type, a row with no
name and no email, a custom-field schema violation, duplicates in the file and
in the database, Latin-1 bytes, a ragged CSV row and a malformed JSON line. By
default nothing is written and every bad row is listed; ``skip_invalid`` keeps
the valid rows and writes a rejects file; ``dry_run`` writes nothing; an
interrupted import keeps nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit.crm import CRM
from crmkit.entities.base import utcnow
from crmkit.entities.core import Contact
from crmkit.errors import ImportFailed, ValidationError
from crmkit.io.importer import MAX_LISTED, ImportRefused, ImportReport, import_contacts
from crmkit.io.prepare import RowBuilder

CUSTOM = {
    "contact": {
        "properties": {
            "tier": {"type": "string", "enum": ["bronze", "silver", "gold"]},
            "score": {"type": "integer", "minimum": 0},
            "newsletter": {"type": "boolean"},
        }
    }
}
HEADER = "first_name,last_name,email,phone,birth_date,tags,tier,score"


@pytest.fixture
def io_crm(any_url: str) -> Iterator[CRM]:
    """A CRM with the custom fields above, on every backend (default region GB)."""
    with crmkit.open(any_url, plugins=[], default_region="GB", custom_fields=CUSTOM) as opened:
        yield opened


@pytest.fixture
def io_sqlite_crm(tmp_path: Path) -> Iterator[CRM]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    with crmkit.open(url, plugins=[], default_region="GB", custom_fields=CUSTOM) as opened:
        yield opened


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems_of(report: ImportReport) -> list[tuple[int, str | None]]:
    return [(p.line, p.field) for p in report.problems]


def test_valid_rows_are_imported_with_normalised_values_and_custom_fields(
    io_crm: CRM, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "people.csv",
        "First Name,Last Name,E-mail,Phone,birth_date,tags,tier,score",
        "Ada,Lovelace,Ada@EXAMPLE.com,020 7946 0018,1815-12-10,vip;newsletter,gold,7",
        "Grace,Hopper,grace@example.com,+1 (415) 234-5678,,,,",
    )
    report = import_contacts(io_crm, path, mapping={"E-mail": "email"})
    assert (report.total, report.valid, report.imported, report.rejected) == (2, 2, 2, 0)
    ada = io_crm.contacts.get("ada@example.com")
    assert (ada.first_name, ada.last_name, ada.email) == ("Ada", "Lovelace", "ada@example.com")
    assert ada.phone == "+442079460018"
    assert str(ada.birth_date) == "1815-12-10"
    assert ada.tags == ["vip", "newsletter"]
    assert ada.custom == {"tier": "gold", "score": 7}
    grace = io_crm.contacts.get("grace@example.com")
    assert (grace.phone, grace.tags, grace.custom) == ("+14152345678", [], {})


def test_json_lines_keep_types_and_nested_custom_fields(io_crm: CRM, tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    rows = [
        {"first_name": "Zoë", "email": "zoe@example.com", "tags": ["a, b", "c"],
         "custom": {"score": 3}, "tier": "silver"},
        {"last_name": "Müller", "email": "m@example.com", "newsletter": True},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    report = import_contacts(io_crm, path)
    assert (report.format, report.imported) == ("jsonl", 2)
    zoe = io_crm.contacts.get("zoe@example.com")
    assert zoe.tags == ["a, b", "c"]
    assert zoe.custom == {"score": 3, "tier": "silver"}
    assert io_crm.contacts.get("m@example.com").custom == {"newsletter": True}


def bad_csv(path: Path) -> Path:
    """One good row and one of every kind of bad row (lines 2-13)."""
    lines = [
        HEADER,
        "Ada,Lovelace,ada@example.com,020 7946 0018,,,,",           # 2 good
        "Bad,Email,not-an-email,,,,,",                               # 3 bad email
        "Wrong,Type,wrong@example.com,,yesterday,,,",               # 4 wrong type
        ",,,020 7946 0019,,,,",                                     # 5 no name, no email
        "Enum,Violation,enum@example.com,,,,platinum,",             # 6 custom enum
        "Negative,Score,neg@example.com,,,,,-1",                    # 7 custom minimum
        "Not,Integer,int@example.com,,,,,many",                     # 8 custom type
        "Ada,Again,ada@EXAMPLE.COM,,,,,",                           # 9 duplicate of line 2
        "Taken,Email,taken@example.com,,,,,",                       # 10 already in database
        "Too,Many,fields@example.com,,,,,,,extra",                  # 11 ragged
        "Bad,Phone,phone@example.com,12,,,,",                       # 12 bad phone
        "Grace,Hopper,grace@example.com,,,,,",                      # 13 good
    ]
    text = "\n".join(lines) + "\n"
    latin1 = "Jos\xe9,Garc\xeda,jose@example.com,,,,,\n".encode("latin-1")  # 14 bad encoding
    path.write_bytes(text.encode("utf-8") + latin1)
    return path


EXPECTED_BAD = [
    (3, "email"), (4, "birth_date"), (5, "email"), (6, "tier"), (7, "score"), (8, "score"),
    (9, "email"), (10, "email"), (11, None), (12, "phone"), (14, None),
]


def test_default_mode_writes_nothing_and_lists_every_bad_row(io_crm: CRM, tmp_path: Path) -> None:
    io_crm.contacts.add(first_name="Taken", email="taken@example.com")
    before = len(io_crm.events.read())
    with pytest.raises(ImportRefused) as caught:
        import_contacts(io_crm, bad_csv(tmp_path / "people.csv"))
    report = caught.value.report
    assert problems_of(report) == EXPECTED_BAD
    assert (report.total, report.valid, report.rejected, report.imported) == (13, 2, 11, 0)
    reasons = {p.line: p.reason for p in report.problems}
    assert "not a valid email address" in reasons[3]
    assert "YYYY-MM-DD" in reasons[4] and "yesterday" in reasons[4]
    assert "first name, last name or email" in reasons[5]
    assert "platinum" in reasons[6] and "enum" in reasons[6]
    assert "minimum" in reasons[7]
    assert "'many' is not a valid integer" in reasons[8]
    assert reasons[9] == "ada@example.com is also on line 2"
    assert "taken@example.com already belongs to a contact" in reasons[10]
    assert "has 10 fields but the header has 8" in reasons[11]
    assert "not a valid phone number" in reasons[12]
    assert "UTF-8" in reasons[14]
    message = str(caught.value)
    assert "11 of 13 rows are invalid" in message and "line 3: email: not a valid" in message
    assert io_crm.contacts.count() == 1
    assert len(io_crm.events.read()) == before


def test_skip_invalid_keeps_valid_rows_and_writes_the_rejects(
    io_crm: CRM, tmp_path: Path
) -> None:
    io_crm.contacts.add(first_name="Taken", email="taken@example.com")
    path = bad_csv(tmp_path / "people.csv")
    report = import_contacts(io_crm, path, skip_invalid=True)
    assert (report.imported, report.rejected) == (2, 11)
    assert sorted(c.email or "" for c in io_crm.contacts.list(limit=None)) == [
        "ada@example.com", "grace@example.com", "taken@example.com",
    ]
    assert report.rejects_path == tmp_path / "people.rejected.csv"
    with report.rejects_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [*HEADER.split(","), "line", "field", "reason"]
    assert [(int(r["line"]), r["field"] or None) for r in rows] == EXPECTED_BAD
    first = rows[0]
    assert (first["first_name"], first["email"], first["field"]) == ("Bad", "not-an-email", "email")
    assert "not a valid email address" in first["reason"]
    assert not list(tmp_path.glob("*.partial"))


def test_rejects_file_may_not_overwrite_the_input(io_sqlite_crm: CRM, tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "first_name,email", "Bad,nope")
    with pytest.raises(ImportFailed, match="would overwrite the file being imported"):
        import_contacts(io_sqlite_crm, path, skip_invalid=True, rejects_path=path)
    assert path.read_text().endswith("Bad,nope\n")


def test_fixed_rejects_file_imports_again(io_sqlite_crm: CRM, tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "first_name,email", "Ada,ada@example.com", "Bad,nope")
    report = import_contacts(io_sqlite_crm, path, skip_invalid=True)
    assert report.rejects_path is not None
    fixed = report.rejects_path.read_text().replace("nope", "bad@example.com")
    report.rejects_path.write_text(fixed)
    again = import_contacts(
        io_sqlite_crm, report.rejects_path, mapping={"line": "-", "field": "-", "reason": "-"}
    )
    assert again.imported == 1
    assert io_sqlite_crm.contacts.get("bad@example.com").first_name == "Bad"


def test_dry_run_writes_nothing_and_counts(io_crm: CRM, tmp_path: Path) -> None:
    report = import_contacts(io_crm, bad_csv(tmp_path / "people.csv"), dry_run=True)
    assert (report.total, report.valid, report.rejected, report.imported) == (13, 3, 10, 0)
    assert io_crm.contacts.count() == 0
    assert io_crm.events.read() == []
    assert not (tmp_path / "people.rejected.csv").exists()


def test_malformed_json_lines_and_wrong_types_are_reported(io_crm: CRM, tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    path.write_bytes(
        b'{"first_name": "Ada", "email": "ada@example.com"}\n'
        b'{"first_name": "Broken", "email": \n'
        b'["not", "an", "object"]\n'
        b'{"first_name": 42}\n'
        b'{"first_name": "Tags", "tags": "a;b", "score": "7", "tier": "bronze"}\n'
        b'{"first_name": "Minus", "score": -3}\n'
        b'{"first_name": "Caf\xe9"}\n'
    )
    with pytest.raises(ImportRefused) as caught:
        import_contacts(io_crm, path)
    report = caught.value.report
    assert problems_of(report) == [(2, None), (3, None), (4, "first_name"), (6, "score"), (7, None)]
    reasons = [p.reason for p in report.problems]
    assert "not valid JSON" in reasons[0]
    assert "must be a JSON object" in reasons[1]
    assert "expected text, got int" in reasons[2]
    assert "minimum" in reasons[3]
    assert "UTF-8" in reasons[4]
    assert io_crm.contacts.count() == 0
    # Text in a JSON value is read like a CSV cell: "a;b" is two tags, "7" the integer 7.
    import_contacts(io_crm, path, skip_invalid=True)
    tags = io_crm.contacts.list({"first_name": "Tags"})[0]
    assert (tags.tags, tags.custom) == (["a", "b"], {"score": 7, "tier": "bronze"})


def test_unknown_column_stops_the_import_naming_the_fix(io_crm: CRM, tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "first_name,Fax", "Ada,0123")
    with pytest.raises(ImportFailed) as caught:
        import_contacts(io_crm, path, skip_invalid=True)
    message = str(caught.value)
    assert "column 'Fax'" in message
    assert "--map Fax=FIELD" in message and "--map Fax=-" in message
    assert "[custom_fields.contact.properties.fax]" in message
    assert io_crm.contacts.count() == 0
    assert import_contacts(io_crm, path, mapping={"Fax": "-"}).imported == 1
    assert io_crm.contacts.list()[0].phone is None


def test_mapping_to_a_missing_field_or_twice_to_one_field_is_refused(
    io_crm: CRM, tmp_path: Path
) -> None:
    path = write(tmp_path / "p.csv", "name,mail,Email", "Ada,a@example.com,b@example.com")
    with pytest.raises(ImportFailed, match="has no field 'nom'"):
        import_contacts(io_crm, path, mapping={"name": "nom"})
    with pytest.raises(
        ImportFailed, match=r"columns 'mail' and 'Email' .*both go to contact field 'email'"
    ):
        import_contacts(io_crm, path, mapping={"name": "first_name", "mail": "email"})
    report = import_contacts(io_crm, path, mapping={"name": "first_name", "mail": "-"})
    assert io_crm.contacts.get("b@example.com").first_name == "Ada" and report.imported == 1


def test_ids_and_timestamps_from_the_file_are_kept(io_crm: CRM, tmp_path: Path) -> None:
    kept = "0190a6b4-5d1e-7c3a-9f00-2b4c6d8e0f12"
    path = write(
        tmp_path / "p.csv",
        "id,created_at,updated_at,first_name",
        f"{kept.upper()},2020-01-02T03:04:05.123456+00:00,2021-01-01T00:00:00Z,Ada",
        ",,,Grace",
        "not-a-uuid,,,Bad",
        f"{kept},,,Twin",
    )
    report = import_contacts(io_crm, path, skip_invalid=True)
    assert [(p.line, p.field) for p in report.problems] == [(4, "id"), (5, "id")]
    assert "is also on line 2" in report.problems[1].reason
    ada = io_crm.contacts.get(kept)
    assert ada.created_at.isoformat() == "2020-01-02T03:04:05.123456+00:00"
    assert ada.updated_at.isoformat() == "2021-01-01T00:00:00+00:00"
    grace = io_crm.contacts.list({"first_name": "Grace"})[0]
    assert grace.id != kept and grace.created_at > ada.created_at
    again = import_contacts(io_crm, path, dry_run=True)
    assert (2, "id") in problems_of(again)
    assert "already in the database" in again.problems[0].reason


def test_only_the_first_rows_problems_are_listed_but_all_are_counted(
    io_sqlite_crm: CRM, tmp_path: Path
) -> None:
    lines = ["first_name,email", *(f"P{i},bad-{i}" for i in range(MAX_LISTED + 50))]
    with pytest.raises(ImportRefused) as caught:
        import_contacts(io_sqlite_crm, write(tmp_path / "p.csv", *lines), batch_size=7)
    report = caught.value.report
    assert report.rejected == MAX_LISTED + 50
    assert [p.line for p in report.problems] == list(range(2, MAX_LISTED + 2))
    assert str(caught.value).endswith("... and 50 more")


def test_each_batch_raises_one_imported_event_like_add_many(
    io_crm: CRM, tmp_path: Path
) -> None:
    lines = ["first_name,email", *(f"P{i},p{i}@example.com" for i in range(5))]
    import_contacts(io_crm, write(tmp_path / "p.csv", *lines), batch_size=2, source="test")
    events = io_crm.events.read(names=["contact.imported"])
    assert [e.payload["count"] for e in events] == [2, 2, 1]
    ids = [i for e in events for i in e.payload["ids"]]
    assert ids == [c.id for c in io_crm.contacts.list(order_by=("id",), limit=None)]
    io_crm.contacts.add_many([{"first_name": "API"}], source="api")
    shape = io_crm.events.read(names=["contact.imported"])[-1]
    assert set(shape.payload) == set(events[0].payload) and events[0].payload["source"] == "test"


def test_the_file_is_streamed_batch_by_batch(io_sqlite_crm: CRM, tmp_path: Path) -> None:
    lines = ["first_name,email", *(f"P{i},person-{i}@example.com" for i in range(6000))]
    path = write(tmp_path / "p.csv", *lines)
    seen: list[tuple[int, int]] = []
    report = import_contacts(
        io_sqlite_crm, path, batch_size=500,
        on_progress=lambda r: seen.append((r.bytes_read, r.imported)),
    )
    assert report.imported == 6000 and len(seen) == 13
    first_bytes, first_imported = seen[0]
    assert first_imported == 500 and first_bytes < path.stat().st_size
    assert seen[-1][0] == path.stat().st_size


def test_interrupted_import_keeps_nothing(io_crm: CRM, tmp_path: Path) -> None:
    lines = ["first_name,email", *(f"P{i},p{i}@example.com" for i in range(50)), "X,bad"]
    path = write(tmp_path / "p.csv", *lines)
    calls = []

    def interrupt(report: ImportReport) -> None:
        calls.append(report.imported)
        if report.imported >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_contacts(
            io_crm, path, batch_size=10, on_progress=interrupt, skip_invalid=True
        )
    assert calls == [10, 20]
    assert io_crm.contacts.count() == 0
    assert io_crm.events.read() == []
    assert not list(tmp_path.glob("p.rejected*"))
    assert import_contacts(io_crm, path, skip_invalid=True).imported == 50


def test_streams_formats_and_unreadable_input(io_crm: CRM, tmp_path: Path) -> None:
    data = b"first_name,email\r\nAda,ada@example.com\r\n"
    report = import_contacts(io_crm, io.BytesIO(data), format="csv")
    assert (report.file, report.imported) == ("<stream>", 1)
    with pytest.raises(ImportFailed, match="cannot tell the format"):
        import_contacts(io_crm, io.BytesIO(data))
    with pytest.raises(ImportFailed, match=r"no importer for format 'xlsx'.*csv, jsonl"):
        import_contacts(io_crm, write(tmp_path / "p.xlsx", "x"))
    with pytest.raises(ImportFailed, match="cannot read"):
        import_contacts(io_crm, tmp_path / "missing.csv")
    text = io.TextIOWrapper(io.BytesIO(b"first_name\nGrace\n"), encoding="utf-8")
    assert import_contacts(io_crm, text, format="csv").imported == 1
    empty = import_contacts(io_crm, write(tmp_path / "e.ndjson", ""))
    assert (empty.format, empty.total) == ("jsonl", 0)


# -- the lean per-row path agrees with the contact rules -----------------------------------

TEXTS = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from([
        "", "  ", " Ada ", "ada@example.com", "Ada.Lovelace@EXAMPLE.com", "bad@", "a@b",
        "postmaster@example.com", "ünï@exämple.com", "020 7946 0018", "+44 20 7946 0018",
        "(415) 234-5678", "+1 415 234 5678", "12", "1815-12-10", "yesterday",
        "2020-01-02T03:04:05+00:00", "2020-01-02T03:04:05", "a;b, c", "[1]", '{"tier": "gold"}',
        "true", "0190a6b4-5d1e-7c3a-9f00-2b4c6d8e0f12",
    ]),
    st.integers(-3, 3),
    st.booleans(),
    st.lists(st.sampled_from(["vip", " x ", ""]), max_size=3),
    st.fixed_dictionaries({}, optional={
        "tier": st.sampled_from(["gold", "platinum", 3]),
        "score": st.one_of(st.integers(-2, 5), st.just("5")),
        "nickname": st.just("x"),
    }),
)
FIELDS = [
    "id", "created_at", "updated_at", "first_name", "last_name", "email", "phone", "street",
    "city", "country", "birth_date", "job_title", "tags", "owner", "custom", "unknown",
]


def outcome(call: Any, values: dict[str, Any]) -> tuple[Any, ...]:
    try:
        return ("ok", call(values))
    except ValidationError as exc:
        return ("invalid", exc.field, exc.reason)
    except Exception as exc:  # both sides must fail alike, whatever they raise
        return ("raised", type(exc).__name__, str(exc))


REQUIRED_TIER = {"contact": {**CUSTOM["contact"], "required": ["tier"]}}


@pytest.fixture(scope="module", params=["optional custom fields", "a required custom field"])
def io_rules_crm(request: pytest.FixtureRequest) -> Iterator[CRM]:
    custom = CUSTOM if request.param.startswith("optional") else REQUIRED_TIER
    with crmkit.open("memory://", plugins=[], default_region="GB", custom_fields=custom) as opened:
        yield opened


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.dictionaries(st.sampled_from(FIELDS), TEXTS, max_size=8))
def test_row_builder_agrees_with_the_contact_rules(
    io_rules_crm: CRM, values: dict[str, Any]
) -> None:
    rules = io_rules_crm.rules("contact")
    builder = RowBuilder(rules)
    expected = outcome(rules.clean, values)
    assert outcome(builder.clean, values) == expected
    now = utcnow()
    built = outcome(lambda v: builder.row(v, now), values)
    if expected[0] != "ok":
        assert built == expected
        return
    assert built[0] == "ok"
    etype = io_rules_crm.entity_type("contact")
    reference = etype.to_row(Contact(**expected[1]))
    row = built[1]
    assert list(row) == list(reference)
    made = {name for name in ("id", "created_at", "updated_at") if name not in values}
    assert {k: v for k, v in row.items() if k not in made} == {
        k: v for k, v in reference.items() if k not in made
    }
    assert all(row[name] == now for name in made - {"id"})
    assert "id" not in made or (row["id"] != reference["id"] and len(row["id"]) == 36)


def test_bulk_insert_stores_exactly_what_a_single_insert_stores(sql_url: str) -> None:
    import sqlalchemy as sa

    with crmkit.open(sql_url, plugins=[], custom_fields=CUSTOM) as crm:
        etype = crm.entity_type("contact")
        now = utcnow()
        variants = [
            {"tags": ["vip", "ünï"], "custom": {"tier": "gold"},
             "birth_date": dt.date(1815, 12, 10)},
            {"tags": ["vip", "ünï"], "custom": {}, "birth_date": None},
            {"tags": [], "custom": {"score": 1}, "birth_date": dt.date(2000, 2, 29)},
            {"tags": ["a", 1], "custom": {}, "created_at": now + dt.timedelta(seconds=1)},
        ]
        singles, bulk = [], []
        for index, extra in enumerate(variants * 2):
            fields = {"created_at": now, "updated_at": now, **extra}
            contact = Contact(first_name=f"P{index}", email=f"p{index}@example.com", **fields)
            (singles if index < len(variants) else bulk).append(etype.to_row(contact))
        with crm.backend.begin() as tx:  # type: ignore[attr-defined]
            for row in singles:
                tx.add(etype, row)
            tx.add_many(etype, bulk)
        columns = ["created_at", "updated_at", "birth_date", "tags", "custom"]
        select = ", ".join(f"CAST({c} AS TEXT)" for c in columns)
        with crm.backend.engine.connect() as conn:  # type: ignore[attr-defined]
            stored = {r[0]: tuple(r[1:]) for r in conn.execute(
                sa.text(f"SELECT id, {select} FROM contact")
            )}
        assert len(stored) == 2 * len(variants)
        for single, copy in zip(singles, bulk, strict=True):
            assert stored[single["id"]] == stored[copy["id"]]
        assert [crm.contacts.get(r["id"]).tags for r in bulk] == [v["tags"] for v in variants]
