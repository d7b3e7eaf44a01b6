"""File formats for import and export: CSV and JSON Lines.

An importer turns a byte stream into numbered source rows (a mapping of column
to raw value, or the reason the row cannot be read); an exporter writes
records. Mapping, validation and storage are the core's job, so a plugin adding
a format (say XLSX) only reads or writes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, Protocol

import attrs


@attrs.frozen
class SourceRow:
    """One record read from a file: its line number and values, or why it is unreadable."""

    line: int
    values: Mapping[str, Any]
    error: str | None = None


class Importer(Protocol):
    """Reads one file format into :class:`SourceRow` objects."""

    format: str

    def read(self, stream: IO[bytes]) -> Iterator[SourceRow]: ...


class Exporter(Protocol):
    """Writes records (mappings of field to value) in one file format."""

    format: str
    binary: bool

    def write(
        self, records: Iterable[Mapping[str, Any]], fields: Sequence[str], stream: IO[str]
    ) -> int: ...


class _DecodedLines:
    """Decode UTF-8 line by line, remembering which physical lines were not UTF-8."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.bad_lines: set[int] = set()
        self.bytes_read = 0
        self._line = 0
        self._first = True

    def __iter__(self) -> Iterator[str]:
        for raw in self._stream:
            self._line += 1
            self.bytes_read += len(raw)
            if self._first:
                self._first = False
                if raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.add(self._line)
                yield raw.decode("utf-8", errors="replace")


@attrs.define
class CsvImporter:
    """CSV with a header row, UTF-8 (a BOM is accepted)."""

    format: str = "csv"
    delimiter: str = ","

    def read(self, stream: IO[bytes]) -> Iterator[SourceRow]:
        lines = _DecodedLines(stream)
        reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield SourceRow(1, {}, f"cannot read the header: {exc}")
            return
        header = [h.strip() for h in header]
        width = len(header)
        if 1 in lines.bad_lines:
            yield SourceRow(1, {}, "the header is not valid UTF-8; save the file as UTF-8")
            return
        bad_lines = lines.bad_lines
        previous = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield SourceRow(reader.line_num, {}, f"malformed CSV: {exc}")
                previous = reader.line_num
                continue
            line = previous + 1
            previous = reader.line_num
            if not row:
                continue
            if bad_lines and any(n in bad_lines for n in range(line, previous + 1)):
                yield SourceRow(line, {}, "not valid UTF-8 text; save the file as UTF-8")
            elif len(row) != width:
                yield SourceRow(
                    line, {}, f"has {len(row)} fields but the header has {width}"
                )
            else:
                # The widths match (checked above); a comprehension is faster than dict().
                cells = zip(header, row, strict=False)
                yield SourceRow(line, {name: cell for name, cell in cells})


@attrs.define
class JsonLinesImporter:
    """One JSON object per line (blank lines are skipped)."""

    format: str = "jsonl"

    def read(self, stream: IO[bytes]) -> Iterator[SourceRow]:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield SourceRow(number, {}, "not valid UTF-8 text; save the file as UTF-8")
                continue
            except json.JSONDecodeError as exc:
                yield SourceRow(number, {}, f"not valid JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(value, dict):
                yield SourceRow(number, {}, "each line must be a JSON object")
                continue
            yield SourceRow(number, value)


def formats_by_name(pm: Any, hook_name: str) -> dict[str, Any]:
    """The importers or exporters registered through ``hook_name``, by format.

    Hooks are called in pluggy's order, plugins before the core's ``trylast``
    defaults, so a plugin's reader or writer for a format wins over the core's.
    """
    from crmkit.plugins.manager import collect

    found: dict[str, Any] = {}
    for _plugin, items in collect(pm, hook_name):
        for item in items:
            found.setdefault(item.format, item)
    return found


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


@attrs.define
class CsvExporter:
    """CSV with a header; lists are ``;``-joined, nested values are JSON."""

    format: str = "csv"
    binary: bool = False

    def write(
        self, records: Iterable[Mapping[str, Any]], fields: Sequence[str], stream: IO[str]
    ) -> int:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(fields)
        count = 0
        for record in records:
            writer.writerow([_csv_cell(record.get(f)) for f in fields])
            count += 1
        return count


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@attrs.define
class JsonLinesExporter:
    """One JSON object per record, keys in field order."""

    format: str = "jsonl"
    binary: bool = False

    def write(
        self, records: Iterable[Mapping[str, Any]], fields: Sequence[str], stream: IO[str]
    ) -> int:
        count = 0
        for record in records:
            obj = {f: record.get(f) for f in fields if f in record}
            stream.write(json.dumps(obj, ensure_ascii=False, default=_json_default) + "\n")
            count += 1
        return count
