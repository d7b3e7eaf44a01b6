"""Shared plumbing for the record services (contacts, organizations, ...).

A service works inside a given unit of work, or opens one per call when used
straight from the CRM (``crm.contacts.add(...)`` commits at once). Reads made
straight from the CRM skip the write transaction: they run on the backend's
read path (:meth:`~crmkit.storage.base.StorageBackend.read`), which sees what
is committed. Inside a unit of work, reads go through its transaction and so
see its own uncommitted writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

from crmkit.uow import UnitOfWork

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.events.model import Event
    from crmkit.storage.base import StorageReader, StorageTransaction

T = TypeVar("T")


class _ReadOnlyWork(UnitOfWork):
    """What :meth:`Service._read` hands to read-only work: a unit of work on a reader.

    ``tx`` is the backend's reader, which only has ``get``, ``get_by``, ``query``
    and ``count``; work given to ``_read`` never writes, and raising an event is
    refused.
    """

    def __init__(self, crm: CRM, reader: StorageReader) -> None:
        super().__init__(crm)
        self._reader = reader

    @property
    def tx(self) -> StorageTransaction:
        # The reader has the read half of a transaction, which is all read work uses.
        return cast("StorageTransaction", self._reader)

    def __enter__(self) -> NoReturn:
        raise RuntimeError("a read-only unit of work is not opened with 'with'")

    def raise_event(
        self, name: str, payload: Mapping[str, Any] | None = None, *, subject_id: str | None = None
    ) -> Event:
        raise RuntimeError(
            f"cannot raise {name!r} while only reading; write inside crm.unit_of_work()"
        )


class Service:
    """Base of ``crm.contacts`` and friends."""

    def __init__(self, crm: CRM, uow: UnitOfWork | None = None) -> None:
        self._crm = crm
        self._uow = uow

    def _write(self, work: Callable[[UnitOfWork], T]) -> T:
        if self._uow is not None:
            return work(self._uow)
        with self._crm.unit_of_work() as uow:
            return work(uow)

    def _read(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run read-only ``work`` in this service's unit of work, or on the read path."""
        if self._uow is not None:
            return work(self._uow)
        with self._crm.backend.read() as reader:
            return work(_ReadOnlyWork(self._crm, reader))

    def _reading(self, read: Callable[[StorageReader], T]) -> T:
        """Run ``read`` on this unit of work's transaction, or on the backend's read path."""
        if self._uow is not None:
            return read(self._uow.tx)
        with self._crm.backend.read() as reader:
            return read(reader)
