"""Email intake: each incoming email becomes a new ticket or a reply on a ticket's thread.

How a message is taken in (it is read by :mod:`crmkit_service.mail`):

- **Sender**: the first address of ``From``. The contact with that address
  (compared in the core's normalised form) is the sender; when there is none, one is
  made, its first and last name taken from the display name (``Ada Lovelace`` or
  ``Lovelace, Ada``). An address of a person who was erased is refused.
- **Thread**: a message whose ``In-Reply-To`` or ``References`` names the
  Message-ID of a stored message (or of the email that opened a ticket) is a reply
  on that ticket; else a ticket key in the subject (``[T-42]`` or ``T-42`` as a
  word, with the ``key_prefix`` setting) makes it a reply on that ticket (a key that
  names no ticket is refused); else it opens a new ticket on the email channel.
  A reply on a resolved or closed ticket reopens it (see :mod:`crmkit_service.thread`).
- **Body**: the ``text/plain`` body, or when the message has only HTML, the text
  of the HTML with its tags removed. The text is kept whole, including any quoted
  history below an ``On ... wrote:`` line: cutting it is guesswork that loses
  what the customer wrote more often than it saves space. A message with a
  subject and no text has its subject as its text.
- **Attachments** are listed on the message (file name, content type, size in
  bytes); their content is not stored.
- **Time**: a message counts from when it is received (the CRM's clock), not from
  its ``Date`` header, which the sender's machine sets.

A message delivered twice (a Message-ID already on a stored message) is taken in
once; the second delivery returns the stored message with ``duplicate=True``. The
database holds each Message-ID once, so this holds even for two deliveries taken in
at the same moment: the one refused by the database is taken in again, finds the
stored copy and returns it the same way.

A message that cannot be taken in (empty, not an email, no sender, neither subject
nor text, an unknown ticket key or team, an erased sender) raises
:class:`IntakeRejected`, a :class:`~crmkit.errors.ValidationError` naming the field,
after the message as received was kept as a ``service.rejected_intake`` record in a
unit of work of its own, so it is not lost; :meth:`Intake.retry` takes it in again
once the cause is fixed. Everything else about a refused message is written in one
unit of work, so nothing is half-written. A refusal by the privacy policy
(:class:`~crmkit.errors.PolicyDenied`: the actor may not write, or the sender's
processing is restricted) is raised as it is and nothing is kept. How refused
messages are kept is :mod:`crmkit_service.rejected_intake`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.contacts import contact_row
from crmkit.entities import utcnow
from crmkit.errors import DuplicateError, NotFound, ValidationError
from crmkit.privacy.processing import ReadCheck, SuppressionCheck
from crmkit.storage.query import Cond, Query
from crmkit_service.entities import Message, RejectedIntake, Ticket
from crmkit_service.mail import (
    IncomingEmail,
    Sender,
    html_text,
    parse,
    read_email,
    subject_key,
)
from crmkit_service.rejected_intake import REJECTED, IntakeRejected, keep_rejected, reason_of
from crmkit_service.settings import service_settings
from crmkit_service.thread import add_message
from crmkit_service.ticket_records import MESSAGE, TICKET, find_ticket, load_ticket
from crmkit_service.tickets import open_ticket

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.types import EntityType
    from crmkit.uow import UnitOfWork

__all__ = [
    "IncomingEmail",
    "Intake",
    "IntakeRejected",
    "IntakeResult",
    "Sender",
    "html_text",
    "keep_rejected",
    "parse",
    "read_email",
    "subject_key",
    "take_in",
]
CONTACT_SOURCE = "service email"
"""The ``source`` of contacts made for a new sender."""


@attrs.frozen
class IntakeResult:
    """What became of one message: the ticket, the message on its thread, what was made."""

    ticket: Ticket
    message: Message
    created: bool
    """A new ticket was opened (else the message is a reply on ``ticket``)."""
    contact_created: bool
    """A contact was made for the sender."""
    duplicate: bool = False
    """The message was already taken in; nothing was written."""


def _etype(uow: UnitOfWork, name: str) -> EntityType:
    return uow.crm.entity_type(name)


def _first(uow: UnitOfWork, name: str, field: str, values: Sequence[str]) -> dict[str, Any] | None:
    """The row of ``name`` whose ``field`` is the earliest of ``values`` to match, or ``None``."""
    if not values:
        return None
    rows = uow.tx.query(_etype(uow, name), Query(where=Cond(field, "in", list(values))))
    by_value = {row[field]: row for row in rows}
    return next((by_value[v] for v in values if v in by_value), None)


def _thread_ticket(uow: UnitOfWork, mail: IncomingEmail, prefix: str) -> Ticket | None:
    """The ticket ``mail`` answers (see the module docstring), or ``None`` for a new one."""
    row = _first(uow, MESSAGE, "message_id", mail.thread_ids)
    if row is not None:
        return load_ticket(uow.tx, uow.crm, row["ticket_id"])
    row = _first(uow, TICKET, "message_id", mail.thread_ids)
    if row is not None:
        return Ticket(**row)
    key = subject_key(mail.subject, prefix)
    if key is None:
        return None
    ticket = find_ticket(uow.tx, uow.crm, key)
    if ticket is None:
        raise ValidationError(
            TICKET,
            "key",
            f"unknown ticket key {key} in the subject; remove it to open a new ticket, or "
            "use the key of an existing ticket",
        )
    return ticket


def _sender_contact(uow: UnitOfWork, sender: Sender) -> tuple[str, bool]:
    """The id of the sender's contact and whether it was made now."""
    row = contact_row(uow.tx, _etype(uow, "contact"), sender.email)
    if row is not None:
        return row["id"], False
    if SuppressionCheck(uow.crm, uow.tx).matches([{"email": sender.email}]):
        raise ValidationError(
            "contact",
            "email",
            "the sender belongs to a person who was erased, so their messages are not "
            "taken in; record their new consent with the contact to accept them again",
        )
    first, last = sender.names()
    contact = uow.contacts.add(
        email=sender.email, first_name=first, last_name=last, source=CONTACT_SOURCE
    )
    return contact.id, True


def _duplicate(uow: UnitOfWork, mail: IncomingEmail) -> IntakeResult | None:
    """The stored result of a message delivered before (same Message-ID), or ``None``."""
    if mail.message_id is None:
        return None
    row = uow.tx.get_by(_etype(uow, MESSAGE), "message_id", mail.message_id)
    if row is None:
        return None
    ticket = load_ticket(uow.tx, uow.crm, row["ticket_id"])
    return IntakeResult(
        ticket, Message(**row), created=False, contact_created=False, duplicate=True
    )


def _delivered_twice(exc: DuplicateError) -> bool:
    """Whether ``exc`` means another delivery of the email stored its Message-ID first."""
    return exc.entity == MESSAGE and exc.field == "message_id"


def take_in(uow: UnitOfWork, mail: IncomingEmail, *, team: str | None = None) -> IntakeResult:
    """Make ``mail`` a new ticket or a reply on one, inside ``uow`` (see the module docstring)."""
    settings = service_settings(uow.crm)
    team_name = settings.team(team).name if team is not None else None
    seen = _duplicate(uow, mail)
    if seen is not None:
        return seen
    contact_id, contact_created = _sender_contact(uow, mail.sender)
    ticket = _thread_ticket(uow, mail, settings.key_prefix)
    created = ticket is None
    if ticket is None:
        ticket = open_ticket(
            uow,
            subject=mail.ticket_subject(),
            description=mail.body or None,
            contact=contact_id,
            channel="email",
            team=team_name,
            message_id=mail.message_id,
        )
    message = add_message(
        uow,
        ticket,
        direction="inbound",
        body=mail.thread_text(),
        author=mail.sender.text,
        message_id=mail.message_id,
        in_reply_to=mail.in_reply_to,
        attachments=mail.attachments,
    )
    return IntakeResult(ticket, message, created=created, contact_created=contact_created)


# -- the service ----------------------------------------------------------------------


class Intake:
    """Email intake of one CRM: each message in one unit of work."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    def receive(
        self,
        message: bytes | str,
        *,
        source: str = "stdin",
        team: str | None = None,
        actor: str | None = None,
    ) -> IntakeResult:
        """Take in one email, as received (headers and body; text is read as UTF-8).

        ``source`` names where it came from (a file name, ``stdin``); ``team``
        is the team a new ticket goes to. A message that cannot be taken in is
        kept as rejected intake and :class:`IntakeRejected` is raised.
        """
        raw = message.encode("utf-8") if isinstance(message, str) else message
        try:
            return self._take_in(raw, team=team, actor=actor)
        except (ValidationError, NotFound) as exc:
            with self.crm.unit_of_work(actor) as uow:
                kept = keep_rejected(uow, raw, reason_of(exc), source=source)
            raise IntakeRejected(exc, kept.id) from exc

    def _take_in(
        self,
        raw: bytes,
        *,
        team: str | None,
        actor: str | None,
        then: Callable[[UnitOfWork], object] | None = None,
    ) -> IntakeResult:
        """Take in ``raw`` in one unit of work (``then`` runs in it last); once more if
        another delivery of the same email stored it meanwhile.

        Two deliveries taken in at the same moment both find no stored copy; the
        database refuses the second Message-ID and rolls that unit of work back.
        Taking it in again finds the first copy and returns it with ``duplicate=True``.
        """
        mail = read_email(parse(raw))
        try:
            return self._take_in_once(mail, team=team, actor=actor, then=then)
        except DuplicateError as exc:
            if not _delivered_twice(exc):
                raise
        return self._take_in_once(mail, team=team, actor=actor, then=then)

    def _take_in_once(
        self,
        mail: IncomingEmail,
        *,
        team: str | None,
        actor: str | None,
        then: Callable[[UnitOfWork], object] | None,
    ) -> IntakeResult:
        with self.crm.unit_of_work(actor) as uow:
            result = take_in(uow, mail, team=team)
            if then is not None:
                then(uow)
            return result

    def receive_file(
        self, path: str | Path, *, team: str | None = None, actor: str | None = None
    ) -> IntakeResult:
        """Take in the email in file ``path`` (an ``.eml`` file); the source is the file name."""
        file = Path(path)
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise NotFound("email file", str(path)) from exc
        return self.receive(raw, source=file.name, team=team, actor=actor)

    def rejected(self, limit: int | None = 50, *, actor: str | None = None) -> list[RejectedIntake]:
        """The messages intake refused, newest first, as ``actor`` may see them."""
        etype = self.crm.entity_type(REJECTED)
        check = ReadCheck(self.crm, actor)
        with self.crm.backend.read() as reader:
            check.decide(reader, etype)
            rows = reader.query(etype, Query(order_by=("-received_at", "-id"), limit=limit))
        check.enforce()
        records = [RejectedIntake(**check.show(etype, row)) for row in rows]
        check.audit(contacts=len({r.contact_id for r in records if r.contact_id}))
        return records

    def retry(
        self, rejected_id: str, *, team: str | None = None, actor: str | None = None
    ) -> IntakeResult:
        """Take in a rejected message again; it is removed once it is taken in.

        If it is refused again, the record stays, with the new reason, and
        :class:`IntakeRejected` is raised.
        """
        etype = self.crm.entity_type(REJECTED)
        with self.crm.backend.read() as reader:
            row = reader.get(etype, rejected_id.strip())
        if row is None:
            raise NotFound(REJECTED, rejected_id)
        raw = row["raw"].encode("utf-8")
        try:
            return self._take_in(
                raw, team=team, actor=actor, then=lambda uow: uow.tx.delete(etype, row["id"])
            )
        except (ValidationError, NotFound) as exc:
            with self.crm.unit_of_work(actor) as uow:
                uow.tx.update(etype, row["id"], {"reason": reason_of(exc), "updated_at": utcnow()})
            raise IntakeRejected(exc, row["id"]) from exc
