"""The rejects file of an import: the rows that were not imported, and why.

A CSV import's rejects are a CSV with the file's own columns followed by
``line``, ``field`` and ``reason``; other formats get JSON Lines, each
object the original record plus those three keys. Rows that could not be
read at all (bad encoding, ragged CSV, bad JSON) keep only their line number
and reason. To import the fixed rows again, drop the three columns or ignore
them with ``--map line=- --map field=- --map reason=-``.

The file is written under a temporary name and renamed only when the import
commits, so an interrupted import leaves no rejects file behind.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmkit.io.formats import SourceRow
    from crmkit.io.importer import RowProblem

EXTRA_COLUMNS = ("line", "field", "reason")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class RejectsFile:
    """Collects rejected rows into ``path`` (CSV when ``as_csv``, else JSON Lines)."""

    def __init__(self, path: Path, *, as_csv: bool) -> None:
        self.path = path
        self.as_csv = as_csv
        self.columns: list[str] | None = None if as_csv else []
        self._partial = path.with_name(f"{path.name}.partial")
        self._fh: IO[str] | None = None
        self._writer: Any = None
        self._waiting: list[tuple[SourceRow, RowProblem]] = []

    def set_columns(self, columns: list[str]) -> None:
        """The input's columns (from its first readable row); rows seen before wait for them."""
        self.columns = columns
        waiting, self._waiting = self._waiting, []
        for src, problem in waiting:
            self.add(src, problem)

    def _open(self) -> IO[str]:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self._partial.open("w", encoding="utf-8", newline="")
            if self.as_csv:
                columns = self.columns or []
                extra = [c if c not in columns else f"_{c}" for c in EXTRA_COLUMNS]
                self._writer = csv.writer(self._fh, lineterminator="\n")
                self._writer.writerow([*columns, *extra])
        return self._fh

    def add(self, src: SourceRow, problem: RowProblem) -> None:
        if self.columns is None:
            self._waiting.append((src, problem))
            return
        fh = self._open()
        extra = [problem.line, problem.field or "", problem.reason]
        if self.as_csv:
            values = src.values
            self._writer.writerow([*(_cell(values.get(c)) for c in self.columns), *extra])
        else:
            record = {**src.values, **dict(zip(EXTRA_COLUMNS, extra, strict=True))}
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def commit(self) -> Path:
        """Finish the file and give it its real name."""
        if self.columns is None:
            self.set_columns([])
        self._open()
        assert self._fh is not None
        self._fh.close()
        self._fh = None
        self._partial.replace(self.path)
        return self.path

    def discard(self) -> None:
        """Drop the unfinished file (the import failed or was interrupted)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._partial.unlink(missing_ok=True)
