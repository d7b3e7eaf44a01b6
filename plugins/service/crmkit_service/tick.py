"""The SLA watch: a cron-safe ``tick`` that marks warnings and breaches and escalates.

Run it as often as you like (``crmkit service tick`` from cron every minute or
five). Each run:

1. finds, with an indexed query, the tickets whose clock is running (not
   resolved or closed, not paused while waiting on the customer) and whose
   first-response or resolution due time falls within the warning window of
   the next opening hours, and that are not yet marked breached;
2. for each, in a unit of work of its own, marks a target whose due time has
   come (``*_breached_at``; the due instant itself counts as missed) and raises
   ``service.sla.breached``, or marks a target with ``near_breach_minutes`` or
   less of business time left (``*_warned_at``) and raises
   ``service.sla.warning``;
3. runs the escalation rules (``[[plugins.service.escalation]]``) that match
   each new breach or warning: ``raise_priority`` (one step, up to urgent;
   nothing else is recomputed), ``reassign:TEAM`` (an agent of the team is
   chosen as for a new ticket) and ``notify:WHO`` (an event
   ``service.escalation.applied`` naming the action; no message is sent).

Running it again at the same or a later time raises nothing new for a ticket
and due time already handled. A warning stands for the due time it was given
for: if the due time later moves beyond the window (a paused clock resumed),
a new warning is given when it comes close again. A ticket that fails (a bad
escalation rule, a database error) is rolled back alone, counted in the report
and tried again on the next run; the others are kept.

Each ticket's unit of work reads the ticket afresh, and marks a target only if
the row still holds what the decision was made on: the target's due time, no
breach mark, the warning mark as read, the status and no pause (and, for the
first response, none given yet). Two runs that overlap therefore cannot both mark
the same target: the one that loses the race leaves that ticket to the other.

SLA events are the desk's own bookkeeping, not something that happened with the
customer: they go on the event bus (about the ticket's contact) but not on the
contact's timeline. Reassignments are logged there like any assignment.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.errors import CrmkitError
from crmkit.storage.query import AllOf, AnyOf, Cond, Filter, Query
from crmkit_service import sla
from crmkit_service.assignment import OPEN_STATUSES, assign_ticket
from crmkit_service.entities import PRIORITIES, Ticket
from crmkit_service.settings import EscalationRule, ServiceSettings, service_settings
from crmkit_service.ticket_records import TICKET, save_ticket, ticket_ref

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.uow import UnitOfWork
    from crmkit_service.calendar import Calendar

log = logging.getLogger("crmkit_service.tick")

TARGETS: tuple[str, ...] = ("first_response", "resolution")
ONE_SECOND = dt.timedelta(seconds=1)


@attrs.frozen
class TickNotice:
    """One warning or breach marked by a tick."""

    key: str
    target: str
    """``first_response`` or ``resolution``."""
    kind: str
    """``warning`` or ``breach``."""
    due: dt.datetime
    escalations: tuple[str, ...] = ()
    """The escalation actions run for it, in order (``raise_priority``, ``notify:WHO``...)."""


@attrs.frozen
class TickFailure:
    """A ticket a tick could not handle; nothing was written for it."""

    key: str
    error: str


@attrs.frozen
class TickReport:
    """What one tick did.

    ``checked``: tickets with a running SLA clock at ``at``; ``warned`` and
    ``breached``: targets newly marked; ``escalations``: escalation actions
    run; ``failed``: tickets rolled back because of an error (see
    ``failures``).
    """

    at: dt.datetime
    checked: int = 0
    warned: int = 0
    breached: int = 0
    escalations: int = 0
    failed: int = 0
    notices: tuple[TickNotice, ...] = ()
    failures: tuple[TickFailure, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: the counts, each notice and each failure."""
        return {
            "at": self.at.isoformat(),
            "checked": self.checked,
            "warned": self.warned,
            "breached": self.breached,
            "escalations": self.escalations,
            "failed": self.failed,
            "notices": [
                {
                    "key": n.key,
                    "target": n.target,
                    "kind": n.kind,
                    "due": n.due.isoformat(),
                    "escalations": list(n.escalations),
                }
                for n in self.notices
            ],
            "failures": [{"key": f.key, "error": f.error} for f in self.failures],
        }


# -- which tickets to look at -----------------------------------------------------------


def running_clocks() -> Filter:
    """Tickets whose SLA clock runs: not resolved or closed, not paused, with a due time."""
    return AllOf(
        (
            Cond("status", "in", list(OPEN_STATUSES)),
            Cond("paused_at", "isnull", True),
            AnyOf(
                (
                    AllOf(
                        (
                            Cond("first_responded_at", "isnull", True),
                            Cond("first_response_due", "isnull", False),
                        )
                    ),
                    Cond("resolution_due", "isnull", False),
                )
            ),
        )
    )


def horizon(settings: ServiceSettings, now: dt.datetime) -> dt.datetime:
    """An instant past which no due time can need a warning or breach mark at ``now``.

    A due time needs attention when at most ``near_breach`` of business time is
    left before it. In every calendar that is no later than the end of that much
    business time, or the closed hours right after it; adding one more second of
    business time on the calendar that reaches furthest bounds them all.
    """
    window = settings.near_breach + ONE_SECOND
    return max(calendar.add(now, window) for calendar in settings.calendars.values())


def needing_attention(horizon_at: dt.datetime) -> Filter:
    """Running clocks with an unmarked breach-to-be due before ``horizon_at`` (indexed on
    status and the due times)."""
    return AllOf(
        (
            running_clocks(),
            AnyOf(
                (
                    AllOf(
                        (
                            Cond("first_responded_at", "isnull", True),
                            Cond("first_response_breached_at", "isnull", True),
                            Cond("first_response_due", "lt", horizon_at),
                        )
                    ),
                    AllOf(
                        (
                            Cond("resolution_breached_at", "isnull", True),
                            Cond("resolution_due", "lt", horizon_at),
                        )
                    ),
                )
            ),
        )
    )


# -- deciding on one ticket ---------------------------------------------------------------


def _due(ticket: Ticket, target: str) -> dt.datetime | None:
    """The due time of ``target`` if its clock runs (first response not made yet)."""
    if target == "first_response":
        return ticket.first_response_due if ticket.first_responded_at is None else None
    return ticket.resolution_due


def warning_stands(
    calendar: Calendar, warned_at: dt.datetime | None, due: dt.datetime, window: dt.timedelta
) -> bool:
    """Whether a warning given at ``warned_at`` was for due time ``due``.

    A warning is given only with ``window`` or less of business time left, so
    one given for this very due time has at most that much between the two. More
    means the due time moved later since (a paused clock resumed).
    """
    return warned_at is not None and calendar.between(warned_at, due) <= window


def outcome(
    ticket: Ticket, calendar: Calendar, target: str, now: dt.datetime, window: dt.timedelta
) -> str | None:
    """What a tick at ``now`` does for ``target``: ``breach``, ``warning`` or ``None``."""
    if ticket.status not in OPEN_STATUSES or ticket.paused_at is not None:
        return None
    due = _due(ticket, target)
    if due is None or getattr(ticket, f"{target}_breached_at") is not None:
        return None
    if now >= due:
        return "breach"
    if window <= dt.timedelta(0) or calendar.between(now, due) > window:
        return None
    if warning_stands(calendar, getattr(ticket, f"{target}_warned_at"), due, window):
        return None
    return "warning"


def _unchanged(ticket: Ticket, target: str, due: dt.datetime) -> dict[str, Any]:
    """What the decision on ``target`` was made on, for the update to compare."""
    expect: dict[str, Any] = {
        f"{target}_due": due,
        f"{target}_breached_at": None,
        f"{target}_warned_at": getattr(ticket, f"{target}_warned_at"),
        "status": ticket.status,
        "paused_at": None,
    }
    if target == "first_response":
        expect["first_responded_at"] = None
    return expect


def mark(
    uow: UnitOfWork,
    ticket: Ticket,
    target: str,
    kind: str,
    due: dt.datetime,
    calendar: Calendar,
    now: dt.datetime,
) -> bool:
    """Mark a breach or warning of ``target`` (due at ``due``) on ``ticket`` and raise its
    event; ``False``, with nothing written, if the ticket changed since it was read."""
    field = f"{target}_breached_at" if kind == "breach" else f"{target}_warned_at"
    changes = {field: now, "updated_at": utcnow()}
    etype = uow.crm.entity_type(TICKET)
    if not uow.tx.update(etype, ticket.id, changes, expect=_unchanged(ticket, target, due)):
        return False
    for name, value in changes.items():
        setattr(ticket, name, value)
    if kind == "breach":
        payload = ticket_ref(
            ticket, target=target, due=due.isoformat(), breached_at=now.isoformat()
        )
        uow.raise_event("service.sla.breached", payload, subject_id=ticket.contact_id)
    else:
        left = int(calendar.between(now, due).total_seconds())
        payload = ticket_ref(ticket, target=target, due=due.isoformat(), remaining_seconds=left)
        uow.raise_event("service.sla.warning", payload, subject_id=ticket.contact_id)
    return True


# -- escalation ---------------------------------------------------------------------------


def matching_rules(
    settings: ServiceSettings, kind: str, target: str, priority: str
) -> list[EscalationRule]:
    """The escalation rules for a ``breach``/``warning`` of ``target`` at ``priority``."""
    when = "breach" if kind == "breach" else "near_breach"
    return [
        rule
        for rule in settings.escalations
        if rule.when == when and rule.target == target and rule.applies_to(priority)
    ]


def raise_priority(uow: UnitOfWork, ticket: Ticket) -> bool:
    """Move ``ticket`` one priority up (``urgent`` stays); whether it changed.

    Only the priority changes: the SLA policy and due times already running stay.
    """
    index = PRIORITIES.index(ticket.priority) if ticket.priority in PRIORITIES else -1
    if index < 0 or index + 1 >= len(PRIORITIES):
        return False
    before, after = ticket.priority, PRIORITIES[index + 1]
    save_ticket(uow, ticket, {"priority": after})
    uow.raise_event(
        "service.ticket.updated",
        ticket_ref(ticket, changed={"priority": [before, after]}),
        subject_id=ticket.contact_id,
    )
    return True


def apply_action(uow: UnitOfWork, ticket: Ticket, action: str) -> bool:
    """Run one escalation action on ``ticket``; whether it did anything.

    ``raise_priority`` does nothing on an urgent ticket; ``reassign:TEAM`` gives
    the ticket to the team (an unknown team is a ``ValidationError``);
    ``notify:WHO`` only raises the event that names the action.
    """
    name, _, argument = action.partition(":")
    if name == "raise_priority":
        return raise_priority(uow, ticket)
    if name == "reassign":
        assign_ticket(uow, ticket, team=argument)
        return True
    if name == "notify":
        return True
    raise ValueError(f"unknown escalation action {action!r}")


def escalate(
    uow: UnitOfWork,
    settings: ServiceSettings,
    ticket: Ticket,
    kind: str,
    target: str,
) -> tuple[str, ...]:
    """Run every matching rule's actions for a new ``kind`` of ``target``; the actions run."""
    done: list[str] = []
    for rule in matching_rules(settings, kind, target, ticket.priority):
        for action in rule.actions:
            if apply_action(uow, ticket, action):
                uow.raise_event(
                    "service.escalation.applied",
                    ticket_ref(ticket, when=rule.when, target=target, action=action),
                    subject_id=ticket.contact_id,
                )
                done.append(action)
    return tuple(done)


# -- one ticket, one unit of work ---------------------------------------------------------


def _read(uow: UnitOfWork, ticket_id: str) -> Ticket | None:
    """The ticket as stored now, or ``None`` if it was deleted since the run began."""
    row = uow.tx.get(uow.crm.entity_type(TICKET), ticket_id)
    return Ticket(**row) if row is not None else None


def check_ticket(
    uow: UnitOfWork, settings: ServiceSettings, ticket_id: str, key: str, now: dt.datetime
) -> list[TickNotice]:
    """Mark and escalate what is due on one ticket (``key``, for the caller's report),
    inside ``uow``; a ticket another run changed meanwhile is left to that run."""
    ticket = _read(uow, ticket_id)
    if ticket is None:
        return []
    calendar = sla.calendar_of(settings, ticket)
    notices: list[TickNotice] = []
    for target in TARGETS:
        kind = outcome(ticket, calendar, target, now, settings.near_breach)
        due = _due(ticket, target)
        if kind is None or due is None:
            continue
        if not mark(uow, ticket, target, kind, due, calendar, now):
            log.info("tick: %s changed while being checked; left to the run that changed it", key)
            break
        actions = escalate(uow, settings, ticket, kind, target)
        notices.append(TickNotice(ticket.key, target, kind, due, actions))
    return notices


def tick(crm: CRM, *, now: dt.datetime | None = None, actor: str | None = None) -> TickReport:
    """Mark SLA warnings and breaches due at ``now`` (default: the current time) and escalate.

    See the module docstring. Each ticket is handled in its own unit of work by
    ``actor``; one that fails is counted in ``failed`` and left as it was.
    """
    moment = sla.clock_time(now if now is not None else utcnow())
    settings = service_settings(crm)
    etype = crm.entity_type(TICKET)
    with crm.backend.read() as reader:
        checked = reader.count(etype, running_clocks())
        rows = reader.query(
            etype, Query(where=needing_attention(horizon(settings, moment)), order_by=("id",))
        )
    candidates = [(row["id"], row["key"]) for row in rows]
    notices: list[TickNotice] = []
    failures: list[TickFailure] = []
    for ticket_id, key in candidates:
        try:
            with crm.unit_of_work(actor) as uow:
                found = check_ticket(uow, settings, ticket_id, key, moment)
        except CrmkitError as exc:
            log.warning("tick: %s left as it was: %s", key, exc)
            failures.append(TickFailure(key, str(exc)))
            continue
        except Exception as exc:  # one ticket's failure must not stop the watch over the others
            log.exception("tick: %s left as it was", key)
            failures.append(TickFailure(key, f"{type(exc).__name__}: {exc}"))
            continue
        notices.extend(found)
    return TickReport(
        at=moment,
        checked=checked,
        warned=sum(1 for n in notices if n.kind == "warning"),
        breached=sum(1 for n in notices if n.kind == "breach"),
        escalations=sum(len(n.escalations) for n in notices),
        failed=len(failures),
        notices=tuple(notices),
        failures=tuple(failures),
    )
