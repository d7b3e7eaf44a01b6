"""Reading and writing one deal: finding it by id or title, saving it, its stage history.

These are the pieces that opening a deal (:mod:`crmkit_sales.deals`) and moving
it (:mod:`crmkit_sales.pipeline_moves`) share, and that quotes, tasks and the
customer view use to find the deal they are about. They work inside a unit of
work or a read snapshot the caller owns.

A deal is named by its id or by its exact title, compared without regard to
case; a title that several deals carry is refused listing those deals, so the
user can give the id instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crmkit.errors import NotFound, ValidationError
from crmkit.storage.query import Cond, Query
from crmkit_sales.entities import Deal, StageChange
from crmkit_sales.money import Money, from_minor
from crmkit_sales.records import ambiguous

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit.entities.types import EntityType
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork
    from crmkit_sales.settings import Pipeline

DEAL = "sales.deal"
CLOSED_STAGES = ("won", "lost")
STATUSES = ("open", "won", "lost")


def deal_amount(deal: Deal) -> Money:
    """The deal's amount as :class:`Money` (stored as integer minor units)."""
    return from_minor(deal.amount_minor, deal.currency)


def deal_type(crm: CRM) -> EntityType:
    return crm.entity_type(DEAL)


def load_deal(reader: StorageReader, crm: CRM, ref: str) -> Deal:
    """The deal with id ``ref``, else the one deal titled ``ref`` (any case), via ``reader``.

    Raises :class:`NotFound` when no deal has that id or title, and
    ``ValidationError`` naming every match (id, stage and status) when several
    deals carry the title.
    """
    key = ref.strip() if isinstance(ref, str) else ""
    if not key:
        raise NotFound(DEAL, ref)
    etype = deal_type(crm)
    row = reader.get(etype, key)
    if row is not None:
        return Deal(**row)
    wanted = key.casefold()
    rows = reader.query(etype, Query(Cond("title", "contains", key), order_by=("created_at", "id")))
    titled = [r for r in rows if r["title"].casefold() == wanted]
    if not titled:
        raise NotFound(DEAL, ref)
    if len(titled) > 1:
        matches = [(r["id"], f"{r['stage']}, {r['status']}") for r in titled]
        raise ambiguous(DEAL, "title", key, matches)
    return Deal(**titled[0])


def find_contact(uow: UnitOfWork, ref: str) -> Contact:
    """The contact named by id or email, in this unit of work; :class:`NotFound` otherwise."""
    return uow.contacts.get(ref)


def read_history(reader: StorageReader, crm: CRM, deal_id: str) -> list[StageChange]:
    """The stage changes of a deal, oldest first."""
    etype = crm.entity_type("sales.stage_change")
    rows = reader.query(etype, Query(Cond("deal_id", "eq", deal_id), order_by=("changed_at", "id")))
    return [StageChange(**row) for row in rows]


def write_stage_change(
    uow: UnitOfWork, deal: Deal, from_stage: str | None, to_stage: str, when: dt.datetime
) -> StageChange:
    """Keep one move of ``deal`` in its stage history, made by the unit of work's actor."""
    change = StageChange(
        deal_id=deal.id,
        pipeline=deal.pipeline,
        from_stage=from_stage,
        to_stage=to_stage,
        changed_at=when,
        actor=uow.crm.privacy.actor(uow.actor).name,
    )
    etype = uow.crm.entity_type("sales.stage_change")
    uow.tx.add(etype, etype.to_row(change))
    return change


def save_deal(uow: UnitOfWork, deal: Deal, changes: Mapping[str, Any]) -> Deal:
    """Apply ``changes`` to ``deal`` and store them."""
    for name, value in changes.items():
        setattr(deal, name, value)
    uow.tx.update(deal_type(uow.crm), deal.id, dict(changes))
    return deal


def save_move(uow: UnitOfWork, deal: Deal, changes: Mapping[str, Any]) -> Deal:
    """Store a move of ``deal`` only if it is still at the stage and status it was read at.

    Two people moving the same deal at once both pass the stage rules on what they
    read; comparing stage and status in the update itself lets only the first one
    through. The other gets a ``ValidationError`` telling where the deal is now, and
    since this is the move's first write, its unit of work keeps nothing.
    """
    etype = deal_type(uow.crm)
    read = {"status": deal.status, "stage": deal.stage}
    if not uow.tx.update(etype, deal.id, dict(changes), expect=read):
        now = uow.tx.get(etype, deal.id)
        if now is None:
            raise NotFound(DEAL, deal.id)
        raise ValidationError(
            DEAL,
            "stage",
            f"deal {deal.title!r} changed while you were moving it: it is now at "
            f"{now['stage']!r} ({now['status']}); look at it again and retry",
            record=deal.id,
        )
    for name, value in changes.items():
        setattr(deal, name, value)
    return deal


def open_stage(pipeline: Pipeline, stage: str, *, record: str | None) -> str:
    """``stage`` checked to be an open stage of ``pipeline``."""
    found = pipeline.stage(stage).name
    if found in CLOSED_STAGES:
        raise ValidationError(
            DEAL,
            "stage",
            f"{found!r} closes a deal; open it at one of {', '.join(pipeline.open_stages)} "
            f"and close it with 'crmkit sales deals {'win' if found == 'won' else 'lose'}'",
            record=record,
        )
    return found


def deal_payload(deal: Deal, **extra: Any) -> dict[str, Any]:
    """What every deal event carries: ids, title, pipeline, stage, status, amount."""
    money = deal_amount(deal)
    return {
        "deal_id": deal.id,
        "title": deal.title,
        "pipeline": deal.pipeline,
        "stage": deal.stage,
        "status": deal.status,
        "amount": str(money.amount),
        "currency": money.currency,
        "contact_id": deal.contact_id,
        **extra,
    }
