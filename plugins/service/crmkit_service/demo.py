"""Sample service-desk data for ``crmkit demo``: three months of tickets with their threads.

Every choice comes from ``random.Random(demo.seed)`` walking the demo's sample
contacts in the order they were made, so the same seed gives the same tickets,
subjects, channels, priorities, threads, statuses and answers on every run
(times are placed relative to the moment the demo is made).

The desk works with the project's own settings: its calendars, SLA policies and
teams (without ``[plugins.service]`` the default SLA applies on the ``24x7``
calendar and tickets have no team). The data is made the way a desk would make
it, through the plugin's own code:

1. a few canned replies and knowledge-base articles (:class:`Knowledge`);
2. about eighty tickets over the last ninety days, opened oldest first so keys
   follow time, each with its past written explicitly: the customer's message,
   notes, replies (some from canned replies), waiting on the customer, the
   customer writing back, resolution, reopening and closing, all through
   ``open_ticket``, ``add_message`` and ``change_status`` in one unit of work,
   with each ticket's creation and assignment times set to when it was opened;
3. CSAT/NPS answers on resolved tickets (:class:`Feedback`) and the articles
   that answered them (:meth:`Knowledge.link`);
4. the timeline entries of all this moved to when each thing happened;
5. one ``tick``, which marks the breaches of the tickets left overdue.

The featured contact gets an open high-priority ticket and an earlier one,
resolved and rated, so the demo's single customer view shows a Service section.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.ids import new_id
from crmkit.storage.query import AllOf, Cond, Query
from crmkit_service import sla
from crmkit_service.assignment import OPEN_STATUSES
from crmkit_service.entities import PRIORITIES, Ticket
from crmkit_service.feedback import Feedback
from crmkit_service.knowledge import Knowledge, fill, ticket_values
from crmkit_service.settings import DEFAULT_TIER, ServiceSettings, service_settings
from crmkit_service.tick import tick
from crmkit_service.tickets import add_message, change_status, open_ticket

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.demo.load import DemoData
    from crmkit.uow import UnitOfWork

ACTOR = "demo"
TICKETS = 80
HISTORY_DAYS = 90
CLOSE_AFTER = dt.timedelta(days=3)
"""A resolved ticket nobody writes back about is closed this long after."""
NO_SLA_FIRST_RESPONSE = dt.timedelta(hours=8)
NO_SLA_RESOLUTION = dt.timedelta(hours=40)
"""How fast the desk works a ticket that has no SLA."""
AGENTS = ("ana", "ben", "cy", "dee")
"""Who answers tickets that have no assignee."""
CHANNELS = (("email", 45), ("web", 20), ("phone", 15), ("chat", 15), ("social", 5))
PRIORITY_WEIGHTS = (15, 55, 22, 8)
FATES = (("done", 82), ("waiting", 5), ("open", 6), ("new", 3), ("overdue", 4))
"""What became of a ticket: resolved (and maybe closed), or still open in some way."""

CANNED = (
    (
        "greeting",
        "Hello {contact.first_name}, thank you for getting in touch about {ticket.subject} "
        "({ticket.key}). We are looking into it and will come back to you shortly.\n-- {agent}",
    ),
    (
        "need-more-info",
        "Hello {contact.first_name}, to get to the bottom of {ticket.key} we need a little "
        "more: could you send a screenshot and the time it happened?\n-- {agent}",
    ),
    (
        "solved",
        "Hello {contact.first_name}, {ticket.key} is solved on our side. If anything is still "
        "not right, just reply to this message.\n-- {agent}",
    ),
    (
        "escalated",
        "Hello {contact.first_name}, we have passed {ticket.key} to our specialists and will "
        "update you as soon as we hear back.\n-- {agent}",
    ),
)
ARTICLES = (
    ("reset-password", "Resetting your password", ("login",),
     "Use 'Forgot password' on the sign-in page; the link in the email works for one hour."),
    ("two-factor", "Two-factor codes that do not arrive", ("login",),
     "Check the phone's clock is set automatically, then request a new code."),
    ("update-billing-details", "Changing your billing details", ("billing",),
     "Owners change the company name, address and VAT number under Settings > Billing."),
    ("refunds", "Refunds and double charges", ("billing",),
     "A double charge is refunded within five working days of being reported."),
    ("large-exports", "Exporting large data sets", ("data",),
     "Exports over 100,000 rows run in the background and are emailed when ready."),
    ("add-users", "Adding and removing users", ("account",),
     "Admins invite users under Settings > Team; a seat is freed as soon as one is removed."),
)  # fmt: skip
TOPICS = (
    ("Cannot log in after a password reset", "login", "reset-password",
     "I reset my password this morning and the new one is not accepted."),
    ("Two-factor codes are not arriving", "login", "two-factor",
     "The text message with the code never comes, so I am locked out."),
    ("Invoice shows the wrong VAT number", "billing", "update-billing-details",
     "Our last invoice has an old VAT number on it; we need a corrected one."),
    ("Charged twice this month", "billing", "refunds",
     "The card statement shows two payments for the same subscription."),
    ("Export to CSV times out", "bug", "large-exports",
     "Exporting all contacts stops after a few minutes with an error."),
    ("How do I add a new colleague?", "how-to", "add-users",
     "A new colleague starts on Monday; how do I give them access?"),
    ("Mobile app crashes on start", "bug", None,
     "Since the last update the app closes as soon as I open it."),
    ("Calendar stopped syncing", "integrations", None,
     "Meetings booked yesterday do not show in our shared calendar."),
    ("Please cancel our trial", "account", None,
     "We have decided not to continue after the trial; please close the account."),
    ("Feature request: dark mode", "feature-request", None,
     "Several of us work late; a dark theme would be very welcome."),
)  # fmt: skip
NOTES = (
    "Checked the logs: the error started after the last release.",
    "Customer is on the annual plan; renewal is next quarter.",
    "Asked engineering to have a look.",
    "Reproduced it on a test account.",
)
REPLIES = (
    "Thanks for the details. We found the cause and are fixing it now.",
    "We have made the change on your account; please try again.",
    "A fix is on its way and should reach you today.",
)
FOLLOW_UPS = (
    "Here is the screenshot you asked for.",
    "Any news on this? It is still happening.",
    "It happened again at around ten this morning.",
)
COMMENTS = (
    "Quick and friendly, thank you.",
    "Solved, but it took a while.",
    "Great help from the support team.",
    "Had to explain the problem twice.",
)


@attrs.frozen
class _Plan:
    """One ticket to make: who asks, about what, how urgently, when, and what becomes of it."""

    contact: str
    topic: int
    channel: str
    priority: str
    opened: dt.datetime
    fate: str
    featured: bool = False


@attrs.define
class _Made:
    """What the demo made, for its summary."""

    tickets: list[str] = attrs.Factory(list)
    answers: int = 0
    articles: int = 0


def load_demo(crm: CRM, demo: DemoData) -> str:
    """Add the service sample data to the demo CRM; return its summary.

    The summary reads like ``"80 tickets (12 open, 5 breached), 34 CSAT answers,
    6 articles"``: open counts tickets not resolved or closed, breached those
    that missed a first-response or resolution target.
    """
    if not demo.contact_ids:
        return "no tickets: the demo has no contacts"
    maker = _DeskHistory(crm, demo, random.Random(demo.seed), _second(utcnow()))
    made = maker.make()
    return _summary(crm, made, maker.now)


class _DeskHistory:
    """Builds the desk's past in a fixed order of random choices (see the module docstring)."""

    def __init__(self, crm: CRM, demo: DemoData, rng: random.Random, now: dt.datetime) -> None:
        self.crm = crm
        self.demo = demo
        self.rng = rng
        self.now = now
        self.settings: ServiceSettings = service_settings(crm)
        self.teams = sorted(self.settings.teams)
        self.marks: list[tuple[str, dt.datetime]] = []
        """(an id made just before an action, when the action happened), in order."""
        self.answers: list[tuple[str, dt.datetime, bool]] = []
        """Tickets to rate: (key, when the customer answered, whether the SLA was missed)."""
        self.links: list[tuple[str, str, dt.datetime]] = []
        """Articles that answered tickets: (key, slug, when)."""

    # -- the whole history ------------------------------------------------------------
    def make(self) -> _Made:
        made = _Made()
        knowledge = Knowledge(self.crm)
        for name, body in CANNED:
            knowledge.add_canned(name, body, actor=ACTOR)
        for slug, title, tags, body in ARTICLES:
            knowledge.add_article(slug, title, body, tags=tags, actor=ACTOR)
            made.articles += 1
        plans = sorted(self._plans(), key=lambda plan: plan.opened)
        with self.crm.unit_of_work(ACTOR) as uow:
            for plan in plans:
                made.tickets.append(self._ticket(uow, plan).id)
        feedback = Feedback(self.crm)
        for key, when, missed in self.answers:
            csat, nps, comment = self._answer(missed)
            self._mark(when)
            feedback.record(key, csat=csat, nps=nps, comment=comment, recorded_at=when, actor=ACTOR)
            made.answers += 1
        for key, slug, when in self.links:
            self._mark(when)
            knowledge.link(key, slug, actor=ACTOR)
        self._date_timeline()
        tick(self.crm, now=self.now, actor=ACTOR)
        return made

    def _plans(self) -> list[_Plan]:
        rng, contacts = self.rng, self.demo.contact_ids
        plans = [self._plan(rng.choice(contacts), self._fate()) for _ in range(TICKETS - 2)]
        featured = self.demo.featured_contact
        plans.append(self._plan(featured, "done", days_ago=30.0, featured=True))
        plans.append(self._plan(featured, "open", priority="high", featured=True))
        return plans

    def _fate(self) -> str:
        return self.rng.choices([f for f, _ in FATES], weights=[w for _, w in FATES])[0]

    def _plan(
        self,
        contact: str,
        fate: str,
        *,
        priority: str | None = None,
        days_ago: float | None = None,
        featured: bool = False,
    ) -> _Plan:
        rng = self.rng
        channel = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
        chosen = priority or rng.choices(PRIORITIES, weights=PRIORITY_WEIGHTS)[0]
        first, resolution = self._targets(chosen)
        if days_ago is not None:
            age = dt.timedelta(days=days_ago)
        elif fate == "done":
            age = dt.timedelta(days=rng.uniform(2, HISTORY_DAYS))
        elif fate == "waiting":
            age = dt.timedelta(hours=rng.uniform(4, 6 * 24))
        elif fate == "open":
            age = resolution * rng.uniform(0.15, 0.8)
        elif fate == "new":
            age = first * rng.uniform(0.05, 0.7)
        else:  # overdue: past its resolution target, with the clock still running
            age = resolution * rng.uniform(1.3, 3.0)
        return _Plan(
            contact=contact,
            topic=rng.randrange(len(TOPICS)),
            channel=channel,
            priority=chosen,
            opened=_second(self.now - age),
            fate=fate,
            featured=featured,
        )

    def _targets(self, priority: str) -> tuple[dt.timedelta, dt.timedelta]:
        """The standard tier's targets for ``priority`` as wall-clock time (business time
        never passes faster, so a ticket younger than a target has not missed it)."""
        policy = self.settings.policy(DEFAULT_TIER, priority)
        if policy is None:
            return NO_SLA_FIRST_RESPONSE, NO_SLA_RESOLUTION
        return policy.first_response, policy.resolution

    # -- one ticket ---------------------------------------------------------------------
    def _ticket(self, uow: UnitOfWork, plan: _Plan) -> Ticket:
        rng = self.rng
        subject, tag, slug, text = TOPICS[plan.topic]
        self._mark(plan.opened)
        ticket = open_ticket(
            uow,
            subject=subject,
            description=text,
            contact=plan.contact,
            channel=plan.channel,
            priority=plan.priority,
            team=rng.choice(self.teams) if self.teams else None,
            tags=[tag],
            opened_at=plan.opened,
        )
        backdated: dict[str, Any] = {"created_at": plan.opened}
        if ticket.assigned_at is not None:
            backdated["assigned_at"] = plan.opened
        self._save(uow, ticket, backdated)
        self._message(uow, ticket, "inbound", text, plan.opened)
        last = self._work(uow, ticket, plan, slug)
        self._save(uow, ticket, {"updated_at": last})
        return ticket

    def _work(self, uow: UnitOfWork, ticket: Ticket, plan: _Plan, slug: str | None) -> dt.datetime:
        """Play the ticket's life after it was opened; return when it last changed."""
        rng, opened, now = self.rng, plan.opened, self.now
        first_span = _span(ticket.first_response_due, opened, NO_SLA_FIRST_RESPONSE)
        span = _span(ticket.resolution_due, opened, NO_SLA_RESOLUTION)
        if plan.fate == "new":
            if rng.random() < 0.3:
                return self._note(uow, ticket, opened + (now - opened) / 2)
            return opened
        if plan.fate == "overdue":
            if rng.random() < 0.5:
                return opened
            return self._reply(uow, ticket, opened + min(first_span, now - opened) / 2)
        if plan.fate in ("open", "waiting"):
            reply = opened + min(first_span, now - opened) * rng.uniform(0.1, 0.6)
            if rng.random() < 0.3:
                self._note(uow, ticket, opened + (reply - opened) / 2)
            if plan.fate == "waiting":
                self._reply(uow, ticket, reply, canned="need-more-info")
                return self._status(uow, ticket, "waiting", reply + dt.timedelta(minutes=2))
            last = self._reply(uow, ticket, reply)
            if rng.random() < 0.4:
                last = self._message(
                    uow, ticket, "inbound", rng.choice(FOLLOW_UPS), reply + (now - reply) / 2
                )
            return last
        return self._resolve(uow, ticket, plan, slug, first_span, span)

    def _resolve(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        plan: _Plan,
        slug: str | None,
        first_span: dt.timedelta,
        span: dt.timedelta,
    ) -> dt.datetime:
        """A ticket answered and resolved (some late, some after waiting, a few reopened)."""
        rng, opened, now = self.rng, plan.opened, self.now
        late = not plan.featured and rng.random() < 0.06
        resolved = opened + span * (rng.uniform(1.05, 1.6) if late else rng.uniform(0.1, 0.85))
        resolved = _second(min(resolved, opened + (now - opened) * 0.9))
        slow = not plan.featured and rng.random() < 0.06
        took = first_span * (rng.uniform(1.1, 2.0) if slow else rng.uniform(0.05, 0.8))
        reply = opened + min(took, (resolved - opened) * 0.4)
        if rng.random() < 0.3:
            self._note(uow, ticket, opened + (reply - opened) / 2)
        self._reply(uow, ticket, reply, canned="greeting")
        if slug is not None and (plan.featured or rng.random() < 0.5):
            self.links.append((ticket.key, slug, reply))
        if not plan.featured and rng.random() < 0.3:
            gap = resolved - reply
            self._status(uow, ticket, "waiting", reply + gap * 0.1)
            self._message(uow, ticket, "inbound", rng.choice(FOLLOW_UPS), reply + gap * 0.5)
            self._reply(uow, ticket, reply + gap * 0.75)
        self._reply(uow, ticket, resolved - dt.timedelta(minutes=1), canned="solved")
        self._status(uow, ticket, "resolved", resolved)
        if not plan.featured and rng.random() < 0.08 and resolved + dt.timedelta(days=2) < now:
            back = resolved + dt.timedelta(hours=rng.uniform(2, 24))
            self._message(uow, ticket, "inbound", rng.choice(FOLLOW_UPS), back)
            self._reply(uow, ticket, back + dt.timedelta(hours=1))
            resolved = back + dt.timedelta(hours=3)
            self._status(uow, ticket, "resolved", resolved)
        last = resolved
        if resolved + CLOSE_AFTER <= now:
            last = self._status(uow, ticket, "closed", resolved + CLOSE_AFTER)
        if plan.featured or rng.random() < 0.55:
            answered = min(resolved + dt.timedelta(hours=rng.uniform(1, 30)), now)
            missed = late or slow or (plan.priority == "urgent" and rng.random() < 0.3)
            self.answers.append((ticket.key, _second(answered), missed))
        return last

    def _answer(self, missed: bool) -> tuple[int, int | None, str | None]:
        """A customer's CSAT (1-5), maybe an NPS (0-10) that goes with it, maybe a comment."""
        rng = self.rng
        weights = (15, 20, 30, 25, 10) if missed else (3, 5, 12, 35, 45)
        csat = rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
        low, high = {5: (8, 10), 4: (6, 9), 3: (4, 8)}.get(csat, (0, 5))
        nps = rng.randint(low, high) if rng.random() < 0.75 else None
        comment = rng.choice(COMMENTS) if rng.random() < 0.3 else None
        return csat, nps, comment

    # -- actions, each at its own time ----------------------------------------------------
    def _mark(self, when: dt.datetime) -> None:
        """Remember that what is logged from now on happened at ``when``."""
        self.marks.append((new_id(), when))

    def _save(self, uow: UnitOfWork, ticket: Ticket, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(ticket, name, value)
        uow.tx.update(uow.crm.entity_type("service.ticket"), ticket.id, changes)

    def _message(
        self, uow: UnitOfWork, ticket: Ticket, direction: str, body: str, when: dt.datetime
    ) -> dt.datetime:
        at = _second(when)
        self._mark(at)
        author = None if direction == "inbound" else ticket.assignee or self.rng.choice(AGENTS)
        message = add_message(
            uow, ticket, direction=direction, body=body, author=author, occurred_at=at
        )
        uow.tx.update(
            uow.crm.entity_type("service.message"), message.id, {"created_at": at, "updated_at": at}
        )
        return at

    def _note(self, uow: UnitOfWork, ticket: Ticket, when: dt.datetime) -> dt.datetime:
        return self._message(uow, ticket, "note", self.rng.choice(NOTES), when)

    def _reply(
        self, uow: UnitOfWork, ticket: Ticket, when: dt.datetime, *, canned: str | None = None
    ) -> dt.datetime:
        """A reply to the customer: the canned reply ``canned`` when it can be filled in."""
        text = self.rng.choice(REPLIES)
        if canned is not None:
            agent = ticket.assignee or AGENTS[0]
            values = ticket_values(uow, ticket, agent)
            if values["contact.first_name"]:
                body = dict(CANNED)[canned]
                text = fill(body, values, name=canned, record=ticket.key)
        return self._message(uow, ticket, "outbound", text, when)

    def _status(
        self, uow: UnitOfWork, ticket: Ticket, status: str, when: dt.datetime
    ) -> dt.datetime:
        at = _second(when)
        self._mark(at)
        change_status(uow, ticket, status, at=at)
        return at

    # -- the timeline -----------------------------------------------------------------------
    def _date_timeline(self) -> None:
        """Move the timeline entries the desk logged to when each thing happened.

        Ids grow in the order records are made, so each entry belongs to the last
        mark made before it; one indexed range read on the id finds them all.
        """
        if not self.marks:
            return
        bounds = [mark for mark, _ in self.marks]
        itype = self.crm.entity_type("interaction")
        with self.crm.unit_of_work(ACTOR) as uow:
            rows = uow.tx.query(
                itype,
                Query(
                    where=AllOf((Cond("id", "ge", bounds[0]), Cond("source", "eq", "service"))),
                    order_by=("id",),
                ),
            )
            for row in rows:
                when = self.marks[bisect.bisect_right(bounds, row["id"]) - 1][1]
                uow.tx.update(itype, row["id"], {"occurred_at": when, "created_at": when})


def _summary(crm: CRM, made: _Made, now: dt.datetime) -> str:
    """``"80 tickets (12 open, 5 breached), 34 CSAT answers, 6 articles"``."""
    settings = service_settings(crm)
    etype = crm.entity_type("service.ticket")
    with crm.backend.read() as reader:
        rows = reader.query(etype, Query(where=Cond("id", "in", made.tickets)))
    tickets = [Ticket(**row) for row in rows]
    still_open = sum(t.status in OPEN_STATUSES for t in tickets)
    breached = sum(_breached(settings, t, now) for t in tickets)
    return (
        f"{len(tickets)} tickets ({still_open} open, {breached} breached), "
        f"{made.answers} CSAT answers, {made.articles} articles"
    )


def _breached(settings: ServiceSettings, ticket: Ticket, now: dt.datetime) -> bool:
    state = sla.remaining(ticket, sla.calendar_of(settings, ticket), now)
    return "breached" in (state.first_response.state, state.resolution.state)


def _span(due: dt.datetime | None, opened: dt.datetime, default: dt.timedelta) -> dt.timedelta:
    """Wall-clock time from ``opened`` to ``due`` (``default`` without a due time)."""
    return due - opened if due is not None else default


def _second(when: dt.datetime) -> dt.datetime:
    return when.replace(microsecond=0)
