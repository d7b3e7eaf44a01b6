"""``crmkit privacy sweep``: apply the project's ``[privacy.retention]`` periods.

A privacy officer's command: it needs a role that allows ``audit`` (and
``erase`` when whole contacts are past their period). ``--dry-run`` shows
what would go without changing anything.
"""

from __future__ import annotations

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json
from crmkit.privacy.retention import KeyCounts, SweepReport

# (count attribute, done wording, dry-run wording, what is counted)
_WORDS: tuple[tuple[str, str, str, str], ...] = (
    ("deleted", "deleted", "would delete", "record"),
    ("anonymised", "anonymised", "would anonymise", "record"),
    ("erased", "erased", "would erase", "person"),
    ("lapsed", "lapsed", "would lapse", "grant"),
)


@click.command("sweep")
@click.option("--dry-run", is_flag=True, help="Count what is past its period; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def sweep_command(dry_run: bool, as_json: bool) -> None:
    """Delete, anonymise, erase or lapse what is past its retention period.

    Periods come from [privacy.retention] in crmkit.toml: an entity type
    (records older than the period) or a consent purpose (grants older than
    the period lapse).
    """
    crm = get_crm()
    crm.privacy.require("audit", actor=crm.actor)
    report = crm.privacy.sweep(dry_run=dry_run, actor=crm.actor)
    if as_json:
        echo_json(report.as_dict())
        return
    if not report.keys:
        click.echo("No retention periods are set; add them under [privacy.retention].")
        return
    for counts in report.keys:
        click.echo(f"{counts.key} ({_period(counts)}): {_summary(counts, dry_run)}")
    click.echo(_total(report))


def _period(counts: KeyCounts) -> str:
    what = "grants" if counts.kind == "purpose" else "records"
    return f"{what} older than {counts.days} days, before {counts.cutoff:%Y-%m-%d}"


def _summary(counts: KeyCounts, dry_run: bool) -> str:
    parts = []
    for attr, done, would, noun in _WORDS:
        number = getattr(counts, attr)
        if number:
            plural = noun if number == 1 else ("people" if noun == "person" else noun + "s")
            parts.append(f"{would if dry_run else done} {number} {plural}")
    return ", ".join(parts) or "nothing past its period"


def _total(report: SweepReport) -> str:
    if report.dry_run:
        return f"total: {report.total} (dry run: nothing was changed)"
    return f"total: {report.total}"
