"""The append-only, hash-chained audit log of privacy-relevant actions.

Each entry's hash is SHA-256 over the previous entry's hash and this entry's
content in a canonical JSON form, so editing, inserting or removing an entry
by hand breaks the chain at that entry, which :func:`verify` names. Entries
hold ids, counts and reasons, never personal values, so erasure leaves them
as they are.

Two transactions appending at the same moment on a server database compete
for the same sequence number; the unique ``seq`` makes the later one fail
(and roll back) rather than fork the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from crmkit.entities.types import EntityType
from crmkit.privacy.entities import AuditEntry
from crmkit.serialize import to_jsonable
from crmkit.storage.base import StorageReader, StorageTransaction
from crmkit.storage.query import Cond, Query

PAGE = 1000
CHAINED = (
    # The fields each entry's hash covers, which are also what an entry shows.
    "id",
    "seq",
    "at",
    "actor",
    "action",
    "subject_id",
    "purpose",
    "channel",
    "outcome",
    "reason",
    "details",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return to_jsonable(value)


def entry_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    """The hash an entry with these values must carry after ``prev_hash``."""
    content = {name: _canonical(row[name]) for name in CHAINED}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + "\n" + text).encode("utf-8")).hexdigest()


def append(
    tx: StorageTransaction,
    etype: EntityType,
    *,
    actor: str,
    action: str,
    subject_id: str | None = None,
    purpose: str | None = None,
    channel: str | None = None,
    outcome: str = "done",
    reason: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry at the end of the chain, in the caller's transaction."""
    last = tx.query(etype, Query(None, ("-seq",), 1))
    prev_hash = last[0]["hash"] if last else ""
    entry = AuditEntry(
        seq=(last[0]["seq"] + 1) if last else 1,
        actor=actor,
        action=action,
        subject_id=subject_id,
        purpose=purpose,
        channel=channel,
        outcome=outcome,
        reason=reason,
        details=dict(to_jsonable(dict(details or {}))),
        prev_hash=prev_hash,
    )
    row = etype.to_row(entry)
    entry.hash = row["hash"] = entry_hash(row, prev_hash)
    tx.add(etype, row)
    return entry


@attrs.frozen
class ChainReport:
    """The result of checking the chain: how many entries, and the first broken one."""

    checked: int
    broken_seq: int | None = None
    broken_id: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def entries(reader: StorageReader, etype: EntityType) -> Iterator[dict[str, Any]]:
    """Every entry in chain order, read a page at a time."""
    after = 0
    while True:
        page = reader.query(etype, Query(Cond("seq", "gt", after), ("seq",), PAGE))
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1]["seq"]


def verify(reader: StorageReader, etype: EntityType) -> ChainReport:
    """Walk the chain from the first entry; report the first that does not hold."""
    prev_hash = ""
    expected_seq = 1
    checked = 0
    for row in entries(reader, etype):
        problem = None
        if row["seq"] != expected_seq:
            problem = f"entry {expected_seq} is missing (the next one found is {row['seq']})"
        elif row["prev_hash"] != prev_hash:
            problem = "it does not point to the entry before it (an entry was changed or removed)"
        elif row["hash"] != entry_hash(row, prev_hash):
            problem = "its content does not match its hash (it was changed)"
        if problem is not None:
            return ChainReport(checked, row["seq"], row["id"], problem)
        checked += 1
        prev_hash = row["hash"]
        expected_seq += 1
    return ChainReport(checked)
