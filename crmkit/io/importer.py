"""Importing contacts from CSV, JSON Lines or any format a plugin reads.

``import_contacts(crm, "contacts.csv")`` (and ``crmkit import contacts FILE``)
streams the file through the importer registered for its format, maps columns
to fields (see :mod:`crmkit.io.prepare`), checks every row with the contact
rules and writes the valid rows in batches, all in one transaction.

What happens to invalid rows is the caller's choice:

* by default the whole file is checked and, if any row is invalid, nothing is
  written and :class:`ImportRefused` lists every bad row (line, field, reason);
* ``skip_invalid=True`` keeps the valid rows and writes the others, with the
  reason, to a rejects file (``contacts.rejected.csv`` next to the input);
* ``dry_run=True`` checks everything and writes nothing.

A row is invalid when it cannot be read (bad UTF-8, ragged CSV, bad JSON),
breaks a field rule (type, email or phone, custom-field schema), has no first
name, last name or email, has a malformed ``id``, repeats the email or id of
an earlier line or of a contact already in the database, or has the email or
phone of a person who was erased (add them one at a time with a new consent).
A column that is not a contact field or custom field stops the import before
anything is written. The actor's roles must allow ``write``.

Because the import is one unit of work, an interruption (Ctrl-C, a killed
process, a failing database) keeps nothing: there is never a half-imported
file to clean up. One ``contact.imported`` event is raised per written batch.
"""

from __future__ import annotations

import bisect
import gc
import io
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from crmkit.contacts import BULK_BATCH, NAMELESS, store_contacts
from crmkit.entities.base import utcnow
from crmkit.errors import ImportFailed, ValidationError
from crmkit.io.formats import Importer, SourceRow, formats_by_name
from crmkit.io.prepare import ColumnMap, RowBuilder
from crmkit.io.rejects import RejectsFile
from crmkit.privacy.processing import SuppressionCheck
from crmkit.storage.query import Query
from crmkit.validation import contact_email

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.uow import UnitOfWork

MAX_LISTED = 100
FORMAT_ALIASES = {"ndjson": "jsonl", "jsonlines": "jsonl"}
Source = str | os.PathLike[str] | IO[bytes]


@attrs.frozen
class RowProblem:
    """Why one line of an import file was not imported."""

    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        if self.field:
            return f"line {self.line}: {self.field}: {self.reason}"
        return f"line {self.line}: {self.reason}"


@attrs.define
class ImportReport:
    """What an import did. ``problems`` lists the first :data:`MAX_LISTED` bad rows;
    ``rejected`` counts them all."""

    file: str
    format: str
    dry_run: bool = False
    skip_invalid: bool = False
    total: int = 0
    valid: int = 0
    imported: int = 0
    rejected: int = 0
    problems: list[RowProblem] = attrs.field(factory=list)
    rejects_path: Path | None = None
    bytes_read: int = 0
    bytes_total: int | None = None
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    def add_problem(self, problem: RowProblem) -> None:
        """Count a bad row; keep the :data:`MAX_LISTED` with the lowest line numbers, in order."""
        self.rejected += 1
        problems = self.problems
        if len(problems) < MAX_LISTED or problem.line < problems[-1].line:
            bisect.insort(problems, problem, key=_line_of)
            if len(problems) > MAX_LISTED:
                problems.pop()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for ``--json`` and logs."""
        return {
            "file": self.file,
            "format": self.format,
            "dry_run": self.dry_run,
            "total": self.total,
            "valid": self.valid,
            "imported": self.imported,
            "rejected": self.rejected,
            "problems": [attrs.asdict(p) for p in self.problems],
            "problems_not_listed": self.rejected - len(self.problems),
            "rejects_file": str(self.rejects_path) if self.rejects_path else None,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
        }


def _line_of(problem: RowProblem) -> int:
    return problem.line


class ImportRefused(ImportFailed):
    """Rows of the file are invalid, so nothing was imported; ``report`` lists them."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        bad = report.rejected
        self.summary = (
            f"{report.file}: {bad:,} of {report.total:,} rows are invalid, so nothing was "
            f"imported; fix them and import again, or skip them (--skip-invalid on the command "
            f"line, skip_invalid=True in Python) to import the {report.valid:,} valid rows "
            f"and write the others to a rejects file"
        )
        lines = [self.summary, *(str(p) for p in report.problems)]
        if bad > len(report.problems):
            lines.append(f"... and {bad - len(report.problems):,} more")
        super().__init__("\n".join(lines), report.problems)


class _CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary stream, for progress reports."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size


def importers_by_format(crm: CRM) -> dict[str, Importer]:
    """Every registered importer by format; a plugin's wins over the core's."""
    return formats_by_name(crm.pm, "crmkit_register_importers")


def _pick_importer(crm: CRM, fmt: str | None, name: str | None) -> Importer:
    importers = importers_by_format(crm)
    if fmt is None:
        suffix = Path(name).suffix.lstrip(".").lower() if name else ""
        fmt = FORMAT_ALIASES.get(suffix, suffix)
        if not fmt:
            raise ImportFailed(
                f"cannot tell the format of {name or 'the input'}; give it with --format "
                f"(format= in Python): {', '.join(sorted(importers))}"
            )
    fmt = FORMAT_ALIASES.get(fmt.lower(), fmt.lower())
    importer = importers.get(fmt)
    if importer is None:
        raise ImportFailed(
            f"no importer for format {fmt!r} ({name or 'input'}); known formats: "
            f"{', '.join(sorted(importers))} (a plugin can add others)"
        )
    return importer


def default_rejects_path(path: Path, fmt: str) -> Path:
    """``contacts.csv`` -> ``contacts.rejected.csv`` in the same folder."""
    suffix = "csv" if fmt == "csv" else "jsonl"
    return path.with_name(f"{path.stem}.rejected.{suffix}")


class _ContactImport:
    """One run of the import pipeline; see :func:`import_contacts`."""

    def __init__(
        self,
        crm: CRM,
        report: ImportReport,
        columns: ColumnMap,
        rejects: RejectsFile | None,
        batch_size: int,
        source: str,
        on_progress: Callable[[ImportReport], None] | None,
    ) -> None:
        self.crm = crm
        self.etype = crm.entity_type("contact")
        self.report = report
        self.columns = columns
        self.builder = RowBuilder(crm.rules("contact"))
        self.rejects = rejects
        self.batch_size = max(1, batch_size)
        self.source = source
        self.on_progress = on_progress
        self.emails: dict[str, int] = {}
        self.ids: dict[str, int] = {}
        self.pending = _Batch(keep_sources=rejects is not None)
        self.now = utcnow()
        self.lookup = True
        self.rejected_rows: list[tuple[SourceRow, RowProblem]] = []
        # The backend's bulk adder while the batches are streamed to it, if they are.
        self.adder: Any = None
        self.suppression: SuppressionCheck | None = None

    @property
    def writing(self) -> bool:
        report = self.report
        return not report.dry_run and (report.skip_invalid or report.rejected == 0)

    def run(self, rows: Iterator[SourceRow], uow: UnitOfWork, counter: _CountingReader) -> None:
        """Check every row, queueing the valid ones and writing them a batch at a time."""
        # Into an empty table, only this file's own rows could clash, and the
        # in-file checks catch those: the per-batch database lookups are skipped,
        # and the batches can be streamed by a backend that offers a bulk adder
        # (nothing else touches the transaction until the last one is written).
        self.lookup = bool(uow.tx.query(self.etype, Query(limit=1)))
        # Erased people's emails and phones are looked up a batch at a time, and only
        # if anyone was ever erased; those lookups need the transaction between batches.
        self.suppression = SuppressionCheck(self.crm, uow.tx)
        streamable = not self.lookup and not self.suppression.active
        with ExitStack() as stack:
            open_adder = getattr(uow.tx, "bulk_adder", None)
            if streamable and not self.report.dry_run and open_adder is not None:
                self.adder = stack.enter_context(open_adder(self.etype))
            self.check_all(rows, uow, counter)
        self.adder = None

    def check_all(
        self, rows: Iterator[SourceRow], uow: UnitOfWork, counter: _CountingReader
    ) -> None:
        """The body of :meth:`run`."""
        report = self.report
        rejects = self.rejects
        values_of = self.columns.values
        build = self.builder.row
        emails = self.emails
        size = self.batch_size
        total = 0
        for src in rows:
            total += 1
            line = src.line
            if src.error is not None:
                self.reject(line, None, src.error, src)
            else:
                if rejects is not None and rejects.columns is None and src.values:
                    rejects.set_columns(list(src.values))
                values: Mapping[str, Any] = {}
                try:
                    values = values_of(src.values, line)
                    row = build(values, self.now)
                except ValidationError as exc:
                    self.claim_keys_of_bad_row(values, line)
                    self.reject(line, exc.field, exc.reason, src)
                else:
                    given_id = "id" in values
                    email = row["email"]
                    # The common case (no id, a name, a new email) is settled here;
                    # everything else goes through check().
                    problem = None
                    if (
                        given_id
                        or email is None
                        or not (row["first_name"] or row["last_name"])
                        or emails.setdefault(email, line) != line
                    ):
                        problem = self.check(row, given_id, line)
                    if problem is None:
                        self.queue(src, row, given_id)
                    else:
                        self.reject(line, *problem, src)
            if total % size == 0:
                report.total = total
                self.flush(uow, counter)
        report.total = total
        self.flush(uow, counter)

    def queue(self, src: SourceRow, row: dict[str, Any], given_id: bool) -> None:
        """Keep a checked row for the next batch."""
        pending = self.pending
        pending.rows.append(row)
        pending.lines.append(src.line)
        if pending.sources is not None:
            pending.sources.append(src)
        if given_id:
            pending.given_ids.append(row["id"])

    def check(self, row: dict[str, Any], given_id: bool, line: int) -> tuple[str, str] | None:
        """The import's own rules: a name or email, a well-formed id, no repeats in the file."""
        if not (row["first_name"] or row["last_name"] or row["email"]):
            return "email", NAMELESS
        if given_id:
            record_id = row["id"]
            try:
                row["id"] = record_id = str(uuid.UUID(record_id))
            except ValueError:
                return "id", (
                    f"{record_id!r} is not a crmkit id (a UUID such as "
                    "0190a6b4-5d1e-7c3a-9f00-2b4c6d8e0f12); leave it empty for a new contact"
                )
            earlier = self.ids.setdefault(record_id, line)
            if earlier != line:
                return "id", f"{record_id} is also on line {earlier}"
        email = row["email"]
        if email is not None:
            earlier = self.emails.setdefault(email, line)
            if earlier != line:
                return "email", f"{email} is also on line {earlier}"
        return None

    def claim_keys_of_bad_row(self, values: Mapping[str, Any], line: int) -> None:
        """Remember the email of an invalid row, so a later copy of it is reported too."""
        raw = values.get("email")
        if isinstance(raw, str):
            try:
                email = contact_email(raw)
            except ValueError:
                return
            if email is not None:
                self.emails.setdefault(email, line)

    def reject(
        self, line: int, field: str | None, reason: str, src: SourceRow | None = None
    ) -> None:
        problem = RowProblem(line, field, reason)
        self.report.add_problem(problem)
        if self.rejects is not None and src is not None:
            self.rejected_rows.append((src, problem))

    def write_rejects(self) -> None:
        """Hand the rejects of the rows up to the last batch to the rejects file, in line order."""
        if self.rejects is not None and self.rejected_rows:
            self.rejected_rows.sort(key=lambda item: item[1].line)
            for src, problem in self.rejected_rows:
                self.rejects.add(src, problem)
            self.rejected_rows = []

    def write(self, uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
        """Store a checked batch with one ``contact.imported`` event.

        The write ``Contacts.add_many`` does; its duplicate-email query is not
        repeated because :meth:`flush` has run it.
        """
        adder = self.adder
        store_contacts(
            uow, self.etype, rows, self.source, adder.add_many if adder is not None else None
        )

    def flush(self, uow: UnitOfWork, counter: _CountingReader) -> None:
        """Check a batch against the database and write it (unless nothing may be written)."""
        batch, self.pending = self.pending, _Batch(keep_sources=self.rejects is not None)
        report = self.report
        if batch.rows:
            taken_ids, taken = self.taken(uow, batch)
            suppression = self.suppression
            erased = suppression.matches(batch.rows) if suppression is not None else {}
            good = batch.rows
            if taken_ids or taken or erased:
                good = []
                for index, row in enumerate(batch.rows):
                    src = batch.sources[index] if batch.sources is not None else None
                    line = batch.lines[index]
                    if row["id"] in taken_ids:
                        self.reject(line, "id", f"{row['id']} is already in the database", src)
                    elif row["email"] in taken:
                        reason = f"{row['email']} already belongs to a contact in the database"
                        self.reject(line, "email", reason, src)
                    elif index in erased:
                        kind = erased[index]
                        reason = SuppressionCheck.reason(row[kind])
                        self.reject(line, kind, reason, src)
                    else:
                        good.append(row)
            report.valid += len(good)
            if good and self.writing:
                self.write(uow, good)
                report.imported += len(good)
        self.write_rejects()
        self.now = utcnow()
        report.bytes_read = counter.count
        if self.on_progress is not None:
            self.on_progress(report)

    def taken(self, uow: UnitOfWork, batch: _Batch) -> tuple[set[Any], set[Any]]:
        """The ids given in the file and the emails of a batch that the database already has."""
        if not self.lookup:
            return set(), set()
        emails = [row["email"] for row in batch.rows if row["email"] is not None]
        tx = uow.tx
        ids = batch.given_ids
        taken_ids = tx.existing_values(self.etype, "id", ids) if ids else set()
        taken = tx.existing_values(self.etype, "email", emails) if emails else set()
        return taken_ids, taken


class _Batch:
    """Checked rows waiting for their database check and write.

    Kept as parallel lists, so a waiting row costs few objects for the garbage
    collector to walk; the source rows are kept only for a rejects file.
    """

    __slots__ = ("given_ids", "lines", "rows", "sources")

    def __init__(self, *, keep_sources: bool) -> None:
        self.rows: list[dict[str, Any]] = []
        self.lines: list[int] = []
        self.sources: list[SourceRow] | None = [] if keep_sources else None
        self.given_ids: list[str] = []


def import_contacts(
    crm: CRM,
    path_or_stream: Source,
    *,
    format: str | None = None,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    rejects_path: str | os.PathLike[str] | None = None,
    batch_size: int = BULK_BATCH,
    on_progress: Callable[[ImportReport], None] | None = None,
    source: str = "import",
    actor: str | None = None,
) -> ImportReport:
    """Import contacts from a file or binary stream; returns what was done.

    ``format`` is a registered importer's format (``csv``, ``jsonl``); by
    default it is guessed from the file's suffix (``.csv``, ``.jsonl``,
    ``.ndjson``). ``mapping`` maps column names to contact fields or custom
    fields (``{"E-mail": "email"}``), or to ``"-"`` to ignore a column.
    ``on_progress(report)`` is called after every batch of ``batch_size`` rows;
    ``source`` goes into each ``contact.imported`` event.

    Raises :class:`ImportRefused` (an :class:`~crmkit.errors.ImportFailed`)
    when rows are invalid and neither ``skip_invalid`` nor ``dry_run`` is set,
    and :class:`~crmkit.errors.ImportFailed` for a column that matches no field.
    In both cases nothing is written.
    """
    started = time.perf_counter()
    path = None if hasattr(path_or_stream, "read") else Path(os.fspath(path_or_stream))
    name = str(path) if path is not None else getattr(path_or_stream, "name", None)
    importer = _pick_importer(crm, format, name if isinstance(name, str) else None)
    report = ImportReport(
        file=name if isinstance(name, str) else "<stream>",
        format=importer.format,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
    )
    columns = ColumnMap(crm.entity_type("contact"), crm.custom_fields("contact"), mapping or {})
    with ExitStack() as stack:
        if path is not None:
            try:
                stream: IO[bytes] = stack.enter_context(path.open("rb"))
            except OSError as exc:
                raise ImportFailed(f"cannot read {path}: {exc.strerror}") from None
            report.bytes_total = path.stat().st_size
        else:
            stream = _binary(path_or_stream)  # type: ignore[arg-type]
        rejects = None
        if skip_invalid and not dry_run:
            target = rejects_path or (
                default_rejects_path(Path(report.file), importer.format)
                if report.file != "<stream>"
                else None
            )
            if target is not None:
                if path is not None and Path(target).resolve() == path.resolve():
                    raise ImportFailed(
                        f"the rejects file {target} would overwrite the file being imported; "
                        "give another --rejects FILE"
                    )
                rejects = RejectsFile(Path(target), as_csv=importer.format == "csv")
                stack.callback(rejects.discard)
        counter = _CountingReader(stream)
        reader = io.BufferedReader(counter, buffer_size=1 << 16)
        job = _ContactImport(crm, report, columns, rejects, batch_size, source, on_progress)
        with crm.unit_of_work(actor) as uow, _collector_paused():
            # The role is checked once for the file; no person is known yet.
            crm.privacy.require("write", actor=uow.actor, entity="contact", uow=uow)
            job.run(importer.read(reader), uow, counter)
            report.seconds = time.perf_counter() - started
            if report.rejected and not skip_invalid and not dry_run:
                raise ImportRefused(report)
        if rejects is not None and report.rejected:
            report.rejects_path = rejects.commit()
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows are imported.

    An import allocates millions of short-lived containers that reference
    counting frees, and the collector would walk the batch being built again
    and again for nothing; it is switched back on (if it was on) afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _binary(stream: IO[Any]) -> IO[bytes]:
    """The binary side of ``stream``; a text stream is read through its buffer."""
    if isinstance(stream, io.TextIOBase):
        buffer = getattr(stream, "buffer", None)
        if buffer is None:
            raise ImportFailed("import needs a binary stream (open the file with 'rb')")
        return buffer
    return stream
