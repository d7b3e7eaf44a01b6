"""Suppression markers: keyed hashes of erased people's emails and phones.

After erasure nothing identifying is left, yet the person must not come back
through an import or a form. Their normalised email and phone are kept only as
HMACs under the CRM's secret; a new record whose email or phone hashes to a
marker is refused until a new consent is recorded for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from crmkit.entities.types import EntityType
from crmkit.privacy.entities import Suppression
from crmkit.privacy.keys import suppression_key
from crmkit.storage.base import StorageReader, StorageTransaction
from crmkit.storage.query import Cond, Query

KINDS: tuple[str, ...] = ("email", "phone")


def keys_for(secret: bytes, *, email: str | None = None, phone: str | None = None) -> list[str]:
    """The suppression keys of a normalised email and phone (either may be missing)."""
    pairs = (("email", email), ("phone", phone))
    return [suppression_key(secret, kind, value) for kind, value in pairs if value]


def suppressed(reader: StorageReader, etype: EntityType, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are suppressed."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        rows = reader.query(etype, Query(Cond("key", "in", chunk), ("id",), None))
        found.update(row["key"] for row in rows)
    return found


def suppress(
    tx: StorageTransaction, etype: EntityType, pairs: Iterable[tuple[str, str]], reason: str
) -> int:
    """Add markers for ``(kind, key)`` pairs not yet suppressed; returns how many were added."""
    wanted = {key: kind for kind, key in pairs}
    if not wanted:
        return 0
    already = tx.existing_values(etype, "key", list(wanted))
    rows = [
        etype.to_row(Suppression(key=key, kind=kind, reason=reason))
        for key, kind in wanted.items()
        if key not in already
    ]
    if rows:
        tx.add_many(etype, rows)
    return len(rows)


def lift(tx: StorageTransaction, etype: EntityType, keys: Sequence[str]) -> int:
    """Remove the markers for ``keys`` (a new consent was recorded); returns how many."""
    if not keys:
        return 0
    return tx.delete_where(etype, Cond("key", "in", list(keys)))
