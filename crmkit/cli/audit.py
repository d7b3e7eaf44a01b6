"""``crmkit audit``: read the privacy audit log and check that nobody edited it.

Each entry of the log carries a hash over its content and the previous
entry's hash, so ``audit verify`` finds the first entry that was changed,
inserted or removed by hand. Both commands need a role that allows ``audit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_table
from crmkit.contacts import contact_row
from crmkit.errors import CrmkitError
from crmkit.privacy.audit import CHAINED
from crmkit.storage.query import Cond, Filter, Query, where_from

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.privacy.audit import ChainReport


class AuditChainBroken(CrmkitError):
    """An entry of the audit log does not match its hash or its place in the chain."""

    exit_code = 4

    def __init__(self, report: ChainReport) -> None:
        self.report = report
        super().__init__(
            f"audit log broken at entry seq {report.broken_seq} (id {report.broken_id}): "
            f"{report.problem}; {report.checked} entries before it are intact. "
            "Restore the log from a backup taken before that entry was changed"
        )


@click.group("audit")
def audit_group() -> None:
    """The privacy audit log: who did what to whom, and whether anyone edited it."""


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the check's result as JSON.")
def verify_command(as_json: bool) -> None:
    """Check the hash chain of the audit log; exits 4 naming the first broken entry."""
    crm = get_crm()
    crm.privacy.require("audit", actor=crm.actor)
    report = crm.privacy.verify_audit()
    if as_json:
        echo_json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "broken_seq": report.broken_seq,
                "broken_id": report.broken_id,
                "problem": report.problem,
            }
        )
    if not report.ok:
        raise AuditChainBroken(report)
    if not as_json:
        click.echo(f"ok: {report.checked} entries, chain intact")


@audit_group.command("list")
@click.option("--subject", metavar="CONTACT", help="Only entries about this contact (id or email).")
@click.option(
    "--action",
    metavar="ACTION",
    help="Only entries of this action (e.g. privacy.sweep); end with * for a prefix (consent.*).",
)
@click.option("--limit", default=50, show_default=True, help="Show the latest N entries.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_command(subject: str | None, action: str | None, limit: int, as_json: bool) -> None:
    """Show the latest audit entries, oldest of them first."""
    if limit < 1:
        raise click.UsageError("--limit must be at least 1")
    crm = get_crm()
    crm.privacy.require("audit", actor=crm.actor)
    rows = latest_entries(crm, subject=subject, action=action, limit=limit)
    if as_json:
        echo_json(rows)
        return
    echo_table(
        rows,
        [
            ("seq", "SEQ"),
            ("at", "AT (UTC)"),
            ("actor", "ACTOR"),
            ("action", "ACTION"),
            ("subject_id", "SUBJECT"),
            ("outcome", "OUTCOME"),
            ("reason", "REASON"),
        ],
        empty="No audit entries" + (" match." if subject or action else " yet."),
    )


def latest_entries(
    crm: CRM, *, subject: str | None, action: str | None, limit: int
) -> list[dict[str, Any]]:
    """The ``limit`` latest entries matching the filters, in chain order.

    ``subject`` is a contact's id or email; the id of a contact that no longer
    exists (an erased person) is matched as given.
    """
    conds: list[Filter] = []
    with crm.backend.read() as reader:
        if subject is not None:
            found = contact_row(reader, crm.entity_type("contact"), subject)
            conds.append(Cond("subject_id", "eq", found["id"] if found else subject.strip()))
        if action is not None:
            if action.endswith("*"):
                conds.append(Cond("action", "startswith", action[:-1]))
            else:
                conds.append(Cond("action", "eq", action))
        rows = reader.query(crm.privacy.audit_type, Query(where_from(conds), ("-seq",), limit))
    return [{name: row[name] for name in CHAINED} for row in reversed(rows)]
