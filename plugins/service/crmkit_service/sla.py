"""The SLA clock of a ticket: when its targets fall due, pausing while it waits on the
customer, and how much business time is left.

A ticket under an SLA policy has two targets: a first response and a
resolution, each an amount of business time in the policy's calendar counted
from when the clock started. While the ticket waits on the customer the
resolution clock is paused: the business time left is kept in
``resolution_remaining`` and the due time is cleared (a paused ticket cannot
breach), and resuming sets a new due time that much business time after the
resumption. Pausing never moves a deadline earlier, and a pause during which
no business time passed (overnight, say) gives back exactly the same deadline.

The clock counts whole seconds: every instant these functions are given is
truncated to the second before use and targets are rounded up to the second,
so the remaining time kept while paused is exact and pausing and resuming lose
nothing to rounding.

The functions here return the changes to make (a dict of ticket fields); the
caller writes them in its unit of work.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs

from crmkit_service.calendar import Calendar

if TYPE_CHECKING:
    from crmkit_service.entities import Ticket
    from crmkit_service.settings import ServiceSettings, SlaPolicy

STATES: tuple[str, ...] = ("met", "running", "paused", "breached", "none")


def clock_time(at: dt.datetime) -> dt.datetime:
    """``at`` as the SLA clock reads it: aware UTC, truncated to the whole second."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"SLA times must be timezone-aware, not {at!r}; add tzinfo=datetime.UTC")
    return at.astimezone(dt.UTC).replace(microsecond=0)


def clock_duration(duration: dt.timedelta) -> dt.timedelta:
    """``duration`` as the SLA clock counts it: rounded up to the whole second."""
    if duration.microseconds:
        return duration + dt.timedelta(microseconds=1_000_000 - duration.microseconds)
    return duration


@attrs.frozen
class TargetState:
    """Where one SLA target (first response or resolution) stands.

    ``state``: ``none`` (no SLA), ``running`` (due now or later),
    ``paused`` (waiting on the customer), ``met`` (done in time) or
    ``breached`` (missed). ``remaining`` is business time: left until ``due``
    while running, left when the clock was paused or stopped, and negative by
    the business time overdue when breached. ``due`` is ``None`` unless a due
    time is set (not while paused, nor without an SLA).
    """

    state: str
    due: dt.datetime | None = None
    remaining: dt.timedelta | None = None

    def near_breach(self, window: dt.timedelta) -> bool:
        """Whether the target is running with ``window`` or less of business time left."""
        return self.state == "running" and self.remaining is not None and self.remaining <= window

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: state, due (ISO), remaining_seconds (whole seconds, may be negative)."""
        return {
            "state": self.state,
            "due": self.due.isoformat() if self.due is not None else None,
            "remaining_seconds": (
                int(self.remaining.total_seconds()) if self.remaining is not None else None
            ),
        }


def business_time(value: dt.timedelta | None) -> str | None:
    """Business time as people read it: ``3h 20m`` (``-1h 05m`` when overdue); ``None`` for none."""
    if value is None:
        return None
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours}h {minutes:02d}m"


@attrs.frozen
class SlaState:
    """Where a ticket's two SLA targets stand at one moment."""

    first_response: TargetState
    resolution: TargetState

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, one entry per target."""
        return {
            "first_response": self.first_response.as_dict(),
            "resolution": self.resolution.as_dict(),
        }


def start_clock(ticket: Ticket, policy: SlaPolicy | None, at: dt.datetime) -> dict[str, Any]:
    """The changes that start (or restart, say after a priority change) a ticket's SLA at
    ``at`` under ``policy``: ``sla_policy``, ``first_response_due``, ``resolution_due``
    and ``resolution_remaining``.

    Without a policy the ticket has no SLA: all of them become ``None``. A
    first response already made keeps its due time. A ticket paused at the time
    keeps its resolution clock paused with the whole target left.
    """
    if policy is None:
        return {
            "sla_policy": None,
            "first_response_due": None,
            "resolution_due": None,
            "resolution_remaining": None,
        }
    start = clock_time(at)
    calendar = policy.calendar
    first_due = (
        ticket.first_response_due
        if ticket.first_responded_at is not None
        else calendar.add(start, clock_duration(policy.first_response))
    )
    changes: dict[str, Any] = {"sla_policy": policy.name, "first_response_due": first_due}
    if ticket.paused_at is not None:
        changes["resolution_due"] = None
        changes["resolution_remaining"] = int(clock_duration(policy.resolution).total_seconds())
    else:
        changes["resolution_due"] = calendar.add(start, clock_duration(policy.resolution))
        changes["resolution_remaining"] = None
    return changes


def pause(ticket: Ticket, calendar: Calendar, at: dt.datetime) -> dict[str, Any]:
    """The changes that pause the resolution clock at ``at`` (the ticket waits on the customer).

    ``paused_at`` is set; ``resolution_remaining`` becomes the business
    seconds left until the due time (0 when already overdue, never negative)
    and ``resolution_due`` is cleared. A ticket without a resolution due time is
    only marked paused. Pausing a paused ticket changes nothing.
    """
    if ticket.paused_at is not None:
        return {}
    moment = clock_time(at)
    changes: dict[str, Any] = {"paused_at": moment}
    if ticket.resolution_due is not None:
        left = calendar.between(moment, ticket.resolution_due)
        changes["resolution_remaining"] = int(left.total_seconds())
        changes["resolution_due"] = None
    return changes


def resume(ticket: Ticket, calendar: Calendar, at: dt.datetime) -> dict[str, Any]:
    """The changes that restart a paused resolution clock at ``at``.

    ``resolution_due`` becomes ``resolution_remaining`` business seconds after
    ``at``; ``paused_at`` and ``resolution_remaining`` are cleared. A ticket
    that is not paused changes nothing.
    """
    if ticket.paused_at is None:
        return {}
    changes: dict[str, Any] = {"paused_at": None, "resolution_remaining": None}
    if ticket.resolution_remaining is not None:
        left = dt.timedelta(seconds=max(ticket.resolution_remaining, 0))
        changes["resolution_due"] = calendar.add(clock_time(at), left)
    return changes


def remaining(ticket: Ticket, calendar: Calendar, now: dt.datetime) -> SlaState:
    """Where the ticket's first-response and resolution targets stand at ``now``."""
    moment = clock_time(now)
    first = _target(
        calendar,
        moment,
        due=ticket.first_response_due,
        stopped_at=ticket.first_responded_at,
        breached_at=ticket.first_response_breached_at,
    )
    if ticket.paused_at is not None and ticket.resolution_due is None:
        resolution = _paused(ticket)
    else:
        resolution = _target(
            calendar,
            moment,
            due=ticket.resolution_due,
            stopped_at=ticket.resolved_at or ticket.closed_at,
            breached_at=ticket.resolution_breached_at,
        )
    return SlaState(first, resolution)


def _paused(ticket: Ticket) -> TargetState:
    if ticket.resolution_remaining is None:
        return TargetState("none")
    left = dt.timedelta(seconds=ticket.resolution_remaining)
    if ticket.resolution_breached_at is not None:
        return TargetState("breached", None, left)
    return TargetState("paused", None, left)


def _signed(calendar: Calendar, at: dt.datetime, due: dt.datetime) -> dt.timedelta:
    """Business time from ``at`` until ``due``; negative by the business time past it."""
    if at <= due:
        return calendar.between(at, due)
    return -calendar.between(due, at)


def _target(
    calendar: Calendar,
    now: dt.datetime,
    *,
    due: dt.datetime | None,
    stopped_at: dt.datetime | None,
    breached_at: dt.datetime | None,
) -> TargetState:
    if due is None:
        return TargetState("none")
    if stopped_at is not None:
        stop = clock_time(stopped_at)
        left = _signed(calendar, stop, due)
        missed = breached_at is not None or stop > due
        return TargetState("breached" if missed else "met", due, left)
    left = _signed(calendar, now, due)
    missed = breached_at is not None or now > due
    return TargetState("breached" if missed else "running", due, left)


def policy_of(settings: ServiceSettings, ticket: Ticket) -> SlaPolicy | None:
    """The policy a ticket runs under: the one named in ``sla_policy`` if it still exists,
    else the one its tier and priority select now (``None``: no SLA)."""
    if ticket.sla_policy:
        tier, _, priority = ticket.sla_policy.partition("/")
        found = settings.policies.get(tier, {}).get(priority)
        if found is not None:
            return found
    return settings.policy(ticket.tier, ticket.priority)


def calendar_of(settings: ServiceSettings, ticket: Ticket) -> Calendar:
    """The calendar a ticket's SLA is counted in (the ``24x7`` one when it has no policy)."""
    policy = policy_of(settings, ticket)
    return policy.calendar if policy is not None else settings.calendar("24x7")
