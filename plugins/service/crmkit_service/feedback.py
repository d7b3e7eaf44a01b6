"""Customer feedback on a ticket: satisfaction (CSAT) and likelihood to recommend (NPS).

A customer answers once per ticket, after it is resolved: CSAT is a score from 1
(very unsatisfied) to 5 (very satisfied), NPS one from 0 to 10 (9-10 promoters,
7-8 passives, 0-6 detractors). Either or both may be given, with a comment. A
second answer for the same ticket is refused naming the first, so the report
counts each ticket once; the database holds to this too (``ticket_id`` is
unique). The answer shows on the contact's timeline.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from crmkit.errors import DuplicateError, ValidationError
from crmkit.storage.query import Cond, Query
from crmkit_service.entities import Feedback as FeedbackRecord
from crmkit_service.entities import Ticket
from crmkit_service.ticket_records import load_ticket
from crmkit_service.values import aware_time, optional_text

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage.base import StorageReader

CSAT = "service.csat"
CSAT_RANGE = (1, 5)
NPS_RANGE = (0, 10)
RATED_STATUSES: tuple[str, ...] = ("resolved", "closed")
"""Statuses in which a ticket can be rated."""


def _score(value: int | None, field: str, bounds: tuple[int, int], record: str) -> int | None:
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            CSAT,
            field,
            f"{value!r} is not a score: give a whole number {low}-{high}",
            record=record,
        )
    return value


def feedback_of(reader: StorageReader, crm: CRM, ticket_id: str) -> FeedbackRecord | None:
    """The feedback recorded for a ticket, or ``None``."""
    rows = reader.query(
        crm.entity_type(CSAT), Query(where=Cond("ticket_id", "eq", ticket_id), limit=1)
    )
    return FeedbackRecord(**rows[0]) if rows else None


def _summary(key: str, csat: int | None, nps: int | None) -> str:
    parts = [
        f"CSAT {csat}/5" if csat is not None else "",
        f"NPS {nps}/10" if nps is not None else "",
    ]
    return f"Feedback on {key}: " + ", ".join(p for p in parts if p)


def refuse_second_answer(reader: StorageReader, crm: CRM, ticket: Ticket) -> None:
    """Refuse an answer on ``ticket`` when it already has one, naming the first."""
    existing = feedback_of(reader, crm, ticket.id)
    if existing is not None:
        raise already_answered(ticket, existing)


def already_answered(ticket: Ticket, existing: FeedbackRecord) -> ValidationError:
    """The error for a second answer on ``ticket``: it names the first and when it came."""
    return ValidationError(
        CSAT,
        "ticket_id",
        f"{ticket.key} already has feedback {existing.id} recorded "
        f"{existing.recorded_at:%Y-%m-%d %H:%M} UTC; one answer per ticket",
        record=ticket.key,
    )


class Feedback:
    """CSAT and NPS answers of one CRM; each call is one unit of work."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    def record(
        self,
        ticket: str,
        *,
        csat: int | None = None,
        nps: int | None = None,
        comment: str | None = None,
        recorded_at: dt.datetime | None = None,
        actor: str | None = None,
    ) -> FeedbackRecord:
        """Record the customer's answer on ``ticket`` (key or id).

        Refused (:class:`ValidationError`, nothing written) before the ticket is
        resolved, without a score, with a score out of range, or when the ticket
        already has an answer (also when another answer was stored at the same
        moment: the database's unique ``ticket_id`` refuses it, and the refusal
        names that answer too). Raises ``service.csat.recorded``.
        """
        try:
            return self._record(ticket, csat, nps, comment, recorded_at, actor)
        except DuplicateError as exc:
            if exc.field != "ticket_id":
                raise
            with self.crm.backend.read() as reader:
                found = load_ticket(reader, self.crm, ticket)
                existing = feedback_of(reader, self.crm, found.id)
            if existing is None:  # pragma: no cover - the answer that won was removed since
                raise
            raise already_answered(found, existing) from exc

    def _record(
        self,
        ticket: str,
        csat: int | None,
        nps: int | None,
        comment: str | None,
        recorded_at: dt.datetime | None,
        actor: str | None,
    ) -> FeedbackRecord:
        etype = self.crm.entity_type(CSAT)
        with self.crm.unit_of_work(actor) as uow:
            found = load_ticket(uow.tx, self.crm, ticket)
            if found.status not in RATED_STATUSES:
                raise ValidationError(
                    CSAT,
                    "ticket_id",
                    f"{found.key} is {found.status}; feedback is taken once it is "
                    f"{' or '.join(RATED_STATUSES)}",
                    record=found.key,
                )
            score = _score(csat, "csat", CSAT_RANGE, found.key)
            promoter = _score(nps, "nps", NPS_RANGE, found.key)
            if score is None and promoter is None:
                raise ValidationError(
                    CSAT,
                    "csat",
                    "give a CSAT score (1-5), an NPS score (0-10) or both",
                    record=found.key,
                )
            refuse_second_answer(uow.tx, self.crm, found)
            answer = FeedbackRecord(
                ticket_id=found.id,
                contact_id=found.contact_id,
                csat=score,
                nps=promoter,
                comment=optional_text(comment),
                recorded_at=aware_time(recorded_at, CSAT, "recorded_at"),
            )
            uow.tx.add(etype, etype.to_row(answer))
            uow.record_activity(
                "service.csat.recorded",
                {
                    "ticket_id": found.id,
                    "key": found.key,
                    "feedback_id": answer.id,
                    "csat": score,
                    "nps": promoter,
                },
                contact_id=found.contact_id,
                summary=_summary(found.key, score, promoter),
                direction="inbound",
            )
        return answer

    def get(self, ticket: str) -> FeedbackRecord | None:
        """The answer recorded on ``ticket`` (key or id), or ``None``."""
        with self.crm.backend.read() as reader:
            found = load_ticket(reader, self.crm, ticket)
            return feedback_of(reader, self.crm, found.id)
