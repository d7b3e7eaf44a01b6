"""``crmkit import contacts`` and ``crmkit export contacts`` as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

from crmkit.cli import main

CUSTOM_TOML = """
[custom_fields.contact.properties.tier]
type = "string"
enum = ["bronze", "silver", "gold"]
"""


@attrs.frozen
class IoResult:
    code: int
    out: str
    err: str


Run = Callable[..., IoResult]


def io_init(folder: Path, *options: str) -> Path:
    """``crmkit init FOLDER`` plus a custom field ``tier`` in its crmkit.toml."""
    try:
        main(["init", str(folder), *options])
    except SystemExit as exc:  # pragma: no cover - init failed; show why
        raise AssertionError(f"crmkit init exited with {exc.code}") from None
    config = folder / "crmkit.toml"
    config.write_text(config.read_text() + textwrap.dedent(CUSTOM_TOML))
    return folder


@pytest.fixture
def io_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project made by ``crmkit init`` (region GB) with a custom field ``tier``."""
    for name in ("CRMKIT_PROJECT", "CRMKIT_DATABASE_URL", "CRMKIT_LOAD_PLUGINS",
                 "CRMKIT_DISABLE_PLUGINS", "CRMKIT_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return io_init(tmp_path / "crm", "--region", "GB")


@pytest.fixture
def io_run_in(capsys: pytest.CaptureFixture[str]) -> Callable[..., IoResult]:
    """Run ``crmkit --project FOLDER ARGS`` in-process; return exit code, stdout, stderr."""

    def run(folder: Path, *args: str) -> IoResult:
        capsys.readouterr()
        try:
            main(["--project", str(folder), *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        out, err = capsys.readouterr()
        return IoResult(code, out, err)

    return run


@pytest.fixture
def io_run(io_project: Path, io_run_in: Callable[..., IoResult]) -> Run:
    """Run ``crmkit ARGS`` on :func:`io_project`."""
    return lambda *args: io_run_in(io_project, *args)


def contacts(run: Run) -> list[dict[str, object]]:
    result = run("contacts", "list", "--json", "--limit", "1000")
    assert result.code == 0, result.err
    listed: list[dict[str, object]] = json.loads(result.out)
    return listed


def write_people(folder: Path) -> Path:
    path = folder / "people.csv"
    path.write_text(
        "first_name,last_name,email,birth_date,tier\n"
        "Ada,Lovelace,ada@example.com,1815-12-10,gold\n"       # 2
        "Bad,Email,not-an-email,,\n"                           # 3
        "Wrong,Type,w@example.com,yesterday,\n"                # 4
        ",,,,\n"                                               # 5
        "Grace,Hopper,grace@example.com,,platinum\n"          # 6
        "Ada,Twice,ADA@example.com,,\n"                        # 7
        "Alan,Turing,alan@example.com,,\n",                    # 8
        encoding="utf-8",
    )
    return path


def test_invalid_rows_refuse_the_import_with_exit_4_listing_each_row(
    io_run: Run, io_project: Path
) -> None:
    result = io_run("import", "contacts", str(write_people(io_project)))
    assert result.code == 4
    lines = result.err.strip().splitlines()
    assert lines[:5] == [
        "line 3: email: not a valid email address: An email address must have an @-sign.",
        "line 4: birth_date: expected a date as YYYY-MM-DD, got 'yesterday'",
        "line 5: email: a contact needs a first name, last name or email",
        "line 6: tier: 'platinum' is not one of ['bronze', 'silver', 'gold'] (rule: enum)",
        "line 7: email: ada@example.com is also on line 2",
    ]
    assert lines[5].startswith("Error: ") and "5 of 7 rows are invalid" in lines[5]
    assert "--skip-invalid" in lines[5] and "Traceback" not in result.err
    assert contacts(io_run) == []


def test_skip_invalid_imports_the_rest_and_writes_a_rejects_file(
    io_run: Run, io_project: Path
) -> None:
    path = write_people(io_project)
    result = io_run("import", "contacts", str(path), "--skip-invalid")
    assert result.code == 0, result.err
    assert result.out.startswith("Imported 2 contacts, rejected 5 (")
    assert "rows/s" in result.out and "people.rejected.csv" in result.out
    assert sorted(str(c["email"]) for c in contacts(io_run)) == [
        "ada@example.com", "alan@example.com",
    ]
    with (io_project / "people.rejected.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["line"], r["field"]) for r in rows] == [
        ("3", "email"), ("4", "birth_date"), ("5", "email"), ("6", "tier"), ("7", "email"),
    ]
    assert rows[1]["birth_date"] == "yesterday" and "YYYY-MM-DD" in rows[1]["reason"]
    other = io_project / "elsewhere" / "bad.csv"
    again = io_run("import", "contacts", str(path), "--skip-invalid", "--rejects", str(other))
    assert again.code == 0 and "rejected 7" in again.out and other.is_file()


def test_dry_run_writes_nothing(io_run: Run, io_project: Path) -> None:
    path = write_people(io_project)
    result = io_run("import", "contacts", str(path), "--dry-run")
    assert result.code == 4
    assert "Dry run of" in result.out and "2 valid, 5 invalid of 7 rows" in result.out
    assert "line 3: email:" in result.err
    good = io_project / "good.csv"
    good.write_text("first_name,email\nAda,ada@example.com\n")
    ok = io_run("import", "contacts", str(good), "--dry-run", "--json")
    assert ok.code == 0 and json.loads(ok.out)["valid"] == 1
    assert contacts(io_run) == []
    assert not (io_project / "people.rejected.csv").exists()


def test_json_report_mapping_and_unknown_columns(io_run: Run, io_project: Path) -> None:
    path = io_project / "crm-export.csv"
    path.write_text("Given,Surname,Mail,Fax\nAda,Lovelace,ada@example.com,0123\n")
    refused = io_run("import", "contacts", str(path))
    assert refused.code == 4
    assert refused.err.startswith("Error: column 'Given' (first seen on line 2) is not")
    assert "--map Given=FIELD" in refused.err and refused.err.count("\n") == 1
    result = io_run(
        "import", "contacts", str(path), "--json", "--map", "Given=first_name",
        "--map", "Surname=last_name", "--map", "Mail=email", "--map", "Fax=-",
    )
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert (report["imported"], report["rejected"], report["format"]) == (1, 0, "csv")
    assert contacts(io_run)[0]["last_name"] == "Lovelace"
    bad_map = io_run("import", "contacts", str(path), "--map", "Given")
    assert bad_map.code == 2 and "COLUMN=FIELD" in bad_map.err


def test_export_to_stdout_and_file_and_import_back(
    io_run: Run, io_run_in: Callable[..., IoResult], io_project: Path, tmp_path: Path
) -> None:
    people = io_project / "in.jsonl"
    people.write_text(
        json.dumps({"first_name": "Zoë", "last_name": "O'Brien, \"Jr.\"", "email": "z@example.com",
                    "tags": ["vip", "ünï"], "tier": "gold", "street": "1 Main St,\nFlat 2"},
                   ensure_ascii=False) + "\n" + json.dumps({"last_name": "Hopper"}) + "\n",
        encoding="utf-8",
    )
    assert io_run("import", "contacts", str(people)).code == 0
    shown = io_run("export", "contacts")
    assert shown.code == 0 and shown.out.startswith("id,created_at,updated_at,first_name")
    assert "tier" in shown.out.splitlines()[0] and "vip;ünï" in shown.out
    jsonl = io_run("export", "contacts", "--format", "jsonl")
    assert [json.loads(line)["custom"] for line in jsonl.out.splitlines()] == [{"tier": "gold"}, {}]
    target = tmp_path / "out" / "all.csv"
    target.parent.mkdir()
    saved = io_run("export", "contacts", "-o", str(target))
    assert saved.code == 0 and "Exported 2 contacts" in saved.err
    assert target.read_text(encoding="utf-8") == shown.out
    second = io_init(tmp_path / "second")
    assert io_run_in(second, "import", "contacts", str(target)).code == 0
    copy = contacts(lambda *args: io_run_in(second, *args))
    assert copy == contacts(io_run) and len(copy) == 2


def test_unknown_format_and_stdin(
    io_run: Run, io_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = io_run("import", "contacts", str(io_project / "people.xlsx"))
    assert bad.code == 4 and "no importer for format 'xlsx'" in bad.err
    assert io_run("export", "contacts", "--format", "xml").code == 5
    lone = io_run("import", "contacts", "x.csv", "--rejects", "r.csv")
    assert lone.code == 2 and "--skip-invalid" in lone.err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"first_name\nAda\n")))
    assert io_run("import", "contacts", "-").code == 2
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"first_name\nAda\n")))
    assert io_run("import", "contacts", "-", "--format", "csv").code == 0
    assert [c["first_name"] for c in contacts(io_run)] == ["Ada"]


@pytest.fixture
def io_big_csv(io_project: Path) -> Iterator[Path]:
    path = io_project / "big.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("first_name,last_name,email,city,tags\n")
        for i in range(120_000):
            fh.write(f"P{i},Person,person{i}@example.com,London,a;b\n")
    yield path


def _read_position(pid: int, name: str) -> int | None:
    """How far process ``pid`` has read the file ``name`` (from /proc), or None."""
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        for fd in fd_dir.iterdir():
            if os.readlink(fd).endswith(name):
                info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                return int(info.split("pos:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return None


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="needs Linux /proc")
def test_killed_import_leaves_no_contacts_and_a_readable_database(
    io_project: Path, io_big_csv: Path, io_run: Run
) -> None:
    command = [sys.executable, "-c", "from crmkit.cli import main; main()",
               "--project", str(io_project), "import", "contacts", str(io_big_csv)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    size = io_big_csv.stat().st_size
    deadline = time.monotonic() + 60
    position = 0
    while time.monotonic() < deadline and child.poll() is None:
        position = _read_position(child.pid, io_big_csv.name) or 0
        if position > size // 3:
            break
        time.sleep(0.01)
    assert child.poll() is None, "the import finished before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL and position > size // 3
    with sqlite3.connect(io_project / "crm.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM contact").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM crmkit_outbox").fetchone() == (0,)
    assert contacts(io_run) == []


def test_export_organizations(io_run: Run, tmp_path: Path) -> None:
    assert io_run("orgs", "add", "Analytical Engines, Ltd").code == 0
    assert io_run("orgs", "add", "Zürich Instruments").code == 0
    target = tmp_path / "orgs.jsonl"
    result = io_run("export", "organizations", "--format", "jsonl", "-o", str(target))
    assert result.code == 0 and "Exported 2 organizations" in result.err
    names = [json.loads(line)["name"] for line in target.read_text().splitlines()]
    assert names == ["Analytical Engines, Ltd", "Zürich Instruments"]
    shown = io_run("export", "organizations")
    rows = list(csv.DictReader(io.StringIO(shown.out)))
    assert [r["name"] for r in rows] == names and "domain" in rows[0]


def test_import_and_export_on_postgresql(
    pg_url: str, tmp_path: Path, io_run_in: Callable[..., IoResult]
) -> None:
    project = io_init(tmp_path / "pg", "--database", pg_url, "--region", "GB")
    path = write_people(tmp_path)
    refused = io_run_in(project, "import", "contacts", str(path))
    assert refused.code == 4 and "line 7: email: ada@example.com is also on line 2" in refused.err
    assert io_run_in(project, "export", "contacts").out.count("\n") == 1
    kept = io_run_in(project, "import", "contacts", str(path), "--skip-invalid", "--json")
    assert kept.code == 0 and json.loads(kept.out)["imported"] == 2
    again = io_run_in(project, "import", "contacts", str(path), "--dry-run", "--json")
    assert again.code == 4
    assert {p["line"] for p in json.loads(again.out)["problems"]} == {2, 3, 4, 5, 6, 7, 8}
    exported = io_run_in(project, "export", "contacts", "--format", "jsonl").out.splitlines()
    assert [json.loads(line)["email"] for line in exported] == [
        "ada@example.com", "alan@example.com",
    ]
