"""Shared plumbing for the record services (contacts, organizations, ...).

A service works inside a given unit of work, or opens one per call when used
straight from the CRM (``crm.contacts.add(...)`` commits at once). Reads made
straight from the CRM skip the write transaction: they run on the backend's
read path (:meth:`~crmkit.storage.base.StorageBackend.read`), which sees what
is committed. Inside a unit of work, reads go through its transaction and so
see its own uncommitted writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork

T = TypeVar("T")


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

    def _reading(self, read: Callable[[StorageReader], T]) -> T:
        """Run ``read`` on this unit of work's transaction, or on the backend's read path."""
        if self._uow is not None:
            return read(self._uow.tx)
        with self._crm.backend.read() as reader:
            return read(reader)
