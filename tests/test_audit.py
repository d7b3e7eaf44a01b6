"""The privacy audit log: a changed, removed or re-hashed entry is found and named."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

import crmkit
from crmkit.crm import CRM
from crmkit.privacy import audit
from crmkit.storage.sql.backend import SqlBackend


@pytest.fixture
def logged(sql_url: str) -> Iterator[CRM]:
    """A CRM on each SQL database whose audit log holds five entries."""
    with crmkit.open(sql_url, plugins=[], actor="dpo") as crm:
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
                    "reason": "signup form v3",
                },
            ]
        )
        with crm.unit_of_work() as uow:
            uow.audit("privacy.restrict", subject_id=ada.id, reason="disputes accuracy")
            uow.audit("privacy.rectify", subject_id=ada.id, details={"fields": ["city"]})
        crm.privacy.write_audit([{"actor": "dpo", "action": "privacy.sweep", "details": {"n": 2}}])
        yield crm


def _execute(crm: CRM, statement: str, **params: Any) -> None:
    """Change the database behind the CRM's back, as someone with database access could."""
    assert isinstance(crm.backend, SqlBackend)
    with crm.backend.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def _row(crm: CRM, seq: int) -> dict[str, Any]:
    with crm.backend.read() as reader:
        found = reader.get_by(crm.privacy.audit_type, "seq", seq)
    assert found is not None
    return found


def test_an_untouched_log_verifies(logged: CRM) -> None:
    report = logged.privacy.verify_audit()
    assert (report.ok, report.checked, report.broken_seq) == (True, 5, None)
    assert _row(logged, 3)["actor"] == "dpo"  # the unit of work's actor signs its entries


@pytest.mark.parametrize(("column", "value"), [("reason", "nothing to see"), ("actor", "eve")])
def test_an_entry_changed_by_hand_is_named(logged: CRM, column: str, value: str) -> None:
    third = _row(logged, 3)
    _execute(logged, f"UPDATE privacy_audit SET {column} = :value WHERE seq = 3", value=value)

    report = logged.privacy.verify_audit()
    assert not report.ok
    assert (report.broken_seq, report.broken_id, report.checked) == (3, third["id"], 2)
    assert report.problem is not None and "changed" in report.problem


def test_a_removed_entry_is_named(logged: CRM) -> None:
    _execute(logged, "DELETE FROM privacy_audit WHERE seq = 3")

    report = logged.privacy.verify_audit()
    assert (report.ok, report.broken_seq, report.broken_id) == (False, 4, _row(logged, 4)["id"])
    assert report.problem is not None and "entry 3 is missing" in report.problem


def test_an_entry_rehashed_after_editing_breaks_the_next_link(logged: CRM) -> None:
    third = _row(logged, 3)
    edited = {**third, "reason": "nothing to see"}
    own_hash = audit.entry_hash(edited, third["prev_hash"])
    _execute(
        logged,
        "UPDATE privacy_audit SET reason = :reason, hash = :hash WHERE seq = 3",
        reason=edited["reason"],
        hash=own_hash,
    )

    report = logged.privacy.verify_audit()
    assert (report.ok, report.broken_seq, report.checked) == (False, 4, 3)
    assert report.problem is not None and "does not point to the entry before it" in report.problem


def test_the_chain_is_checked_across_pages(sql_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "PAGE", 3)
    with crmkit.open(sql_url, plugins=[]) as crm:
        crm.privacy.write_audit(
            [
                {"actor": "dpo", "action": "privacy.export", "reason": f"request {n}"}
                for n in range(10)
            ]
        )
        assert (crm.privacy.verify_audit().ok, crm.privacy.verify_audit().checked) == (True, 10)

        _execute(crm, "UPDATE privacy_audit SET reason = 'x' WHERE seq = 8")
        report = crm.privacy.verify_audit()
        assert (report.ok, report.broken_seq, report.checked) == (False, 8, 7)


def test_entries_continue_the_chain_after_many_appends(sql_url: str) -> None:
    with crmkit.open(sql_url, plugins=[]) as crm:
        for n in range(3):
            crm.privacy.write_audit([{"actor": "dpo", "action": "privacy.sweep"}] * (n + 1))
        rows = [_row(crm, seq) for seq in range(1, 7)]
        assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
        assert crm.privacy.verify_audit().checked == 6
