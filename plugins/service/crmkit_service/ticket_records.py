"""Tickets as stored: finding one by key or id, numbering a new one, saving changes.

These work inside a reader or a unit of work the caller owns, so tickets,
the thread, assignment, ``tick``, intake, feedback and knowledge find and
change tickets the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crmkit.contacts import looks_like_id
from crmkit.entities import utcnow
from crmkit.errors import NotFound
from crmkit.storage.query import Cond, Query
from crmkit_service.entities import Ticket

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.types import EntityType
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork

TICKET = "service.ticket"
MESSAGE = "service.message"
PURPOSE = "service"
"""The processing purpose the privacy policy is asked about."""
KEY_SCAN = 20
"""How many of the newest tickets are read to find the highest key number."""


def ticket_type(crm: CRM) -> EntityType:
    return crm.entity_type(TICKET)


def message_type(crm: CRM) -> EntityType:
    return crm.entity_type(MESSAGE)


def find_ticket(reader: StorageReader, crm: CRM, ref: str) -> Ticket | None:
    """The ticket with key or id ``ref`` (a key in any case), or ``None``."""
    etype = ticket_type(crm)
    text = ref.strip() if isinstance(ref, str) else ""
    if not text:
        return None
    row = reader.get(etype, text) if looks_like_id(text) else None
    if row is None:
        row = reader.get_by(etype, "key", text)
    if row is None and text.upper() != text:
        row = reader.get_by(etype, "key", text.upper())
    return Ticket(**row) if row is not None else None


def load_ticket(reader: StorageReader, crm: CRM, ref: str) -> Ticket:
    """The ticket with key or id ``ref``; :class:`NotFound` otherwise."""
    ticket = find_ticket(reader, crm, ref)
    if ticket is None:
        raise NotFound(TICKET, ref)
    return ticket


def next_key(reader: StorageReader, crm: CRM, prefix: str) -> str:
    """The next free key ``<prefix>-<n>``: one more than the highest number in use.

    Ids sort in creation order, so the newest tickets (a few, read by the
    storage through its primary key) hold the highest number; a key taken by a
    ticket made elsewhere is skipped.
    """
    etype = ticket_type(crm)
    start = f"{prefix}-"
    rows = reader.query(
        etype,
        Query(where=Cond("key", "startswith", start), order_by=("-id",), limit=KEY_SCAN),
    )
    numbers = [
        int(m.group(1))
        for row in rows
        if (m := re.fullmatch(rf"{re.escape(prefix)}-(\d+)", row["key"], flags=re.IGNORECASE))
    ]
    number = max(numbers, default=0) + 1
    while reader.get_by(etype, "key", f"{start}{number}") is not None:
        number += 1
    return f"{start}{number}"


def save_ticket(uow: UnitOfWork, ticket: Ticket, changes: Mapping[str, Any]) -> Ticket:
    """Apply ``changes`` to ``ticket`` and store them (with ``updated_at``)."""
    values = {**changes, "updated_at": utcnow()}
    for name, value in values.items():
        setattr(ticket, name, value)
    uow.tx.update(ticket_type(uow.crm), ticket.id, values)
    return ticket


def ticket_ref(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """An event payload naming ``ticket`` (id and key), with ``extra`` facts."""
    return {"ticket_id": ticket.id, "key": ticket.key, **extra}


def require_contact(uow: UnitOfWork, contact_id: str | None) -> None:
    """Ask the policy before writing about a person (erased or restricted: PolicyDenied)."""
    if contact_id is not None:
        uow.crm.privacy.require(
            "write",
            actor=uow.actor,
            subject_id=contact_id,
            entity=TICKET,
            purpose=PURPOSE,
            uow=uow,
        )
