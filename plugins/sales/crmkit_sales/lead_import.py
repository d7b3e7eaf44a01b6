"""Capturing leads in bulk from CSV or JSON Lines files.

``import_leads(crm, "leads.csv")`` (and ``crmkit sales leads import FILE``)
reads the file through the importer crmkit has for its format (the core's
``csv`` and ``jsonl``, or a plugin's), matches columns to lead fields by name
(``First Name`` is ``first_name``), checks every row as
:meth:`crmkit_sales.leads.Leads.add` does and writes the valid ones in one
unit of work, as crmkit's contact import does:

* by default any invalid row refuses the whole file: nothing is written and
  :class:`~crmkit.io.importer.ImportRefused` lists every bad row (line, field,
  reason);
* ``skip_invalid=True`` writes the valid rows and the others, with their
  reasons, to a rejects file (``leads.rejected.csv`` next to the input);
* ``dry_run=True`` checks everything and writes nothing.

A row is invalid when it cannot be read, breaks a field rule (type, email,
phone, status), has no name, email or company, repeats the email of an
earlier line, or has the email or phone of a person who was erased. A column
that is not a lead field (or is one crmkit sets itself, such as ``score``)
stops the import before anything is written. Empty cells leave a field at its
default; a row without a ``source`` gets the ``source`` argument. One
``sales.lead.imported`` event is raised per written batch of
:data:`BATCH` leads (``rejected`` counts the file's rejected rows).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.errors import ImportFailed, ValidationError
from crmkit.io.formats import Importer, SourceRow
from crmkit.io.importer import (
    FORMAT_ALIASES,
    ImportRefused,
    ImportReport,
    RowProblem,
    default_rejects_path,
    importers_by_format,
)
from crmkit.io.prepare import column_key
from crmkit.io.rejects import RejectsFile
from crmkit.privacy.processing import SuppressionCheck
from crmkit_sales.entities import Lead
from crmkit_sales.leads import LEAD, MANAGED_FIELDS, PURPOSE, clean_lead, erased_reason, lead_type

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.uow import UnitOfWork

BATCH = 2000


@attrs.define
class LeadImportReport(ImportReport):
    """What a lead import did: the counts and problems of an import, and the new leads' ids."""

    lead_ids: list[str] = attrs.field(factory=list)


def _pick_importer(crm: CRM, path: Path, fmt: str | None) -> Importer:
    importers = importers_by_format(crm)
    name = (fmt or path.suffix.lstrip(".")).lower()
    name = FORMAT_ALIASES.get(name, name)
    importer = importers.get(name)
    if importer is None:
        raise ImportFailed(
            f"cannot import {path} as {name or 'a file without a suffix'!r}; give a .csv or "
            f".jsonl file, or the format with --format: {', '.join(sorted(importers))}"
        )
    return importer


class _Columns:
    """Where each column goes: the lead field named like it (``First Name`` -> first_name)."""

    def __init__(self, crm: CRM) -> None:
        names = lead_type(crm).field_names
        self._fields = {column_key(n): n for n in names if n not in MANAGED_FIELDS}
        self._managed = {column_key(n): n for n in MANAGED_FIELDS}
        self._known = ", ".join(self._fields.values())
        self._resolved: dict[str, str] = {}

    def field(self, column: str, line: int) -> str:
        found = self._resolved.get(column)
        if found is not None:
            return found
        key = column_key(column)
        if key in self._fields:
            self._resolved[column] = self._fields[key]
            return self._fields[key]
        if key in self._managed:
            why = f"{self._managed[key]} {MANAGED_FIELDS[self._managed[key]]}"
        else:
            why = "it is not a lead field"
        raise ImportFailed(
            f"column {column!r} (line {line}) cannot be imported: {why}; remove or rename the "
            f"column (lead fields: {self._known})"
        )

    def values(self, source: Mapping[str, Any], line: int) -> dict[str, Any]:
        """The row's values by field; empty cells are left out so defaults apply."""
        values: dict[str, Any] = {}
        for column, raw in source.items():
            field = self.field(column, line)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            values[field] = raw
        return values


@attrs.define
class _Checked:
    """Rows that passed the checks, with their source rows for the rejects file."""

    rows: list[dict[str, Any]] = attrs.field(factory=list)
    lines: list[int] = attrs.field(factory=list)
    sources: list[SourceRow] = attrs.field(factory=list)


class _LeadImport:
    """One run of a lead import; see :func:`import_leads`."""

    def __init__(self, crm: CRM, report: LeadImportReport, rejects: RejectsFile | None) -> None:
        self.crm = crm
        self.report = report
        self.rejects = rejects
        self.columns = _Columns(crm)
        self.emails: dict[str, int] = {}
        self.checked = _Checked()
        self.rejected: list[tuple[SourceRow, RowProblem]] = []

    def reject(self, src: SourceRow, field: str | None, reason: str) -> None:
        problem = RowProblem(src.line, field, reason)
        self.report.add_problem(problem)
        if self.rejects is not None:
            self.rejected.append((src, problem))

    def write_rejects(self) -> None:
        """Hand the rejected rows to the rejects file, in line order."""
        if self.rejects is not None:
            for src, problem in sorted(self.rejected, key=lambda item: item[1].line):
                self.rejects.add(src, problem)

    def check(self, rows: Iterator[SourceRow], default_source: str) -> None:
        """Check every row; the good ones wait in :attr:`checked`."""
        for src in rows:
            self.report.total += 1
            if src.error is not None:
                self.reject(src, None, src.error)
                continue
            if self.rejects is not None and self.rejects.columns is None and src.values:
                self.rejects.set_columns(list(src.values))
            values = self.columns.values(src.values, src.line)
            values.setdefault("source", default_source)
            try:
                row = clean_lead(self.crm, values, record=f"line {src.line}")
            except ValidationError as exc:
                self.reject(src, exc.field, exc.reason)
                continue
            email = row.get("email")
            if email is not None:
                earlier = self.emails.setdefault(email, src.line)
                if earlier != src.line:
                    self.reject(src, "email", f"{email} is also on line {earlier}")
                    continue
            self.checked.rows.append(lead_type(self.crm).to_row(Lead(**row)))
            self.checked.lines.append(src.line)
            self.checked.sources.append(src)

    def refuse_erased(self, uow: UnitOfWork) -> list[dict[str, Any]]:
        """The checked rows whose email or phone is not an erased person's (others rejected)."""
        checked = self.checked
        good: list[dict[str, Any]] = []
        suppression = SuppressionCheck(self.crm, uow.tx)
        for start in range(0, len(checked.rows), BATCH):
            batch = checked.rows[start : start + BATCH]
            hits = suppression.matches(batch)
            for index, row in enumerate(batch):
                kind = hits.get(index)
                if kind is None:
                    good.append(row)
                else:
                    self.reject(checked.sources[start + index], kind, erased_reason(row[kind]))
        return good

    def write(self, uow: UnitOfWork, rows: list[dict[str, Any]], event_source: str) -> None:
        """Store the rows a batch at a time, one ``sales.lead.imported`` event per batch."""
        etype = lead_type(self.crm)
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            uow.tx.add_many(etype, batch)
            ids = [row["id"] for row in batch]
            uow.record_activity(
                "sales.lead.imported",
                {
                    "count": len(ids),
                    "source": event_source,
                    "lead_ids": ids,
                    "rejected": self.report.rejected,
                },
                contact_id=None,
                summary=f"{len(ids)} leads imported from {event_source}",
            )
            self.report.lead_ids.extend(ids)
            self.report.imported += len(ids)


def import_leads(
    crm: CRM,
    path: str | os.PathLike[str],
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    actor: str | None = None,
    format: str | None = None,
    rejects_path: str | os.PathLike[str] | None = None,
    source: str = "import",
) -> LeadImportReport:
    """Import leads from a CSV or JSON Lines file in one unit of work; returns what was done.

    ``format`` overrides the format guessed from the suffix; ``source`` is the
    lead source of rows without one. Raises :class:`~crmkit.io.importer.ImportRefused`
    when rows are invalid and neither ``skip_invalid`` nor ``dry_run`` is set, and
    :class:`~crmkit.errors.ImportFailed` for a column that is not a lead field or a
    file that cannot be read. In both cases nothing is written.
    """
    started = time.perf_counter()
    file = Path(os.fspath(path))
    importer = _pick_importer(crm, file, format)
    report = LeadImportReport(
        file=str(file), format=importer.format, dry_run=dry_run, skip_invalid=skip_invalid
    )
    with ExitStack() as stack:
        try:
            stream = stack.enter_context(file.open("rb"))
        except OSError as exc:
            raise ImportFailed(f"cannot read {file}: {exc.strerror}") from None
        rejects = None
        if skip_invalid and not dry_run:
            target = Path(rejects_path or default_rejects_path(file, importer.format))
            if target.resolve() == file.resolve():
                raise ImportFailed(
                    f"the rejects file {target} would overwrite the file being imported; "
                    "name another one"
                )
            rejects = RejectsFile(target, as_csv=importer.format == "csv")
            stack.callback(rejects.discard)
        job = _LeadImport(crm, report, rejects)
        with crm.unit_of_work(actor) as uow:
            # The role is checked once for the file; no person is known yet.
            crm.privacy.require("write", actor=uow.actor, entity=LEAD, purpose=PURPOSE, uow=uow)
            job.check(importer.read(stream), source)
            good = job.refuse_erased(uow)
            report.valid = len(good)
            report.seconds = time.perf_counter() - started
            if report.rejected and not skip_invalid and not dry_run:
                raise ImportRefused(report)
            if not dry_run:
                job.write(uow, good, file.name)
        if rejects is not None and report.rejected:
            job.write_rejects()
            report.rejects_path = rejects.commit()
    report.seconds = time.perf_counter() - started
    return report
