"""Moving a deal through its pipeline: to another stage, to won or lost, and back.

The rules of movement:

- only an open deal moves, to another open stage of its own pipeline;
- ``won`` and ``lost`` are reached with :func:`close_deal` (losing needs a
  reason), which stamps ``closed_at`` and ``days_to_close``;
- a closed deal comes back with :func:`reopen_deal`, to a stage it names or to
  the open stage it was in before it closed.

Every illegal move raises ``ValidationError("sales.deal", "stage", ...)``
naming the deal and what to do instead, and writes nothing. A move whose deal
another user moved, closed or reopened since it was read is refused the same
way (:func:`~crmkit_sales.deal_records.save_move` writes the deal first, only
if its stage and status are still as read). Every move is kept
as a :class:`~crmkit_sales.entities.StageChange`, asks the privacy policy about
the deal's contact first and reaches the contact's timeline. The functions work
inside a unit of work the caller owns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.entities import utcnow
from crmkit.errors import ValidationError
from crmkit_sales.deal_records import (
    CLOSED_STAGES,
    DEAL,
    deal_amount,
    deal_payload,
    load_deal,
    open_stage,
    read_history,
    save_move,
    write_stage_change,
)
from crmkit_sales.entities import Deal
from crmkit_sales.records import format_money, require_contact_write
from crmkit_sales.settings import Pipeline, sales_settings

if TYPE_CHECKING:
    from crmkit.uow import UnitOfWork


def move_deal(uow: UnitOfWork, ref: str, stage: str) -> Deal:
    """Move an open deal to another open stage of its pipeline, inside ``uow``."""
    deal = load_deal(uow.tx, uow.crm, ref)
    if deal.status != "open":
        raise closed_error(deal, f"move it to {stage!r}")
    plan = sales_settings(uow.crm).pipeline(deal.pipeline)
    target = plan.stage(stage).name
    if target in CLOSED_STAGES:
        verb = "win" if target == "won" else "lose"
        command = f"crmkit sales deals {verb} {deal.id}" + (
            " --reason TEXT" if verb == "lose" else ""
        )
        raise ValidationError(
            DEAL,
            "stage",
            f"a deal is not moved to {target!r}; close it with '{command}'",
            record=deal.id,
        )
    if target == deal.stage:
        raise ValidationError(
            DEAL, "stage", f"the deal is already at stage {target!r}", record=deal.id
        )
    require_contact_write(uow, deal.contact_id, DEAL)
    now = utcnow()
    before = deal.stage
    save_move(uow, deal, {"stage": target, "stage_entered_at": now, "updated_at": now})
    write_stage_change(uow, deal, before, target, now)
    money = deal_amount(deal)
    uow.record_activity(
        "sales.deal.stage_changed",
        {
            "deal_id": deal.id,
            "pipeline": deal.pipeline,
            "from_stage": before,
            "to_stage": target,
            "amount": str(money.amount),
            "currency": money.currency,
        },
        contact_id=deal.contact_id,
        summary=f"Deal {deal.title} moved from {before} to {target}",
    )
    return deal


def closed_error(deal: Deal, doing: str) -> ValidationError:
    """The refusal to change a closed deal, pointing at reopening it."""
    return ValidationError(
        DEAL,
        "stage",
        f"the deal is {deal.status}, so you cannot {doing}; reopen it first with "
        f"'crmkit sales deals reopen {deal.id} --reason TEXT'",
        record=deal.id,
    )


def close_deal(uow: UnitOfWork, ref: str, outcome: str, reason: str | None) -> Deal:
    """Close an open deal as ``won`` or ``lost`` inside ``uow`` (losing needs a reason)."""
    deal = load_deal(uow.tx, uow.crm, ref)
    verb = "win" if outcome == "won" else "lose"
    if deal.status != "open":
        raise closed_error(deal, f"{verb} it")
    why = reason.strip() if reason is not None else None
    if outcome == "lost" and not why:
        raise ValidationError(
            DEAL,
            "close_reason",
            "say why the deal was lost (--reason TEXT), e.g. 'price' or 'chose a competitor'",
            record=deal.id,
        )
    require_contact_write(uow, deal.contact_id, DEAL)
    now = utcnow()
    before = deal.stage
    save_move(
        uow,
        deal,
        {
            "status": outcome,
            "stage": outcome,
            "stage_entered_at": now,
            "closed_at": now,
            "close_reason": why or None,
            "days_to_close": (now - deal.created_at).days,
            "updated_at": now,
        },
    )
    write_stage_change(uow, deal, before, outcome, now)
    money = deal_amount(deal)
    uow.record_activity(
        f"sales.deal.{outcome}",
        deal_payload(
            deal,
            from_stage=before,
            reason=deal.close_reason,
            days_to_close=deal.days_to_close,
        ),
        contact_id=deal.contact_id,
        summary=f"Deal {outcome}: {deal.title} ({format_money(money)})"
        + (f": {deal.close_reason}" if deal.close_reason else ""),
    )
    return deal


def _stage_before_closing(uow: UnitOfWork, deal: Deal, plan: Pipeline) -> str:
    """The open stage the deal was in when it last closed (from its stage history)."""
    for change in reversed(read_history(uow.tx, uow.crm, deal.id)):
        if change.from_stage is not None and change.from_stage not in CLOSED_STAGES:
            if change.from_stage in plan.open_stages:
                return change.from_stage
            break
    raise ValidationError(
        DEAL,
        "stage",
        "the stage the deal was in before it closed is not in pipeline "
        f"{plan.name!r} any more; name one of {', '.join(plan.open_stages)} (--stage)",
        record=deal.id,
    )


def reopen_deal(uow: UnitOfWork, ref: str, *, stage: str | None, reason: str) -> Deal:
    """Bring a won or lost deal back to an open stage inside ``uow``; clears the close."""
    deal = load_deal(uow.tx, uow.crm, ref)
    if deal.status == "open":
        raise ValidationError(
            DEAL,
            "stage",
            f"the deal is open (at {deal.stage!r}); only won or lost deals are reopened",
            record=deal.id,
        )
    why = reason.strip() if isinstance(reason, str) else ""
    if not why:
        raise ValidationError(
            DEAL, "reason", "say why the deal is reopened (--reason TEXT)", record=deal.id
        )
    plan = sales_settings(uow.crm).pipeline(deal.pipeline)
    if stage is not None:
        target = open_stage(plan, stage, record=deal.id)
    else:
        target = _stage_before_closing(uow, deal, plan)
    require_contact_write(uow, deal.contact_id, DEAL)
    now = utcnow()
    before = deal.stage
    save_move(
        uow,
        deal,
        {
            "status": "open",
            "stage": target,
            "stage_entered_at": now,
            "closed_at": None,
            "close_reason": None,
            "days_to_close": None,
            "updated_at": now,
        },
    )
    write_stage_change(uow, deal, before, target, now)
    uow.record_activity(
        "sales.deal.reopened",
        deal_payload(deal, previous_status=before, from_stage=before, to_stage=target, reason=why),
        contact_id=deal.contact_id,
        summary=f"Deal reopened at {target}: {deal.title}: {why}",
    )
    return deal
