"""``crmkit import`` and ``crmkit export``: move contacts in and out as CSV or JSON Lines.

``crmkit import contacts FILE`` checks every row and, by default, imports
nothing if any row is invalid, listing each bad row as ``line N: FIELD:
REASON`` and exiting with 4. ``--skip-invalid`` imports the valid rows and
writes the others to a rejects file; ``--dry-run`` only checks. A progress bar
is drawn on stderr when it is a terminal.

``crmkit export contacts`` (and ``export organizations``) writes every record,
in creation order, to stdout or ``-o FILE`` (written under a temporary name and
renamed when complete).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_context
from crmkit.cli.output import echo_json

if TYPE_CHECKING:
    from crmkit.io.importer import ImportRefused, ImportReport

EXIT_INVALID = 4


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """``("E-mail=email", "Fax=-")`` -> ``{"E-mail": "email", "Fax": "-"}``."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, field = item.rpartition("=")
        if not sep or not column or not field.strip():
            raise click.BadParameter(
                f"{item!r}: use COLUMN=FIELD (or COLUMN=- to ignore the column)",
                param_hint="--map",
            )
        mapping[column] = field.strip()
    return mapping


@click.group("import")
def import_group() -> None:
    """Import records from CSV or JSON Lines files."""


@import_group.command("contacts")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "fmt",
    default=None,
    metavar="FORMAT",
    help="csv or jsonl (or a plugin's format); default: from the file's suffix.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Import COLUMN into FIELD (a contact field or custom field); COLUMN=- ignores it. "
    "Repeatable.",
)
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid rows; write the invalid ones, with reasons, to the rejects file.",
)
@click.option(
    "--rejects",
    "rejects",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Where --skip-invalid writes rejected rows (default: FILE.rejected.csv beside FILE).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_contacts_command(
    file: str,
    fmt: str | None,
    maps: tuple[str, ...],
    dry_run: bool,
    skip_invalid: bool,
    rejects: str | None,
    as_json: bool,
) -> None:
    """Import contacts from FILE (- for stdin, with --format).

    Columns are matched to contact fields by name ("First Name" is first_name)
    or to custom fields of the project; any other column stops the import
    until it is mapped (--map COLUMN=FIELD) or ignored (--map COLUMN=-). An
    "id" column keeps the ids of an earlier export. By default nothing is
    imported if any row is invalid; every bad row is listed as
    "line N: FIELD: REASON" and the exit code is 4.
    """
    from crmkit.io.importer import ImportRefused, import_contacts

    mapping = parse_mapping(maps)
    if file == "-" and fmt is None:
        raise click.UsageError("reading from stdin needs --format csv|jsonl")
    if rejects is not None and not skip_invalid:
        raise click.UsageError("--rejects FILE goes with --skip-invalid")
    crm = get_context().crm()
    source: Any = sys.stdin.buffer if file == "-" else file
    try:
        with _progress(None if file == "-" else Path(file)) as on_progress:
            report = import_contacts(
                crm,
                source,
                format=fmt,
                mapping=mapping,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                rejects_path=rejects,
                on_progress=on_progress,
                source=f"import {Path(file).name}" if file != "-" else "import",
            )
    except ImportRefused as refused:
        _refused(refused, as_json)
        return
    if as_json:
        echo_json(report.as_dict())
    else:
        for problem in report.problems if dry_run and not skip_invalid else ():
            click.echo(str(problem), err=True)
        click.echo(_summary(report))
    if dry_run and report.rejected and not skip_invalid:
        sys.exit(EXIT_INVALID)


def _refused(refused: ImportRefused, as_json: bool) -> None:
    report = refused.report
    if as_json:
        echo_json({**report.as_dict(), "imported": 0, "error": refused.summary})
    else:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        hidden = report.rejected - len(report.problems)
        if hidden:
            click.echo(
                f"... and {hidden:,} more (--skip-invalid writes them all to a rejects file)",
                err=True,
            )
        click.echo(f"Error: {refused.summary}", err=True)
    sys.exit(EXIT_INVALID)


def _summary(report: ImportReport) -> str:
    speed = f"{report.seconds:.1f} s, {report.rows_per_second:,.0f} rows/s"
    if report.dry_run:
        return (
            f"Dry run of {report.file}: {report.valid:,} valid, {report.rejected:,} invalid "
            f"of {report.total:,} rows; nothing was written ({speed})"
        )
    noun = "contact" if report.imported == 1 else "contacts"
    line = f"Imported {report.imported:,} {noun}, rejected {report.rejected:,} ({speed})"
    if report.rejects_path is not None:
        line += (
            f"; rejected rows are in {report.rejects_path} (import it again once fixed, "
            "with --map line=- --map field=- --map reason=-)"
        )
    return line


@contextmanager
def _progress(path: Path | None) -> Iterator[Any]:
    """A progress callback drawing a bar over the file's bytes, when stderr is a terminal."""
    if path is None or not sys.stderr.isatty() or not path.is_file():
        yield None
        return
    with click.progressbar(
        length=path.stat().st_size, label="Importing", file=sys.stderr, show_eta=True
    ) as bar:
        done = [0]

        def advance(report: ImportReport) -> None:
            bar.update(report.bytes_read - done[0])
            done[0] = report.bytes_read

        yield advance


@click.group("export")
def export_group() -> None:
    """Export records as CSV or JSON Lines."""


def _format_option(func: Any) -> Any:
    return click.option(
        "--format",
        "fmt",
        default="csv",
        show_default=True,
        metavar="FORMAT",
        help="csv or jsonl (or a plugin's format).",
    )(func)


def _output_option(func: Any) -> Any:
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, allow_dash=True),
        default="-",
        metavar="FILE",
        help="Write to FILE instead of stdout.",
    )(func)


@export_group.command("contacts")
@_format_option
@_output_option
def export_contacts_command(fmt: str, output: str) -> None:
    """Export every contact, oldest first, with all fields and custom fields.

    The export imports back into an empty project as the same contacts (same
    ids, fields, tags, custom fields and timestamps).
    """
    _export("contact", "contacts", fmt, output)


@export_group.command("organizations")
@_format_option
@_output_option
def export_organizations_command(fmt: str, output: str) -> None:
    """Export every organization, oldest first, with all fields and custom fields."""
    _export("organization", "organizations", fmt, output)


def _export(entity: str, plural: str, fmt: str, output: str) -> None:
    from crmkit.io.exporter import export_records, pick_exporter

    crm = get_context().crm()
    binary = pick_exporter(crm, fmt).binary
    with _output(output, binary) as stream:
        count = export_records(crm, entity, stream, format=fmt)
    if output != "-":
        click.echo(f"Exported {count:,} {plural} to {output}", err=True)


@contextmanager
def _output(output: str, binary: bool) -> Iterator[IO[Any]]:
    """stdout, or a file written as ``FILE.partial`` and renamed once complete."""
    if output == "-":
        out: IO[Any] = sys.stdout.buffer if binary else sys.stdout
        yield out
        out.flush()
        return
    target = Path(output)
    partial = target.with_name(f"{target.name}.partial")
    try:
        stream: IO[Any] = (
            partial.open("wb") if binary else partial.open("w", encoding="utf-8", newline="")
        )
    except OSError as exc:
        raise click.FileError(output, exc.strerror) from None
    try:
        with stream:
            yield stream
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
