"""What the policy knows about a person when it decides: consent and processing state.

Facts are read lazily from the reader the decision is made on (a unit of
work's transaction sees its own uncommitted consent changes), at most once per
decision, so rules that do not need them cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from crmkit.entities.types import EntityType
from crmkit.privacy.model import ANY_CHANNEL
from crmkit.storage.base import StorageReader
from crmkit.storage.query import Cond, Query

GRANTED = "granted"
WITHDRAWN = "withdrawn"
PENDING = "pending"
STATUSES: tuple[str, ...] = (GRANTED, WITHDRAWN, PENDING)


def consent_state(entries: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The current entry per (purpose, channel): the latest granted or withdrawn one.

    ``entries`` must come oldest first (ids are time-ordered UUIDv7). Pending
    entries do not change the state until confirmed.
    """
    state: dict[tuple[str, str], Mapping[str, Any]] = {}
    for entry in entries:
        if entry["status"] in (GRANTED, WITHDRAWN):
            state[(entry["purpose"], entry["channel"])] = entry
    return state


@attrs.define
class SubjectFacts:
    """The consent ledger and processing state of one contact, read on demand."""

    reader: StorageReader | None
    consent_type: EntityType
    subject_type: EntityType
    subject_id: str | None
    _consent: dict[tuple[str, str], Mapping[str, Any]] | None = None
    _state: Mapping[str, Any] | None = None
    _state_read: bool = False

    @classmethod
    def preloaded(
        cls,
        consent_type: EntityType,
        subject_type: EntityType,
        subject_id: str,
        consent_entries: Iterable[Mapping[str, Any]],
        state: Mapping[str, Any] | None,
    ) -> SubjectFacts:
        """Facts from rows already read (consent entries oldest first), to decide about many."""
        return cls(
            None,
            consent_type,
            subject_type,
            subject_id,
            consent=consent_state(consent_entries),
            state=state,
            state_read=True,
        )

    def _read_consent(self) -> dict[tuple[str, str], Mapping[str, Any]]:
        if self._consent is None:
            if self.reader is None or self.subject_id is None:
                self._consent = {}
            else:
                rows = self.reader.query(
                    self.consent_type,
                    Query(Cond("contact_id", "eq", self.subject_id), ("id",), None),
                )
                self._consent = consent_state(rows)
        return self._consent

    def consent(self, purpose: str, channel: str) -> str | None:
        """``granted``, ``withdrawn`` or ``None`` (never asked) for a purpose and channel.

        A withdrawal for the purpose on every channel (``any``) outranks a grant
        on one channel; otherwise the channel's own entry counts, then ``any``'s.
        """
        state = self._read_consent()
        whole = state.get((purpose, ANY_CHANNEL))
        own = state.get((purpose, channel))
        if whole is not None and whole["status"] == WITHDRAWN:
            return WITHDRAWN
        if own is not None:
            return str(own["status"])
        return str(whole["status"]) if whole is not None else None

    def withdrawn_anywhere(self, purpose: str) -> bool:
        """Whether the person objected to ``purpose`` on any channel."""
        return any(
            p == purpose and entry["status"] == WITHDRAWN
            for (p, _), entry in self._read_consent().items()
        )

    def _read_state(self) -> Mapping[str, Any] | None:
        if not self._state_read:
            if self.reader is not None and self.subject_id is not None:
                self._state = self.reader.get_by(self.subject_type, "contact_id", self.subject_id)
            self._state_read = True
        return self._state

    @property
    def restricted(self) -> bool:
        state = self._read_state()
        return bool(state and state["restricted"])

    @property
    def restricted_reason(self) -> str | None:
        state = self._read_state()
        return state["restricted_reason"] if state else None

    @property
    def erased_at(self) -> Any:
        state = self._read_state()
        return state["erased_at"] if state else None
