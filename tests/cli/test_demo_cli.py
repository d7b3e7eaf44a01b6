"""``crmkit demo``: a filled demo CRM on SQLite and one customer's single view."""

from __future__ import annotations

from pathlib import Path

import pytest

import crmkit
from crmkit.cli import main

# These check the core's demo; each built-in plugin's tests check what it adds.
pytestmark = pytest.mark.usefixtures("only_plugins_installed_here")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_assembles_a_filled_crm_and_shows_a_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "demo"
    code, out, err = run(
        ["demo", str(folder), "--contacts", "120", "--organizations", "20"], capsys
    )
    assert code == 0, err
    assert "120 contacts, 20 organizations" in out
    assert "Single customer view of" in out
    assert "Organizations" in out and "Latest interactions (10)" in out
    with crmkit.open(folder) as crm:
        assert crm.contacts.count() == 120
        assert crm.organizations.count() == 20
        featured = crm.contacts.list(limit=None)
        linked = [c for c in featured if crm.contacts.organizations_of(c.id)]
        assert len(linked) > 60  # about three quarters belong to an organization
        assert all(c.phone and c.phone.startswith("+") for c in featured)  # E.164


def test_demo_is_reproducible_with_the_same_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emails = []
    for name in ("a", "b"):
        code, _, err = run(["demo", str(tmp_path / name), "--contacts", "40"], capsys)
        assert code == 0, err
        with crmkit.open(tmp_path / name) as crm:
            emails.append(sorted(c.email or "" for c in crm.contacts.list(limit=None)))
    assert emails[0] == emails[1]


def test_demo_on_an_existing_project_shows_it_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "demo"
    assert run(["demo", str(folder), "--contacts", "30"], capsys)[0] == 0
    code, _, err = run(["demo", str(folder)], capsys)
    assert code == 0
    assert "already holds a crmkit project" in err
    with crmkit.open(folder) as crm:
        assert crm.contacts.count() == 30  # nothing added twice


def test_demo_refuses_a_folder_with_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run(["demo", str(tmp_path)], capsys)
    assert code == 1
    assert "not empty" in err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_demo_that_fails_while_filling_leaves_no_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import crmkit.demo.load

    def power_cut(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(crmkit.demo.load, "load_sample_data", power_cut)
    folder = tmp_path / "demo"
    with pytest.raises(SystemExit):
        main(["demo", str(folder), "--contacts", "20"])
    assert "power cut" in capsys.readouterr().err
    assert not (folder / "crmkit.toml").exists() and not (folder / "crm.db").exists()


def test_a_filled_demo_stays_when_its_output_is_cut_short(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import crmkit.cli.timeline

    def closed_pipe(*args: object, **kwargs: object) -> None:
        raise BrokenPipeError("crmkit demo | head")

    monkeypatch.setattr(crmkit.cli.timeline, "echo_view", closed_pipe)
    folder = tmp_path / "demo"
    with pytest.raises(SystemExit):
        main(["demo", str(folder), "--contacts", "20"])
    with crmkit.open(folder) as crm:
        assert crm.contacts.count() == 20
