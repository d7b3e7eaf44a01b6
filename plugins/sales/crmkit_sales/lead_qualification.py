"""Qualifying and scoring leads: BANT answers, the stored score, disqualification.

:func:`qualify_lead` records BANT answers and rescores the lead: it becomes
``qualified`` when all four answers are yes or the score reaches
``[plugins.sales.scoring] qualify_at``, else it is ``working``.
:func:`disqualify_lead` makes it ``unqualified``, with a reason kept in its
notes. Events carry rules, points and counts, never the person's details.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crmkit.entities import utcnow
from crmkit.errors import ValidationError
from crmkit_sales.entities import Lead
from crmkit_sales.lead_records import (
    BANT,
    LEAD,
    lead_label,
    lead_row,
    lead_type,
    require_lead_write,
    require_not_converted,
)
from crmkit_sales.scoring import Score, score_lead_row
from crmkit_sales.settings import sales_settings

if TYPE_CHECKING:
    from crmkit.uow import UnitOfWork


def event_reasons(score: Score) -> list[str]:
    """The reasons of a score as an event carries them: rules, points and counts, no values.

    A lead not yet tied to a contact has no subject in the outbox, so its
    details (a title, a custom field) must not travel in its events.
    """
    rules = [f"{r.rule}: {r.points:+d}" for r in score.reasons]
    learned = [
        f"learned {r.field}: {r.won} of {r.closed} closed leads won" for r in score.learned_reasons
    ]
    return [*rules, *learned]


def record_score(uow: UnitOfWork, current: Mapping[str, Any], score: Score) -> None:
    """Raise ``sales.lead.scored`` with the new and previous score and the reasons."""
    uow.record_activity(
        "sales.lead.scored",
        {
            "lead_id": current["id"],
            "score": score.total,
            "previous_score": current["score"],
            "reasons": event_reasons(score),
        },
        contact_id=current["contact_id"],
        summary=f"Lead {lead_label(current)} scored {score.total}",
    )


def score_lead(uow: UnitOfWork, ref: str) -> Score:
    """Compute a lead's score inside ``uow``, store it and raise ``sales.lead.scored``."""
    crm = uow.crm
    current = lead_row(uow.tx, crm, ref)
    require_lead_write(uow, current)
    score = score_lead_row(uow.tx, crm, current)
    if score.total != current["score"]:
        uow.tx.update(lead_type(crm), current["id"], {"score": score.total, "updated_at": utcnow()})
    record_score(uow, current, score)
    return score


def qualify_lead(
    uow: UnitOfWork,
    ref: str,
    *,
    budget: bool | None = None,
    authority: bool | None = None,
    need: bool | None = None,
    timeline: bool | None = None,
) -> Lead:
    """Record BANT answers (``None`` keeps an answer), rescore, and set the status.

    ``qualified`` when all four answers are yes or the score reaches
    ``qualify_at``; otherwise ``working``. Raises ``sales.lead.updated`` for
    changed answers, ``sales.lead.scored`` always, and ``sales.lead.qualified``
    when the lead becomes qualified.
    """
    crm = uow.crm
    current = lead_row(uow.tx, crm, ref)
    require_lead_write(uow, current)
    require_not_converted(current, "qualification")
    given = {"budget": budget, "authority": authority, "need": need, "timeline": timeline}
    answers = {}
    for name, value in given.items():
        if value is None:
            continue
        if not isinstance(value, bool):
            raise ValidationError(
                LEAD,
                name,
                f"{value!r} is not a yes/no answer; give True or False",
                record=current["id"],
            )
        answers[name] = value
    changed = [name for name, value in answers.items() if current[name] != value]
    candidate = {**current, **answers}
    score = score_lead_row(uow.tx, crm, candidate)
    qualify_at = sales_settings(crm).scoring.qualify_at
    if all(candidate[name] is True for name in BANT):
        status, why = "qualified", "all four BANT answers are yes"
    elif score.total >= qualify_at:
        status, why = "qualified", f"score {score.total} reached {qualify_at}"
    else:
        status, why = "working", ""
    update: dict[str, Any] = {**answers, "score": score.total, "status": status}
    update["updated_at"] = utcnow()
    uow.tx.update(lead_type(crm), current["id"], update)
    merged = {**current, **update}
    if changed or status != current["status"]:
        uow.record_activity(
            "sales.lead.updated",
            {
                "lead_id": current["id"],
                "changed": [*changed, *(["status"] if status != current["status"] else [])],
            },
            contact_id=current["contact_id"],
            summary=f"Lead {lead_label(merged)} answered {', '.join(changed) or 'nothing new'}",
        )
    record_score(uow, current, score)
    if status == "qualified" and current["status"] != "qualified":
        uow.record_activity(
            "sales.lead.qualified",
            {"lead_id": current["id"], "status": status, "score": score.total, "reason": why},
            contact_id=current["contact_id"],
            summary=f"Lead {lead_label(merged)} qualified: {why}",
        )
    return Lead(**merged)


def disqualify_lead(uow: UnitOfWork, ref: str, reason: str) -> Lead:
    """Mark a lead ``unqualified`` for ``reason`` (kept in its notes) inside ``uow``."""
    crm = uow.crm
    current = lead_row(uow.tx, crm, ref)
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationError(
            LEAD, "status", "say why the lead is disqualified (a reason)", record=current["id"]
        )
    require_lead_write(uow, current)
    require_not_converted(current, "disqualification")
    line = f"Disqualified: {text}"
    notes = f"{current['notes']}\n{line}" if current["notes"] else line
    update = {"status": "unqualified", "notes": notes, "updated_at": utcnow()}
    uow.tx.update(lead_type(crm), current["id"], update)
    merged = {**current, **update}
    uow.record_activity(
        "sales.lead.qualified",
        {
            "lead_id": current["id"],
            "status": "unqualified",
            "score": current["score"],
            "reason": text,
        },
        contact_id=current["contact_id"],
        summary=f"Lead {lead_label(merged)} disqualified: {text}",
    )
    return Lead(**merged)
