"""``crmkit service intake`` from a file and from stdin, and the rejected-message commands."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pytest

from crmkit.testing.cli_runner import CliResult
from crmkit.testing.clock import Clock

MESSAGES = Path(__file__).parent / "messages"


class ServiceProject(Protocol):
    """The ``service_project`` fixture: a project with the service plugin."""

    def run(self, *args: str, input: str | None = None) -> CliResult: ...


def eml_text(name: str) -> str:
    return (MESSAGES / name).read_text(encoding="utf-8")


@pytest.fixture
def project(service_project: ServiceProject, crmkit_clock: Clock) -> ServiceProject:
    return service_project


def test_intake_from_a_file_opens_a_ticket(project: ServiceProject) -> None:
    result = project.run("service", "intake", str(MESSAGES / "new_multipart.eml"))

    assert result.exit_code == 0, str(result)
    assert "Opened T-1" in result.stdout
    assert "(new contact)" in result.stdout
    assert "Printer on fire" in result.stdout
    shown = project.run("service", "tickets", "show", "T-1", "--json")
    assert shown.exit_code == 0, str(shown)
    assert shown.json()["ticket"]["channel"] == "email"


def test_intake_from_stdin_with_json(project: ServiceProject) -> None:
    result = project.run("service", "intake", "-", "--json", input=eml_text("non_ascii.eml"))

    assert result.exit_code == 0, str(result)
    data = result.json()
    assert (data["key"], data["created"], data["contact_created"]) == ("T-1", True, True)
    assert data["ticket"]["subject"] == "Ça ne marche pas \u2013 café"
    assert data["message"]["direction"] == "inbound"


def test_intake_reads_stdin_without_a_file_and_threads_replies(project: ServiceProject) -> None:
    project.run("service", "intake", input=eml_text("new_multipart.eml"))

    reply = project.run("service", "intake", "--json", input=eml_text("reply_references.eml"))
    again = project.run("service", "intake", "--json", input=eml_text("reply_references.eml"))

    assert reply.exit_code == 0, str(reply)
    assert (reply.json()["key"], reply.json()["created"]) == ("T-1", False)
    assert again.json()["duplicate"] is True
    text = project.run("service", "intake", input=eml_text("reply_references.eml"))
    assert "Already taken in" in text.stdout


def test_a_refused_message_exits_4_and_says_it_was_kept(project: ServiceProject) -> None:
    result = project.run("service", "intake", str(MESSAGES / "unknown_key.eml"))

    assert result.exit_code == 4, str(result)
    assert "unknown ticket key T-999" in result.stderr
    assert "kept as rejected intake" in result.stderr
    listed = project.run("service", "intake-rejected", "--json")
    assert listed.exit_code == 0, str(listed)
    [kept] = listed.json()
    assert kept["source"] == "unknown_key.eml"
    assert "T-999" in kept["reason"]
    assert kept["id"] in result.stderr


def test_a_refused_message_with_json_prints_the_rejection(project: ServiceProject) -> None:
    result = project.run("service", "intake", "--json", input="")

    assert result.exit_code == 4, str(result)
    data = result.json()
    assert data["rejected"] is True
    assert "empty" in data["reason"]
    [kept] = project.run("service", "intake-rejected", "--json").json()
    assert (kept["id"], kept["source"]) == (data["rejected_id"], "stdin")


def test_an_unknown_team_exits_4(project: ServiceProject) -> None:
    result = project.run(
        "service", "intake", str(MESSAGES / "html_only.eml"), "--team", "no-such-team"
    )

    assert result.exit_code == 4, str(result)
    assert "team" in result.stderr
    assert project.run("service", "tickets", "list", "--json").json() == []


def test_retry_takes_the_message_in_and_empties_the_list(project: ServiceProject) -> None:
    project.run("service", "intake", str(MESSAGES / "html_only.eml"), "--team", "nope")
    [kept] = project.run("service", "intake-rejected", "--json").json()
    table = project.run("service", "intake-rejected")
    assert "Invoice total looks wrong" in table.stdout

    retried = project.run("service", "intake-retry", kept["id"], "--team", "support", "--json")

    assert retried.exit_code == 0, str(retried)
    assert retried.json()["ticket"]["team"] == "support"
    empty = project.run("service", "intake-rejected")
    assert "No rejected messages." in empty.stdout


def test_retry_refused_again_exits_4_and_unknown_id_exits_3(project: ServiceProject) -> None:
    project.run("service", "intake", str(MESSAGES / "unknown_key.eml"))
    [kept] = project.run("service", "intake-rejected", "--json").json()

    again = project.run("service", "intake-retry", kept["id"])
    missing = project.run("service", "intake-retry", "0190a0a0-0000-7000-8000-000000000000")

    assert again.exit_code == 4, str(again)
    assert "T-999" in again.stderr
    assert missing.exit_code == 3, str(missing)
    assert len(project.run("service", "intake-rejected", "--json").json()) == 1


def test_a_missing_file_is_a_usage_error(project: ServiceProject, tmp_path: Path) -> None:
    result = project.run("service", "intake", str(tmp_path / "nowhere.eml"))

    assert result.exit_code == 2
    assert "nowhere.eml" in result.output
