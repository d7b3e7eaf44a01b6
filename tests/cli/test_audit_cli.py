"""``crmkit audit`` and ``crmkit privacy sweep``: the log, its check and retention by command."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

import crmkit
from crmkit.entities.core import Interaction
from crmkit.storage.sql.backend import SqlBackend

if TYPE_CHECKING:
    from tests.cli.conftest import Cli

NOW = dt.datetime.now(dt.UTC)
RETENTION = """
[privacy.retention]
interaction = "30d"
marketing = "1y"
"""
ROLES = """
[privacy.actors]
ann = ["agent"]
otto = ["auditor"]
"""


def _log_five(cli: Cli) -> str:
    """Five audit entries about one contact; returns the contact's id."""
    with crmkit.open(str(cli.project)) as crm:
        ada = crm.contacts.add(email="ada@example.com")
        crm.privacy.write_audit(
            [
                {"actor": "dpo", "action": "privacy.export", "subject_id": ada.id},
                {
                    "actor": "ann",
                    "action": "consent.grant",
                    "subject_id": ada.id,
                    "purpose": "marketing",
                    "channel": "email",
                    "reason": "signup form",
                },
                {
                    "actor": "dpo",
                    "action": "privacy.restrict",
                    "subject_id": ada.id,
                    "reason": "disputes accuracy",
                },
                {"actor": "dpo", "action": "privacy.sweep", "details": {"total": 0}},
                {"actor": "ann", "action": "consent.withdraw", "subject_id": ada.id},
            ]
        )
        return ada.id


def _tamper(cli: Cli, statement: str) -> None:
    with crmkit.open(str(cli.project)) as crm:
        assert isinstance(crm.backend, SqlBackend)
        with crm.backend.engine.begin() as conn:
            conn.execute(sa.text(statement))


def test_verify_reports_an_intact_chain(any_cli: Cli) -> None:
    assert any_cli("audit", "verify").out.strip() == "ok: 0 entries, chain intact"
    _log_five(any_cli)

    result = any_cli("audit", "verify")
    assert (result.code, result.out.strip()) == (0, "ok: 5 entries, chain intact")
    assert any_cli("audit", "verify", "--json").json() == {
        "ok": True,
        "checked": 5,
        "broken_seq": None,
        "broken_id": None,
        "problem": None,
    }


def test_verify_names_the_first_broken_entry(any_cli: Cli) -> None:
    _log_five(any_cli)
    third = any_cli("audit", "list", "--json").json()[2]
    _tamper(any_cli, "UPDATE privacy_audit SET reason = 'agreed on the phone' WHERE seq = 3")

    result = any_cli("audit", "verify")
    assert result.code == 4
    assert result.err.startswith("Error: audit log broken at entry seq 3")
    assert third["id"] in result.err and "was changed" in result.err
    assert result.err.strip().count("\n") == 0

    report = any_cli("audit", "verify", "--json")
    assert report.code == 4
    assert (report.json()["broken_seq"], report.json()["checked"]) == (3, 2)


def test_list_shows_entries_filtered_by_subject_and_action(any_cli: Cli) -> None:
    ada = _log_five(any_cli)

    entries = any_cli("audit", "list", "--json").json()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert {"seq", "at", "actor", "action", "subject_id", "outcome", "reason"} <= set(entries[0])
    assert entries[1]["reason"] == "signup form" and entries[1]["purpose"] == "marketing"

    about_ada = any_cli("audit", "list", "--subject", "ada@example.com", "--json").json()
    assert [e["seq"] for e in about_ada] == [1, 2, 3, 5]
    assert all(e["subject_id"] == ada for e in about_ada)
    consent = any_cli("audit", "list", "--action", "consent.*", "--json").json()
    assert [e["action"] for e in consent] == ["consent.grant", "consent.withdraw"]
    latest = any_cli("audit", "list", "--limit", "2", "--json").json()
    assert [e["seq"] for e in latest] == [4, 5]

    table = any_cli("audit", "list", "--action", "privacy.restrict").out
    assert "SEQ" in table and "disputes accuracy" in table and "signup form" not in table


def test_reading_the_log_needs_the_audit_role(cli: Cli) -> None:
    cli.add_custom_fields(ROLES)
    _log_five(cli)

    denied = cli("--as", "ann", "audit", "list")
    assert denied.code == 7 and "'ann'" in denied.err and "audit" in denied.err
    assert cli("--as", "ann", "audit", "verify").code == 7
    assert cli("--as", "otto", "audit", "verify").code == 0
    newest = cli("--as", "otto", "audit", "list", "--limit", "2", "--json").json()
    assert [(e["actor"], e["outcome"]) for e in newest] == [("ann", "denied"), ("ann", "denied")]


def _old_interaction(crm: Any, contact_id: str, days_ago: int) -> None:
    etype = crm.entity_type("interaction")
    when = NOW - dt.timedelta(days=days_ago)
    item = Interaction(
        contact_id=contact_id, channel="email", occurred_at=when, created_at=when, updated_at=when
    )
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(item))


def test_sweep_dry_run_then_for_real(any_cli: Cli) -> None:
    any_cli.add_custom_fields(RETENTION)
    with crmkit.open(str(any_cli.project)) as crm:
        ada = crm.contacts.add(email="ada@example.com")
        _old_interaction(crm, ada.id, 90)
        _old_interaction(crm, ada.id, 45)
        _old_interaction(crm, ada.id, 2)
        crm.privacy.consent.grant(
            ada.id, purpose="marketing", channel="email", now=NOW - dt.timedelta(days=400)
        )

    dry = any_cli("privacy", "sweep", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    report = dry.json()
    assert report["dry_run"] is True and report["total"] == 3
    by_key = {k["key"]: k for k in report["keys"]}
    assert (by_key["interaction"]["deleted"], by_key["interaction"]["days"]) == (2, 30)
    assert (by_key["marketing"]["lapsed"], by_key["marketing"]["days"]) == (1, 365)

    text = any_cli("privacy", "sweep", "--dry-run").out
    assert "interaction" in text and "would delete 2 records" in text
    assert "would lapse 1 grant" in text and "nothing was changed" in text
    assert len(any_cli("timeline", "ada@example.com", "--json").json()) == 3

    done = any_cli("privacy", "sweep")
    assert done.code == 0, done.err
    assert "deleted 2 records" in done.out and "would" not in done.out
    assert len(any_cli("timeline", "ada@example.com", "--json").json()) == 1
    sweeps = any_cli("audit", "list", "--action", "privacy.sweep", "--json").json()
    assert [s["details"]["total"] for s in sweeps] == [3]
    assert any_cli("audit", "verify").code == 0


def test_sweep_is_refused_without_the_audit_role(cli: Cli) -> None:
    cli.add_custom_fields(RETENTION + ROLES)
    result = cli("--as", "ann", "privacy", "sweep", "--dry-run")
    assert result.code == 7 and "may not audit" in result.err
    assert cli("--as", "otto", "privacy", "sweep", "--dry-run").code == 0
