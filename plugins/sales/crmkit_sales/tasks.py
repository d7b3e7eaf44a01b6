"""Tasks: follow-ups a seller has to do by a day, for a lead, a deal or neither.

A task is open until it is completed (``done_at`` set, once). Overdue tasks
are the open ones due before today, where today comes from the clock (UTC),
so tests can move time. A task on a deal (or a converted lead) concerns that
deal's contact: creating and completing it ask the privacy policy and land on
the contact's timeline through ``uow.record_activity``.
"""

from __future__ import annotations

import builtins
import datetime as dt
from typing import TYPE_CHECKING

from crmkit.entities import utcnow
from crmkit.errors import NotFound, ValidationError
from crmkit.storage.query import Cond, Filter, Query
from crmkit_sales.deal_records import load_deal
from crmkit_sales.entities import Task
from crmkit_sales.lead_records import lead_row
from crmkit_sales.records import all_of, parse_date, require_contact_write

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.types import EntityType
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork

TASK = "sales.task"


def _task_type(crm: CRM) -> EntityType:
    return crm.entity_type(TASK)


def _subjects(
    reader: StorageReader, crm: CRM, lead: str | None, deal: str | None
) -> tuple[str | None, str | None, str | None]:
    """The ids of the lead and deal a task is for, and the person it concerns.

    The lead is named by id or email, the deal by id or title; the person is
    the deal's primary contact, else the converted lead's. Refuses an unknown
    lead or deal with :class:`NotFound`, a name several records carry with
    ``ValidationError``.
    """
    lead_id = deal_id = contact_id = None
    if deal is not None:
        found = load_deal(reader, crm, deal)
        deal_id, contact_id = found.id, found.contact_id
    if lead is not None:
        row = lead_row(reader, crm, lead)
        lead_id = row["id"]
        contact_id = contact_id or row["contact_id"]
    return lead_id, deal_id, contact_id


def _load(uow: UnitOfWork, ref: str) -> Task:
    row = uow.tx.get(_task_type(uow.crm), ref.strip())
    if row is None:
        raise NotFound(TASK, ref)
    return Task(**row)


class Tasks:
    """Follow-up tasks of a CRM: ``Tasks(crm).add("Call back", due="2026-03-02", deal=id)``.

    Each write is one unit of work acting as ``actor`` (default: the CRM's).
    Tasks are named by id, leads by id or email, deals by id or title.
    """

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    def add(
        self,
        title: str,
        *,
        due: dt.date | str,
        lead: str | None = None,
        deal: str | None = None,
        owner: str | None = None,
        notes: str | None = None,
        actor: str | None = None,
    ) -> Task:
        """Add a task due on ``due`` (a date or ``YYYY-MM-DD``); event ``sales.task.created``.

        A lead or deal is optional, but one that does not exist is refused.
        """
        text = title.strip() if isinstance(title, str) else ""
        if not text:
            raise ValidationError(TASK, "title", "a task needs a title (what is to be done)")
        day = parse_date(due, entity=TASK, field="due")
        if day is None:
            raise ValidationError(TASK, "due", "a task needs a due day (YYYY-MM-DD)")
        with self._crm.unit_of_work(actor) as uow:
            lead_id, deal_id, contact_id = _subjects(uow.tx, self._crm, lead, deal)
            require_contact_write(uow, contact_id, TASK)
            task = Task(
                title=text,
                due=day,
                lead_id=lead_id,
                deal_id=deal_id,
                owner=owner,
                notes=notes,
            )
            etype = _task_type(self._crm)
            uow.tx.add(etype, etype.to_row(task))
            uow.record_activity(
                "sales.task.created",
                {
                    "task_id": task.id,
                    "title": task.title,
                    "due": day.isoformat(),
                    "lead_id": task.lead_id,
                    "deal_id": task.deal_id,
                    "owner": owner,
                },
                contact_id=contact_id,
                summary=f"Task due {day.isoformat()}: {task.title}",
            )
            return task

    def get(self, ref: str) -> Task:
        """The task with this id; :class:`NotFound` if there is none."""
        with self._crm.backend.read() as reader:
            row = reader.get(_task_type(self._crm), ref.strip())
        if row is None:
            raise NotFound(TASK, ref)
        return Task(**row)

    def complete(self, ref: str, *, actor: str | None = None) -> Task:
        """Mark an open task done now; a task done already is refused.

        Event ``sales.task.completed``.
        """
        with self._crm.unit_of_work(actor) as uow:
            task = _load(uow, ref)
            if task.done_at is not None:
                raise ValidationError(
                    TASK,
                    "done_at",
                    f"the task was already done on {task.done_at:%Y-%m-%d %H:%M} UTC",
                    record=task.id,
                )
            _, _, contact_id = _subjects(uow.tx, self._crm, task.lead_id, task.deal_id)
            require_contact_write(uow, contact_id, TASK)
            now = utcnow()
            task.done_at = task.updated_at = now
            uow.tx.update(_task_type(self._crm), task.id, {"done_at": now, "updated_at": now})
            uow.record_activity(
                "sales.task.completed",
                {
                    "task_id": task.id,
                    "title": task.title,
                    "lead_id": task.lead_id,
                    "deal_id": task.deal_id,
                    "done_at": now.isoformat(),
                },
                contact_id=contact_id,
                summary=f"Task done: {task.title}",
            )
            return task

    def list(
        self,
        *,
        owner: str | None = None,
        open_only: bool = True,
        lead: str | None = None,
        deal: str | None = None,
    ) -> builtins.list[Task]:
        """Tasks matching the filters, soonest due first (open ones only unless told).

        ``lead`` is an id or email, ``deal`` an id or title; one that names no
        record is refused with :class:`NotFound`.
        """
        conds: builtins.list[Filter] = []
        if open_only:
            conds.append(Cond("done_at", "isnull", True))
        if lead is not None or deal is not None:
            with self._crm.backend.read() as reader:
                lead, deal, _ = _subjects(reader, self._crm, lead, deal)
        for name, value in (("owner", owner), ("lead_id", lead), ("deal_id", deal)):
            if value is not None:
                conds.append(Cond(name, "eq", value))
        return self._query(conds)

    def overdue(
        self, *, today: dt.date | None = None, owner: str | None = None
    ) -> builtins.list[Task]:
        """Open tasks due before ``today`` (default: today in UTC by the clock), oldest first."""
        day = today if today is not None else utcnow().date()
        conds: builtins.list[Filter] = [
            Cond("done_at", "isnull", True),
            Cond("due", "lt", day),
        ]
        if owner is not None:
            conds.append(Cond("owner", "eq", owner))
        return self._query(conds)

    def _query(self, conds: builtins.list[Filter]) -> builtins.list[Task]:
        where = all_of(conds)
        query = Query(where, order_by=("due", "created_at", "id"))
        with self._crm.backend.read() as reader:
            rows = reader.query(_task_type(self._crm), query)
        return [Task(**row) for row in rows]
