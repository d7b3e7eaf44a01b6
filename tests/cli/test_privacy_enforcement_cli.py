"""``--as ACTOR`` on the record commands: masked output, refusals with exit code 7, consent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.privacy.entities import SubjectState
from crmkit.privacy.keys import suppression_key
from crmkit.privacy.suppression import suppress

if TYPE_CHECKING:
    from tests.cli.conftest import Cli, Result

SETTINGS = """
[custom_fields.contact.properties.diagnosis]
type = "string"
"x-privacy" = "sensitive"

[privacy.actors]
ann = ["agent"]
al = ["analyst"]
cleo = ["clerk"]

[privacy.roles.clerk]
actions = ["read", "export"]
see = ["personal"]
"""


@pytest.fixture(autouse=True)
def _no_actor_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRMKIT_ACTOR", raising=False)


@pytest.fixture
def project(any_cli: Cli) -> Cli:
    """A project where ann is an agent, al an analyst, cleo may export; Ada is on file."""
    any_cli.add_custom_fields(SETTINGS)
    added = any_cli(
        *["contacts", "add", "--first-name", "Ada", "--email", "ada@example.com"],
        "--set",
        "diagnosis=asthma",
    )
    assert added.code == 0, added.err
    return any_cli


@contextmanager
def opened(cli: Cli) -> Iterator[CRM]:
    assert cli.project is not None
    with crmkit.open(cli.project) as crm:
        yield crm


def assert_denied(result: Result, *words: str) -> None:
    assert result.code == 7, (result.out, result.err)
    assert result.err.startswith("Error: denied by privacy policy (")
    assert result.err.strip().count("\n") == 0 and "Traceback" not in result.err
    for word in words:
        assert word in result.err


def test_an_agent_sees_sensitive_fields_masked(project: Cli) -> None:
    shown = project("--as", "ann", "contacts", "show", "ada@example.com")
    assert shown.code == 0, shown.err
    assert "[masked: sensitive]" in shown.out and "asthma" not in shown.out
    assert "masked for ann: custom.diagnosis" in shown.out

    as_json = project("--as", "ann", "contacts", "show", "ada@example.com", "--json").json()
    assert as_json["custom"] == {"diagnosis": "[masked: sensitive]"}
    assert as_json["email"] == "ada@example.com"
    listed = project("contacts", "list", "--json", env={"CRMKIT_ACTOR": "ann"}).json()
    assert listed[0]["custom"] == {"diagnosis": "[masked: sensitive]"}

    view = project("--as", "ann", "view", "ada@example.com")
    assert "masked for ann: custom.diagnosis" in view.out and "asthma" not in view.out
    view_json = project("--as", "ann", "view", "ada@example.com", "--json").json()
    assert view_json["masked"] == ["custom.diagnosis"]


def test_an_admin_sees_everything_and_nothing_is_said_about_masking(project: Cli) -> None:
    shown = project("contacts", "show", "ada@example.com")
    assert "asthma" in shown.out and "masked" not in shown.out
    assert project("view", "ada@example.com", "--json").json()["masked"] == []


def test_an_analyst_sees_personal_values_masked_and_may_not_export(project: Cli) -> None:
    listed = project("--as", "al", "contacts", "list")
    assert listed.code == 0 and "ada@example.com" not in listed.out
    assert "masked for al: first_name, email, custom.diagnosis" in listed.out
    view = project("--as", "al", "view", "ada@example.com")
    assert view.code == 0 and "Ada" not in view.out

    for fmt in ("csv", "jsonl"):
        exported = project("--as", "al", "export", "contacts", "--format", fmt)
        assert_denied(exported, "crmkit.roles", "actor 'al' (roles: analyst) may not export")
        assert exported.out == ""


def test_writes_on_a_restricted_contact_are_refused_with_the_fix(project: Cli) -> None:
    with opened(project) as crm:
        ada = crm.contacts.get("ada@example.com")
        etype = crm.entity_type("privacy.subject")
        with crm.unit_of_work() as uow:
            uow.tx.add(etype, etype.to_row(SubjectState(contact_id=ada.id, restricted=True)))

    updated = project("--as", "ann", "contacts", "update", "ada@example.com", "--city", "Paris")
    assert_denied(updated, ada.id, f"crmkit privacy restrict {ada.id} --lift")
    logged = project("log", "ada@example.com", "--channel", "email", "--summary", "Hello")
    assert_denied(logged, "crmkit.restriction")
    shown = project("contacts", "show", "ada@example.com", "--json").json()
    assert shown["city"] is None
    assert project("timeline", "ada@example.com", "--json").json() == []


def test_an_erased_persons_email_needs_a_new_consent(project: Cli) -> None:
    with opened(project) as crm, crm.unit_of_work() as uow:
        key = suppression_key(crm.privacy.secret(uow.tx), "email", "eve@example.com")
        suppress(uow.tx, crm.entity_type("privacy.suppression"), [("email", key)], "erased")

    refused = project("contacts", "add", "--first-name", "Eve", "--email", "eve@example.com")
    assert refused.code == 4 and refused.err.startswith("Error: contact: field 'email': ")
    assert "--consent PURPOSE:CHANNEL --evidence TEXT" in refused.err

    add_eve = ["contacts", "add", "--first-name", "Eve", "--email", "eve@example.com", "--json"]
    added = project(*add_eve, "--consent", "marketing:email", "--evidence", "signup form v3")
    assert added.code == 0, added.err
    with opened(project) as crm:
        states = crm.privacy.consent.state(added.json()["id"])
    assert [(s.purpose, s.channel, s.status) for s in states] == [("marketing", "email", "granted")]

    bad = project("contacts", "add", "--email", "bob@example.com", "--consent", "marketing")
    assert bad.code == 2 and "PURPOSE:CHANNEL" in bad.err
    lone = project("contacts", "add", "--email", "bob@example.com", "--evidence", "form")
    assert lone.code == 2 and "--evidence goes with --consent" in lone.err


def test_an_export_for_an_actor_who_may_export_is_masked(project: Cli) -> None:
    exported = project("--as", "cleo", "export", "contacts", "--format", "jsonl")
    assert exported.code == 0, exported.err
    record = json.loads(exported.out)
    assert record["custom"] == {"diagnosis": "[masked: sensitive]"}
    assert record["email"] == "ada@example.com"
    as_csv = project("--as", "cleo", "export", "contacts")
    assert as_csv.code == 0 and "[masked: sensitive]" in as_csv.out and "asthma" not in as_csv.out
