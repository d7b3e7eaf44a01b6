"""Leads: capture prospective buyers, qualify them (BANT), score them, convert them.

A lead is a person who may buy, before they are a customer: contact details,
where they came from (``source``), who works them (``owner``) and the four
BANT answers (budget, authority, need, timeline). Its life:

- ``new`` when captured (:meth:`Leads.add`, or in bulk with
  :func:`crmkit_sales.lead_import.import_leads`), ``working`` once someone works it;
- :meth:`Leads.qualify` records BANT answers and rescores the lead: it becomes
  ``qualified`` when all four answers are yes or the score reaches
  ``[plugins.sales.scoring] qualify_at``, else it is ``working``;
- :meth:`Leads.disqualify` makes it ``unqualified``, with a reason;
- :meth:`Leads.convert` turns it, in one unit of work, into a contact (found by
  the lead's email or added), an organization (found by name or added), and an
  open deal; the lead is then ``converted`` and keeps the ids of all three.

A lead is named by its id or by its email when only one lead has it.
Qualifying and scoring live in :mod:`crmkit_sales.lead_qualification`,
conversion in :mod:`crmkit_sales.lead_conversion`, the checks every lead write
shares in :mod:`crmkit_sales.lead_records`.

Emails are checked and normalised as contacts' are, phones stored as E.164.
Events carry ids and statuses, never the person's details: a lead not yet tied
to a contact has no subject in the outbox that erasure could scrub.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmkit.entities import utcnow
from crmkit.errors import ValidationError
from crmkit.privacy.processing import ReadCheck
from crmkit.storage.query import Cond, Filter, Query
from crmkit_sales.entities import Lead
from crmkit_sales.lead_conversion import Conversion, convert_lead
from crmkit_sales.lead_qualification import (
    disqualify_lead,
    event_reasons,
    qualify_lead,
    score_lead,
)
from crmkit_sales.lead_records import (
    BANT,
    LEAD,
    MANAGED_FIELDS,
    NAMELESS,
    SETTABLE_STATUSES,
    STATUS_CALLS,
    clean_lead,
    erased_reason,
    lead_label,
    lead_row,
    lead_type,
    refuse_erased,
    require_lead_write,
    require_not_converted,
)
from crmkit_sales.records import PURPOSE, all_of
from crmkit_sales.scoring import Score, score_lead_row

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork

__all__ = [
    "BANT",
    "LEAD",
    "MANAGED_FIELDS",
    "NAMELESS",
    "PURPOSE",
    "SETTABLE_STATUSES",
    "STATUS_CALLS",
    "Conversion",
    "Leads",
    "add_lead",
    "clean_lead",
    "convert_lead",
    "disqualify_lead",
    "erased_reason",
    "event_reasons",
    "lead_filter",
    "lead_label",
    "lead_row",
    "lead_type",
    "qualify_lead",
    "refuse_erased",
    "score_lead",
    "update_lead",
]


# -- in-transaction building blocks ------------------------------------------


def add_lead(uow: UnitOfWork, fields: Mapping[str, Any]) -> Lead:
    """Add a lead inside ``uow``; raises ``ValidationError`` or ``PolicyDenied``."""
    crm = uow.crm
    require_lead_write(uow)
    row = clean_lead(crm, fields)
    refuse_erased(crm, uow.tx, row)
    lead = Lead(**row)
    etype = lead_type(crm)
    uow.tx.add(etype, etype.to_row(lead))
    uow.record_activity(
        "sales.lead.created",
        {"lead_id": lead.id, "source": lead.source, "status": lead.status, "owner": lead.owner},
        contact_id=None,
        summary=f"Lead {lead_label(etype.to_row(lead))} added",
    )
    return lead


def update_lead(uow: UnitOfWork, ref: str, changes: Mapping[str, Any]) -> Lead:
    """Change fields of a lead inside ``uow``; ``sales.lead.updated`` names what changed."""
    crm = uow.crm
    current = lead_row(uow.tx, crm, ref)
    require_lead_write(uow, current)
    row = clean_lead(crm, changes, partial=True, record=current["id"])
    if "status" in row:
        require_not_converted(current, "a status change")
    changed = [name for name, value in row.items() if current.get(name) != value]
    if not changed:
        return Lead(**current)
    if not any({**current, **row}.get(n) for n in ("first_name", "last_name", "email", "company")):
        raise ValidationError(LEAD, "email", NAMELESS, record=current["id"])
    refuse_erased(
        crm, uow.tx, {k: row[k] for k in changed if k in ("email", "phone")}, current["id"]
    )
    update = {name: row[name] for name in changed}
    update["updated_at"] = utcnow()
    uow.tx.update(lead_type(crm), current["id"], update)
    merged = {**current, **update}
    uow.record_activity(
        "sales.lead.updated",
        {"lead_id": current["id"], "changed": changed},
        contact_id=current["contact_id"],
        summary=f"Lead {lead_label(merged)} changed: {', '.join(changed)}",
    )
    return Lead(**merged)


# -- the service --------------------------------------------------------------


def lead_filter(
    *,
    status: str | None = None,
    owner: str | None = None,
    source: str | None = None,
    min_score: int | None = None,
) -> Filter | None:
    """The filter of :meth:`Leads.list`."""
    conds: builtins.list[Filter] = []
    if status is not None:
        conds.append(Cond("status", "eq", status))
    if owner is not None:
        conds.append(Cond("owner", "eq", owner))
    if source is not None:
        conds.append(Cond("source", "eq", source))
    if min_score is not None:
        conds.append(Cond("score", "ge", min_score))
    return all_of(conds)


class Leads:
    """Leads of a CRM: every write is one unit of work, every read masked for the actor."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    def add(self, *, actor: str | None = None, **fields: Any) -> Lead:
        """Add a lead (``first_name``, ``email``, ``company``, ``source``, BANT answers, ...)."""
        with self.crm.unit_of_work(actor) as uow:
            return add_lead(uow, fields)

    def get(self, ref: str, *, actor: str | None = None) -> Lead:
        """The lead with id or email ``ref``, as ``actor`` may see it; else :class:`NotFound`."""
        found = self._read(lambda reader: [lead_row(reader, self.crm, ref)], actor, single=True)
        return found[0]

    def update(self, ref: str, *, actor: str | None = None, **changes: Any) -> Lead:
        """Change fields of a lead; status only between ``new`` and ``working``."""
        with self.crm.unit_of_work(actor) as uow:
            return update_lead(uow, ref, changes)

    def list(
        self,
        *,
        status: str | None = None,
        owner: str | None = None,
        source: str | None = None,
        min_score: int | None = None,
        limit: int | None = None,
        order_by: Sequence[str] = ("-score", "created_at"),
        actor: str | None = None,
    ) -> builtins.list[Lead]:
        """Leads matching every filter given, best score first by default."""
        where = lead_filter(status=status, owner=owner, source=source, min_score=min_score)
        query = Query(where, tuple(order_by), limit)
        self.crm.check_query(LEAD, query)
        etype = lead_type(self.crm)
        return self._read(lambda reader: reader.query(etype, query), actor)

    def count(self, *, status: str | None = None, owner: str | None = None) -> int:
        """How many leads match."""
        where = lead_filter(status=status, owner=owner)
        with self.crm.backend.read() as reader:
            return reader.count(lead_type(self.crm), where)

    def qualify(
        self,
        ref: str,
        *,
        budget: bool | None = None,
        authority: bool | None = None,
        need: bool | None = None,
        timeline: bool | None = None,
        actor: str | None = None,
    ) -> Lead:
        """Record BANT answers and requalify; see :func:`qualify_lead`."""
        with self.crm.unit_of_work(actor) as uow:
            return qualify_lead(
                uow, ref, budget=budget, authority=authority, need=need, timeline=timeline
            )

    def disqualify(self, ref: str, reason: str, *, actor: str | None = None) -> Lead:
        """Mark a lead unqualified for ``reason``."""
        with self.crm.unit_of_work(actor) as uow:
            return disqualify_lead(uow, ref, reason)

    def score(self, ref: str, *, actor: str | None = None) -> Score:
        """Compute, store and return a lead's score (event ``sales.lead.scored``)."""
        with self.crm.unit_of_work(actor) as uow:
            return score_lead(uow, ref)

    def explain(self, ref: str) -> Score:
        """A lead's score with every reason, computed on committed data; nothing is written."""
        with self.crm.backend.read() as reader:
            return score_lead_row(reader, self.crm, lead_row(reader, self.crm, ref))

    def convert(
        self,
        ref: str,
        *,
        deal_title: str | None = None,
        amount: Decimal | str | int | None = None,
        currency: str | None = None,
        pipeline: str | None = None,
        stage: str | None = None,
        organization_name: str | None = None,
        actor: str | None = None,
    ) -> Conversion:
        """Convert a lead into a contact, organization and deal in one unit of work."""
        with self.crm.unit_of_work(actor) as uow:
            return convert_lead(
                uow,
                ref,
                deal_title=deal_title,
                amount=amount,
                currency=currency,
                pipeline=pipeline,
                stage=stage,
                organization_name=organization_name,
            )

    def _read(
        self,
        fetch: Callable[[StorageReader], builtins.list[dict[str, Any]]],
        actor: str | None,
        *,
        single: bool = False,
    ) -> builtins.list[Lead]:
        """Leads read by ``fetch(reader)``, masked for ``actor``; sensitive reads audited."""
        etype = lead_type(self.crm)
        check = ReadCheck(self.crm, actor)
        with self.crm.backend.read() as reader:
            rows = fetch(reader)
            subject = rows[0]["contact_id"] if single and rows else None
            check.decide(reader, etype, subject)
        check.enforce()
        leads = [Lead(**check.show(etype, row)) for row in rows]
        check.audit(subject_id=subject)
        return leads
