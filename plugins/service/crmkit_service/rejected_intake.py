"""Rejected intake: a message intake refused, kept whole so that it is not lost.

A refused message is stored as a ``service.rejected_intake`` record with the
reason, in a unit of work of its own, and :class:`IntakeRejected` is raised.
The record is linked to the contact whose address sent it when that address
is a known contact's (not for an unknown sender), so the person's export and
erasure reach it. Raw messages are kept as text: UTF-8, with bytes that are
not UTF-8 replaced; mail is 7-bit ASCII with MIME encodings almost always, so
a retry reads the same message.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import TYPE_CHECKING

from crmkit.contacts import contact_row
from crmkit.errors import NotFound, ValidationError
from crmkit_service.entities import RejectedIntake
from crmkit_service.mail import UNPARSEABLE, header, raw_text, sender_of

if TYPE_CHECKING:
    from crmkit.uow import UnitOfWork

REJECTED = "service.rejected_intake"


class IntakeRejected(ValidationError):
    """A message intake refused; it was kept as ``service.rejected_intake`` ``rejected_id``.

    ``entity`` and ``field`` are those of the error that refused it (kept as
    ``__cause__``), ``cause`` is the reason kept with the message.
    """

    def __init__(self, error: ValidationError | NotFound, rejected_id: str) -> None:
        self.rejected_id = rejected_id
        self.cause = reason_of(error)
        super().__init__(
            error.entity,
            error.field if isinstance(error, ValidationError) else None,
            f"{self.cause}; the message was kept as rejected intake {rejected_id} "
            f"(fix the cause, then: crmkit service intake-retry {rejected_id})",
            record=error.record if isinstance(error, ValidationError) else error.key,
        )


def reason_of(error: ValidationError | NotFound) -> str:
    """Why a message was refused, as kept with it."""
    return error.reason if isinstance(error, ValidationError) else str(error)


def _glimpse(raw: bytes) -> tuple[str | None, str | None, str | None]:
    """The sender as written, subject and sender's normalised address, as far as readable."""
    try:
        message = BytesParser(policy=default_policy).parsebytes(raw)
    except UNPARSEABLE:
        return None, None, None
    if not isinstance(message, EmailMessage):
        return None, None, None
    try:
        address: str | None = sender_of(message).email
    except ValidationError:
        address = None
    return header(message, "From"), header(message, "Subject"), address


def keep_rejected(uow: UnitOfWork, raw: bytes, reason: str, *, source: str) -> RejectedIntake:
    """Store ``raw`` as a rejected message with ``reason`` and raise ``service.intake.rejected``.

    It is linked to the contact whose address sent it, when there is one, so
    the person's export and erasure find it.
    """
    sender, subject, address = _glimpse(raw)
    contact_id = None
    if address is not None:
        row = contact_row(uow.tx, uow.crm.entity_type("contact"), address)
        contact_id = row["id"] if row is not None else None
    record = RejectedIntake(
        reason=reason,
        contact_id=contact_id,
        sender=sender,
        subject=subject,
        raw=raw_text(raw),
        source=source,
    )
    etype = uow.crm.entity_type(REJECTED)
    uow.tx.add(etype, etype.to_row(record))
    uow.raise_event(
        "service.intake.rejected",
        {"rejected_id": record.id, "reason": reason, "source": source},
        subject_id=contact_id,
    )
    return record
