"""Shared plumbing for the record services (contacts, organizations, ...).

A service works inside a given unit of work, or opens one per call when used
straight from the CRM (``crm.contacts.add(...)`` commits at once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from crmkit.crm import CRM
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

    def _read(self, work: Callable[[UnitOfWork], T]) -> T:
        # Reads share the same path: inside a unit of work they see its writes.
        return self._write(work)
