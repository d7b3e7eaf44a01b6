"""Tickets: open them and work them, one unit of work per call.

A ticket is named by its key (``T-42``: the ``key_prefix`` setting, a dash and a
number counted from 1) or by its id. Opening one starts its SLA clock from the
policy of the customer's tier and the ticket's priority (``[plugins.service.sla]``),
counted on the policy's business-hours calendar, and gives it to an agent of its
team when a team is named (:mod:`crmkit_service.assignment`).

The rest of a ticket's life has its own modules: the statuses it moves through
and their effect on the SLA clock (:mod:`crmkit_service.statuses`), its message
thread (:mod:`crmkit_service.thread`), what a reader sees of it
(:mod:`crmkit_service.ticket_view`), and finding and saving it
(:mod:`crmkit_service.ticket_records`). Their public names are importable from
here too.

Functions taking a ``uow`` work inside a unit of work the caller owns (intake opens
tickets and adds messages with them in its own); :class:`Tickets` opens one unit
of work per call, so a refused command writes nothing.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crmkit.contacts import contact_row
from crmkit.entities import utcnow
from crmkit.errors import NotFound
from crmkit.privacy.processing import ReadCheck
from crmkit.storage.query import AllOf, AnyOf, Cond, Filter, Query
from crmkit_service import sla
from crmkit_service.assignment import OPEN_STATUSES, assign_ticket
from crmkit_service.entities import CHANNELS, PRIORITIES, STATUSES, Message, Ticket
from crmkit_service.settings import service_settings
from crmkit_service.statuses import TRANSITIONS, change_status
from crmkit_service.thread import add_message
from crmkit_service.ticket_records import (
    MESSAGE,
    TICKET,
    find_ticket,
    load_ticket,
    message_type,
    next_key,
    require_contact,
    ticket_ref,
    ticket_type,
)
from crmkit_service.ticket_view import TicketView, view_ticket
from crmkit_service.values import aware_time, choice, clean_tags, optional_text, required_text

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.uow import UnitOfWork

__all__ = [
    "MESSAGE",
    "TICKET",
    "TRANSITIONS",
    "TicketView",
    "Tickets",
    "add_message",
    "change_status",
    "find_ticket",
    "load_ticket",
    "message_type",
    "next_key",
    "open_ticket",
    "ticket_type",
]


# -- opening a ticket -----------------------------------------------------------------


def _contact_facts(uow: UnitOfWork, ref: str | None) -> tuple[str | None, str | None, str | None]:
    """(contact id, the contact's ``tier`` custom field, their first organization) for ``ref``."""
    if ref is None:
        return None, None, None
    row = contact_row(uow.tx, uow.crm.entity_type("contact"), ref)
    if row is None:
        raise NotFound("contact", ref)
    custom = row.get("custom") or {}
    tier = custom.get("tier") if isinstance(custom, Mapping) else None
    memberships = uow.crm.memberships(uow.tx, row["id"])
    org = memberships[0].organization.id if memberships else None
    return row["id"], tier if isinstance(tier, str) and tier.strip() else None, org


def open_ticket(
    uow: UnitOfWork,
    *,
    subject: str,
    description: str | None = None,
    contact: str | None = None,
    organization: str | None = None,
    channel: str = "web",
    priority: str = "normal",
    team: str | None = None,
    assignee: str | None = None,
    tags: Iterable[str] = (),
    tier: str | None = None,
    message_id: str | None = None,
    opened_at: dt.datetime | None = None,
) -> Ticket:
    """Open a ticket inside ``uow`` and return it.

    ``contact`` is an id or email (:class:`NotFound` if unknown), ``organization``
    an id or exact name (default: the contact's first organization). The tier is
    ``tier``, else the contact's custom field ``tier``, else ``standard``; the SLA
    clock starts at ``opened_at`` (default now) from the policy of the tier and
    ``priority``. A ``team`` without an ``assignee`` has an agent chosen for it.
    Raises ``service.ticket.created`` (and ``service.ticket.assigned``).
    """
    settings = service_settings(uow.crm)
    title = required_text(subject, TICKET, "subject", what="a ticket's subject")
    channel = choice(channel, CHANNELS, TICKET, "channel")
    priority = choice(priority, PRIORITIES, TICKET, "priority")
    contact_id, contact_tier, contact_org = _contact_facts(uow, contact)
    require_contact(uow, contact_id)
    org_id = uow.organizations.get(organization).id if organization is not None else contact_org
    chosen_tier = (tier.strip() if tier and tier.strip() else None) or contact_tier or "standard"
    at = aware_time(opened_at, TICKET, "opened_at")
    ticket = Ticket(
        key=next_key(uow.tx, uow.crm, settings.key_prefix),
        subject=title,
        description=optional_text(description),
        contact_id=contact_id,
        organization_id=org_id,
        channel=channel,
        priority=priority,
        tags=clean_tags(tags, TICKET),
        tier=chosen_tier,
        message_id=message_id,
    )
    for name, value in sla.start_clock(ticket, settings.policy(chosen_tier, priority), at).items():
        setattr(ticket, name, value)
    if team is not None:
        ticket.team = settings.team(team).name
    uow.tx.add(ticket_type(uow.crm), ticket_type(uow.crm).to_row(ticket))
    uow.record_activity(
        "service.ticket.created",
        ticket_ref(
            ticket,
            channel=ticket.channel,
            priority=ticket.priority,
            status=ticket.status,
            team=ticket.team,
            tier=ticket.tier,
            sla_policy=ticket.sla_policy,
            first_response_due=ticket.first_response_due,
            resolution_due=ticket.resolution_due,
        ),
        contact_id=contact_id,
        summary=f"Ticket {ticket.key} opened: {ticket.subject}",
    )
    if assignee is not None or ticket.team is not None:
        assign_ticket(uow, ticket, assignee=assignee)
    return ticket


# -- the service ----------------------------------------------------------------------


class Tickets:
    """The tickets of one CRM; each call is one unit of work."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    # -- writes
    def add(
        self,
        subject: str,
        *,
        description: str | None = None,
        contact: str | None = None,
        organization: str | None = None,
        channel: str = "web",
        priority: str = "normal",
        team: str | None = None,
        assignee: str | None = None,
        tags: Iterable[str] = (),
        tier: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Open a ticket (see :func:`open_ticket`)."""
        with self.crm.unit_of_work(actor) as uow:
            return open_ticket(
                uow,
                subject=subject,
                description=description,
                contact=contact,
                organization=organization,
                channel=channel,
                priority=priority,
                team=team,
                assignee=assignee,
                tags=tags,
                tier=tier,
            )

    def _message(
        self, ref: str, direction: str, body: str, actor: str | None, **fields: Any
    ) -> Message:
        with self.crm.unit_of_work(actor) as uow:
            ticket = load_ticket(uow.tx, self.crm, ref)
            return add_message(uow, ticket, direction=direction, body=body, **fields)

    def reply(
        self, ref: str, body: str, *, author: str | None = None, actor: str | None = None
    ) -> Message:
        """Send a reply to the customer (author: ``author``, else the actor)."""
        return self._message(ref, "outbound", body, actor, author=author)

    def note(
        self, ref: str, body: str, *, author: str | None = None, actor: str | None = None
    ) -> Message:
        """Add an internal note, seen only by the desk."""
        return self._message(ref, "note", body, actor, author=author)

    def receive(
        self,
        ref: str,
        body: str,
        *,
        author: str | None = None,
        message_id: str | None = None,
        in_reply_to: str | None = None,
        attachments: Iterable[Mapping[str, Any]] = (),
        occurred_at: dt.datetime | None = None,
        actor: str | None = None,
    ) -> Message:
        """Add a message from the customer (resumes a waiting ticket, reopens a resolved one)."""
        return self._message(
            ref,
            "inbound",
            body,
            actor,
            author=author,
            message_id=message_id,
            in_reply_to=in_reply_to,
            attachments=attachments,
            occurred_at=occurred_at,
        )

    def assign(
        self,
        ref: str,
        *,
        assignee: str | None = None,
        team: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Give a ticket to an agent and/or team (see :func:`assign_ticket`)."""
        with self.crm.unit_of_work(actor) as uow:
            ticket = load_ticket(uow.tx, self.crm, ref)
            return assign_ticket(uow, ticket, assignee=assignee, team=team)

    def set_status(self, ref: str, status: str, *, actor: str | None = None) -> Ticket:
        """Move a ticket to ``status`` (see :data:`TRANSITIONS` and :func:`change_status`)."""
        with self.crm.unit_of_work(actor) as uow:
            ticket = load_ticket(uow.tx, self.crm, ref)
            return change_status(uow, ticket, status)

    # -- reads
    def get(self, ref: str, *, actor: str | None = None) -> Ticket:
        """The ticket with key or id ``ref`` as ``actor`` may see it; :class:`NotFound` if none."""
        crm = self.crm
        etype = ticket_type(crm)
        check = ReadCheck(crm, actor)
        with crm.backend.read() as reader:
            ticket = load_ticket(reader, crm, ref)
            check.decide(reader, etype, subject_id=ticket.contact_id)
        check.enforce()
        shown = Ticket(**check.show(etype, etype.to_row(ticket)))
        check.audit(subject_id=ticket.contact_id)
        return shown

    def list(
        self,
        *,
        status: str | Sequence[str] | None = None,
        team: str | None = None,
        assignee: str | None = None,
        priority: str | None = None,
        contact: str | None = None,
        tag: str | None = None,
        overdue: bool = False,
        limit: int | None = 50,
        order_by: Sequence[str] = ("-created_at", "-id"),
        actor: str | None = None,
    ) -> builtins.list[Ticket]:
        """Tickets matching every filter given, newest first by default.

        ``status`` is one status or several; ``None`` means every status but
        closed and ``"all"`` every status. ``overdue`` keeps tickets past a due
        time they have not met (a paused resolution clock is not overdue).
        ``contact`` is an id or email; ``tag`` is matched exactly.
        """
        crm = self.crm
        etype = ticket_type(crm)
        conds: builtins.list[Filter] = [self._status_filter(status)] if status != "all" else []
        for field, value in (("team", team), ("assignee", assignee)):
            if value is not None:
                conds.append(Cond(field, "eq", value))
        if priority is not None:
            conds.append(Cond("priority", "eq", choice(priority, PRIORITIES, TICKET, "priority")))
        if overdue:
            conds.append(_overdue(utcnow()))
        crm.check_query(TICKET, Query(order_by=tuple(order_by)))
        check = ReadCheck(crm, actor)
        with crm.backend.read() as reader:
            if contact is not None:
                row = contact_row(reader, crm.entity_type("contact"), contact)
                if row is None:
                    raise NotFound("contact", contact)
                conds.append(Cond("contact_id", "eq", row["id"]))
            check.decide(reader, etype)
            query = Query(
                where=AllOf(tuple(conds)) if conds else None,
                order_by=tuple(order_by),
                # A tag is matched after the read: JSON lists are not portable SQL filters.
                limit=None if tag is not None else limit,
            )
            rows = reader.query(etype, query)
        check.enforce()
        if tag is not None:
            rows = [row for row in rows if tag in (row.get("tags") or [])][:limit]
        tickets = [Ticket(**check.show(etype, row)) for row in rows]
        check.audit(contacts=len({t.contact_id for t in tickets if t.contact_id}))
        return tickets

    @staticmethod
    def _status_filter(status: str | Sequence[str] | None) -> Filter:
        if status is None:
            return Cond("status", "ne", "closed")
        wanted = [status] if isinstance(status, str) else builtins.list(status)
        return Cond("status", "in", [choice(s, STATUSES, TICKET, "status") for s in wanted])

    def show(self, ref: str, *, actor: str | None = None) -> TicketView:
        """The ticket with its thread, SLA state (due times, business time left) and articles."""
        return view_ticket(self.crm, ref, actor)


def _overdue(now: dt.datetime) -> Filter:
    """Tickets past a due time not yet met: a first response, or a running resolution clock."""
    return AllOf(
        (
            Cond("status", "in", builtins.list(OPEN_STATUSES)),
            AnyOf(
                (
                    AllOf(
                        (
                            Cond("first_responded_at", "isnull", True),
                            Cond("first_response_due", "lt", now),
                        )
                    ),
                    AllOf((Cond("paused_at", "isnull", True), Cond("resolution_due", "lt", now))),
                )
            ),
        )
    )
