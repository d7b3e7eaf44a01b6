"""Sample sales data for ``crmkit demo``: leads, a year of deals, quotes and tasks.

Every choice comes from ``random.Random(demo.seed)`` walking the demo's sample
contacts and organizations in the order they were made, so the same seed
gives the same leads, deal titles, amounts, stages and quotes on every run
(times are placed relative to the day the demo is made).

Records go through the plugin's own in-transaction functions (``add_lead``,
``qualify_lead``, ``convert_lead``, ``open_deal``, ``add_quote``,
``add_line``, ``decide_quote``), so they are checked, asked of the privacy
policy and told as events exactly as a user's would be, all in one unit of
work. The past is then written as it would have happened: each deal's stage
history is added in bulk with its real times, and the deal, lead and quote
rows get the times of their history instead of the moment the demo ran.
Tasks are added in bulk with due days around today (some overdue, some done).

The featured contact gets a converted lead, an open deal at the quote stage
with a sent quote and a follow-up task, and a deal won earlier, so the demo's
single customer view shows a full Sales section.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.storage.query import Cond, Query
from crmkit_sales.deals import open_deal
from crmkit_sales.entities import Deal, StageChange, Task
from crmkit_sales.leads import add_lead, convert_lead, disqualify_lead, qualify_lead
from crmkit_sales.quotes import add_line, add_quote, decide_quote, expire_due_quotes
from crmkit_sales.settings import Pipeline, sales_settings

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.demo.load import DemoData
    from crmkit.uow import UnitOfWork

ACTOR = "demo"
LEADS = 60
DEALS = 120
TASKS = 40
HISTORY_DAYS = 365

OWNERS = ("alice", "bob", "carmen", "dmitri", "emeka", "fatima")
LEAD_SOURCES = (
    ("web form", 30),
    ("referral", 20),
    ("trade show", 15),
    ("webinar", 12),
    ("cold call", 10),
    ("partner", 13),
)
FIRST_NAMES = (
    "Amara", "Bruno", "Chiara", "Dev", "Elif", "Felix", "Greta", "Hiro", "Ines", "Jonas",
    "Kofi", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Horvat",
    "Ito", "Jansen", "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov",
)  # fmt: skip
COMPANIES = (
    "Northwind Traders", "Bluebird Logistics", "Cedar Health", "Driftwood Studios",
    "Evergreen Foods", "Fjord Analytics", "Granite Works", "Harbor Insurance",
    "Ironbark Mining", "Juniper Schools", "Keystone Legal", "Lumen Energy",
)  # fmt: skip
JOB_TITLES = ("Head of Sales", "Operations Manager", "CTO", "Office Manager", "CFO", "Founder")
PRODUCTS = (
    ("Starter plan", Decimal("1080.00")),
    ("Team plan", Decimal("2280.00")),
    ("Business plan", Decimal("4680.00")),
    ("Enterprise plan", Decimal("9480.00")),
    ("Analytics add-on", Decimal("1440.00")),
    ("Automation add-on", Decimal("1800.00")),
    ("Onboarding package", Decimal("3500.00")),
    ("Premium support", Decimal("2400.00")),
)
SEATS = (1, 2, 3, 5, 8, 10, 15, 25)
WIN_REASONS = ("best fit for the team", "price", "existing relationship", None)
LOSS_REASONS = (
    "price",
    "chose a competitor",
    "no budget this year",
    "no decision",
    "missing feature",
    "bad timing",
)
TASK_TITLES = (
    "Call back",
    "Send the case study",
    "Book a demo",
    "Follow up on the quote",
    "Check budget approval",
    "Prepare the contract",
    "Introduce the implementation team",
)


@attrs.frozen
class _Offer:
    """What a deal sells: a product at a yearly price per seat, for some seats."""

    product: str
    price: Decimal
    seats: int

    @property
    def amount(self) -> Decimal:
        return self.price * self.seats


@attrs.define
class _PlannedDeal:
    """A deal opened now and the past it is given: its stages, their times, its outcome."""

    deal: Deal
    offer: _Offer
    stages: list[str]
    times: list[dt.datetime]
    outcome: str = "open"  # open, won or lost
    reason: str | None = None


@attrs.define
class _Counts:
    leads: int = 0
    converted: int = 0
    deals: int = 0
    won: int = 0
    quotes: int = 0
    tasks: int = 0

    def summary(self) -> str:
        return (
            f"{self.leads} leads ({self.converted} converted), {self.deals} deals "
            f"({self.won} won), {self.quotes} quotes, {self.tasks} tasks"
        )


def load_demo(crm: CRM, demo: DemoData) -> str:
    """Add the sales sample data to the demo CRM in one unit of work; return its summary.

    The summary reads like ``"61 leads (9 converted), 120 deals (32 won),
    32 quotes, 40 tasks"`` (sixty leads and the featured contact's).
    """
    rng = random.Random(demo.seed)
    now = utcnow()
    with crm.unit_of_work(ACTOR) as uow:
        maker = _DemoMaker(uow, rng, now, demo)
        maker.make()
    return maker.counts.summary()


class _DemoMaker:
    """Builds the sample data inside one unit of work, in a fixed order of random choices."""

    def __init__(self, uow: UnitOfWork, rng: random.Random, now: dt.datetime, demo: DemoData):
        self.uow = uow
        self.crm = uow.crm
        self.rng = rng
        self.now = now
        self.demo = demo
        self.pipeline: Pipeline = sales_settings(uow.crm).pipeline(None)
        self.counts = _Counts()
        self.planned: list[_PlannedDeal] = []
        self.quote_times: dict[tuple[str, str], dt.datetime] = {}
        self.org_of = _organizations_of(uow, demo.contact_ids)

    # -- the whole demo -------------------------------------------------------
    def make(self) -> None:
        featured_lead = self._featured_lead()
        lead_ids = self._leads()
        self._deals(DEALS - len(self.planned) - 1)
        self._featured_won_deal()
        self._quotes(featured_lead)
        self._write_history()
        self._tasks(lead_ids)
        for quote in expire_due_quotes(self.uow, self.now.date()):
            if quote.valid_until is not None:
                expired = dt.datetime.combine(quote.valid_until, dt.time(23, 59), dt.UTC)
                self.quote_times[(quote.id, "quote.expired")] = expired
        self._date_timeline()

    # -- leads ----------------------------------------------------------------
    def _lead_fields(self, index: int) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(COMPANIES)
        domain = company.lower().replace(" ", "-")
        sources = [s for s, _ in LEAD_SOURCES]
        return {
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{last.lower()}{index}@{domain}.example",
            "company": company,
            "title": rng.choice(JOB_TITLES),
            "source": rng.choices(sources, weights=[w for _, w in LEAD_SOURCES])[0],
            "owner": rng.choice(OWNERS),
        }

    def _leads(self) -> list[str]:
        """Sixty leads: new, worked, qualified, disqualified and converted ones.

        Returns the ids of the leads still worth a follow-up (not disqualified).
        """
        ids: list[str] = []
        for index in range(1, LEADS + 1):
            fields = self._lead_fields(index)
            lead = add_lead(self.uow, fields)
            self.counts.leads += 1
            captured = self._past(HISTORY_DAYS)
            fate = self.rng.random()
            if fate < 0.2:
                ids.append(lead.id)
            elif fate < 0.45:
                ids.append(lead.id)
                answers = {name: self.rng.random() < 0.5 for name in ("budget", "need")}
                qualify_lead(self.uow, lead.id, **answers)
            elif fate < 0.6:
                disqualify_lead(self.uow, lead.id, self.rng.choice(LOSS_REASONS[2:]))
            else:
                ids.append(lead.id)
                qualify_lead(
                    self.uow, lead.id, budget=True, authority=True, need=True, timeline=True
                )
                if fate >= 0.82:
                    self._convert(lead.id, captured, fields["company"])
                    continue
            self._date_lead(lead.id, captured, None)
        return ids

    def _convert(
        self, lead_id: str, captured: dt.datetime, company: str | None, org: str | None = None
    ) -> _PlannedDeal:
        """Convert a lead (captured at ``captured``) into a deal opened some days later."""
        offer = self._offer()
        conversion = convert_lead(
            self.uow,
            lead_id,
            deal_title=f"{company}: {offer.product}" if company else offer.product,
            amount=offer.amount,
            organization_name=org,
        )
        self.counts.converted += 1
        converted = captured + (self.now - captured) * self.rng.uniform(0.05, 0.3)
        self._date_lead(lead_id, captured, converted)
        return self._plan(conversion.deal, converted, offer)

    def _featured_lead(self) -> _PlannedDeal | None:
        """The featured contact came in as a lead: convert it into an open deal at quote."""
        featured = self.uow.contacts.get(self.demo.featured_contact)
        if not isinstance(featured.email, str):
            return None
        org = self.org_of.get(featured.id)
        fields = self._lead_fields(0)
        fields.update(
            first_name=featured.first_name,
            last_name=featured.last_name,
            email=featured.email,
            company=org[1] if org else None,
            source="referral",
        )
        lead = add_lead(self.uow, fields)
        self.counts.leads += 1
        qualify_lead(self.uow, lead.id, budget=True, authority=True, need=True, timeline=True)
        captured = self.now - dt.timedelta(days=75)
        plan = self._convert(lead.id, captured, fields["company"], org[1] if org else None)
        plan.stages = list(self.pipeline.open_stages[:4])
        quoted = self.now - dt.timedelta(days=5)
        plan.times = [*_spread(self.rng, plan.times[0], quoted, 3), quoted]
        plan.outcome, plan.reason = "open", None
        return plan

    def _date_lead(
        self, lead_id: str, captured: dt.datetime, converted: dt.datetime | None
    ) -> None:
        """Give a lead the time it was captured (and converted) instead of the demo's."""
        changes: dict[str, Any] = {"created_at": captured, "updated_at": converted or captured}
        if converted is not None:
            changes["converted_at"] = converted
        self.uow.tx.update(self.crm.entity_type("sales.lead"), lead_id, changes)

    # -- deals ----------------------------------------------------------------
    def _offer(self) -> _Offer:
        product, price = self.rng.choice(PRODUCTS)
        return _Offer(product, price, self.rng.choice(SEATS))

    def _deals(self, count: int) -> None:
        contacts = self.demo.contact_ids
        for _ in range(count):
            contact = self.rng.choice(contacts) if contacts else None
            self._open(contact, self._past(HISTORY_DAYS))

    def _open(self, contact: str | None, opened: dt.datetime) -> _PlannedDeal:
        offer = self._offer()
        org = self.org_of.get(contact) if contact is not None else None
        deal = open_deal(
            self.uow,
            title=f"{org[1]}: {offer.product}" if org else offer.product,
            amount=offer.amount,
            contact=contact,
            organization=org[0] if org else None,
            owner=self.rng.choice(OWNERS),
            products=[offer.product],
        )
        return self._plan(deal, opened, offer)

    def _featured_won_deal(self) -> None:
        """A deal the featured contact's organization bought earlier in the year."""
        opened = self.now - dt.timedelta(days=200)
        plan = self._open(self.demo.featured_contact, opened)
        plan.stages = list(self.pipeline.open_stages)
        closed = opened + dt.timedelta(days=60)
        plan.times = [*_spread(self.rng, opened, closed, len(plan.stages)), closed]
        plan.outcome, plan.reason = "won", WIN_REASONS[0]

    def _plan(self, deal: Deal, opened: dt.datetime, offer: _Offer) -> _PlannedDeal:
        """Where the deal got to: an open stage, or won or lost after some stages."""
        rng = self.rng
        stages = self.pipeline.open_stages
        fate = rng.random()
        age = self.now - opened
        if fate < 0.5 or age < dt.timedelta(days=14):
            reached = rng.randrange(len(stages))
            outcome, reason = "open", None
            end = self.now - dt.timedelta(hours=rng.randrange(1, 72))
            steps = reached + 1
        else:
            won = fate < 0.78
            reached = (
                rng.randrange(min(2, len(stages) - 1), len(stages))
                if won
                else (rng.randrange(len(stages)))
            )
            outcome = "won" if won else "lost"
            reason = rng.choice(WIN_REASONS if won else LOSS_REASONS)
            end = opened + age * rng.uniform(0.2, 0.9)
            steps = reached + 2
        plan = _PlannedDeal(
            deal=deal,
            offer=offer,
            stages=list(stages[: reached + 1]),
            times=_spread(rng, opened, end, steps),
            outcome=outcome,
            reason=reason,
        )
        self.planned.append(plan)
        self.counts.deals += 1
        return plan

    # -- quotes ---------------------------------------------------------------
    def _quotes(self, featured: _PlannedDeal | None) -> None:
        """A quote, sent, for deals that reached the quote stage; decided when they closed."""
        quote_stage = self.pipeline.open_stages[min(3, len(self.pipeline.open_stages) - 1)]
        for plan in self.planned:
            if quote_stage not in plan.stages or (
                plan is not featured and self.rng.random() < 0.55
            ):
                continue
            quote = add_quote(self.uow, plan.deal.id, valid_until=self.now.date())
            add_line(
                self.uow,
                quote.id,
                product=plan.offer.product,
                quantity=plan.offer.seats,
                unit_price=plan.offer.price,
                discount_pct=self.rng.choice((0, 0, 5, 10)),
                tax_pct=20,
            )
            if self.rng.random() < 0.5:
                add_line(
                    self.uow,
                    quote.id,
                    product="Onboarding workshop",
                    quantity=1,
                    unit_price="750.00",
                    tax_pct=20,
                )
            sent_at = plan.times[plan.stages.index(quote_stage)] + dt.timedelta(days=1)
            quote = decide_quote(self.uow, quote.id, "send")
            decided: dt.datetime | None = None
            if plan.outcome == "won":
                decide_quote(self.uow, quote.id, "accept")
                decided = plan.times[-1]
            elif plan.outcome == "lost" and self.rng.random() < 0.7:
                decide_quote(self.uow, quote.id, "reject")
                decided = plan.times[-1]
            self.counts.quotes += 1
            sent_at = min(sent_at, decided or self.now)
            drafted = sent_at - dt.timedelta(hours=4)
            for kind in ("quote.created", "quote.line_added"):
                self.quote_times[(quote.id, kind)] = drafted
            self.quote_times[(quote.id, "quote.sent")] = sent_at
            if decided is not None:
                self.quote_times[
                    (quote.id, f"quote.{'accepted' if plan.outcome == 'won' else 'rejected'}")
                ] = decided
            self.uow.tx.update(
                self.crm.entity_type("sales.quote"),
                quote.id,
                {
                    "created_at": drafted,
                    "updated_at": decided or sent_at,
                    "sent_at": sent_at,
                    "decided_at": decided,
                    "valid_until": (sent_at + dt.timedelta(days=30)).date(),
                },
            )

    # -- the past -------------------------------------------------------------
    def _write_history(self) -> None:
        """Give every deal its stage history, times and outcome as they happened."""
        crm, tx = self.crm, self.uow.tx
        dtype = crm.entity_type("sales.deal")
        ctype = crm.entity_type("sales.stage_change")
        opening = {
            row["deal_id"]: row["id"]
            for row in tx.query(
                ctype, Query(Cond("deal_id", "in", [p.deal.id for p in self.planned]))
            )
        }
        rows: list[dict[str, Any]] = []
        for plan in self.planned:
            deal = plan.deal
            opened = plan.times[0]
            tx.update(
                ctype,
                opening[deal.id],
                {"changed_at": opened, "created_at": opened, "updated_at": opened},
            )
            path = [*plan.stages, *([plan.outcome] if plan.outcome != "open" else [])]
            for before, after, when in zip(path, path[1:], plan.times[1:], strict=False):
                change = StageChange(
                    deal_id=deal.id,
                    pipeline=deal.pipeline,
                    from_stage=before,
                    to_stage=after,
                    changed_at=when,
                    actor=self.rng.choice(OWNERS),
                    created_at=when,
                    updated_at=when,
                )
                rows.append(ctype.to_row(change))
            tx.update(dtype, deal.id, self._deal_changes(plan, path))
            self.counts.won += int(plan.outcome == "won")
        if rows:
            tx.add_many(ctype, rows)

    def _deal_changes(self, plan: _PlannedDeal, path: Sequence[str]) -> dict[str, Any]:
        opened, last = plan.times[0], plan.times[len(path) - 1]
        changes: dict[str, Any] = {
            "created_at": opened,
            "updated_at": last,
            "stage": path[-1],
            "stage_entered_at": last,
        }
        if plan.outcome == "open":
            ahead = dt.timedelta(days=self.rng.randrange(7, 120))
            changes["expected_close"] = (self.now + ahead).date()
        else:
            changes.update(
                status=plan.outcome,
                closed_at=last,
                close_reason=plan.reason,
                days_to_close=(last - opened).days,
                expected_close=last.date(),
            )
        return changes

    def _date_timeline(self) -> None:
        """Move the timeline entries of the sales events to when they happened.

        The entries were logged as the demo ran; a deal opened months ago shows
        on its contact's timeline at the day it was opened, a quote at the day
        it was drafted, sent or decided.
        """
        opened = {p.deal.id: p.times[0] for p in self.planned}
        itype = self.crm.entity_type("interaction")
        for row in self.uow.tx.query(itype, Query(Cond("source", "eq", "sales"))):
            payload = row["payload"] or {}
            when = self.quote_times.get((str(payload.get("quote_id")), row["kind"]))
            if when is None and row["kind"] in ("deal.created", "lead.converted"):
                when = opened.get(str(payload.get("deal_id")))
            if when is not None:
                self.uow.tx.update(itype, row["id"], {"occurred_at": when, "created_at": when})

    # -- tasks ----------------------------------------------------------------
    def _tasks(self, lead_ids: Sequence[str]) -> None:
        """Follow-ups on open deals and leads: some done, some overdue, most ahead."""
        rng, today = self.rng, self.now.date()
        open_deals = [p.deal for p in self.planned if p.outcome == "open"]
        tasks: list[Task] = []
        featured = [d for d in open_deals if d.contact_id == self.demo.featured_contact]
        for deal in featured[:1]:
            tasks.append(self._task("Follow up on the quote", today + dt.timedelta(days=3), deal))
        while len(tasks) < TASKS and (open_deals or lead_ids):
            due = today + dt.timedelta(days=rng.randrange(-21, 30))
            if open_deals and (not lead_ids or rng.random() < 0.7):
                task = self._task(rng.choice(TASK_TITLES), due, rng.choice(open_deals))
            else:
                task = self._task(rng.choice(TASK_TITLES[:5]), due, None, rng.choice(lead_ids))
            if due < today and rng.random() < 0.5:
                done = dt.datetime.combine(due, dt.time(16, 0), dt.UTC)
                task.done_at = task.updated_at = done
            tasks.append(task)
        ttype = self.crm.entity_type("sales.task")
        self.uow.tx.add_many(ttype, [ttype.to_row(t) for t in tasks])
        self.counts.tasks = len(tasks)

    def _task(self, title: str, due: dt.date, deal: Deal | None, lead: str | None = None) -> Task:
        planned = dt.datetime.combine(due, dt.time(9, 0), dt.UTC)
        created = min(planned - dt.timedelta(days=self.rng.randrange(3, 21)), self.now)
        return Task(
            title=title,
            due=due,
            deal_id=deal.id if deal else None,
            lead_id=lead,
            owner=deal.owner if deal else self.rng.choice(OWNERS),
            created_at=created,
            updated_at=created,
        )

    # -- time -----------------------------------------------------------------
    def _past(self, days: int) -> dt.datetime:
        """A moment in the last ``days`` days, at least a day ago."""
        return self.now - dt.timedelta(minutes=self.rng.randrange(24 * 60, days * 24 * 60))


def _spread(
    rng: random.Random, start: dt.datetime, end: dt.datetime, count: int
) -> list[dt.datetime]:
    """``count`` ascending moments from ``start`` (the first) up to ``end``.

    When ``end`` comes too soon after ``start`` the moments still lie an hour
    or so apart, so every step of a history keeps its own time.
    """
    if count <= 1:
        return [start][:count]
    span = max(end - start, dt.timedelta(hours=count))
    cuts = sorted(rng.random() for _ in range(count - 1))
    return [start, *(start + span * cut for cut in cuts)]


def _organizations_of(uow: UnitOfWork, contact_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Each sample contact's first organization as ``(id, name)``, read in two queries."""
    if not contact_ids:
        return {}
    crm = uow.crm
    links = uow.tx.query(
        crm.entity_type("affiliation"),
        Query(Cond("contact_id", "in", list(contact_ids)), ("created_at", "id")),
    )
    first: dict[str, str] = {}
    for link in links:
        first.setdefault(link["contact_id"], link["organization_id"])
    if not first:
        return {}
    names = {
        row["id"]: row["name"]
        for row in uow.tx.query(
            crm.entity_type("organization"),
            Query(Cond("id", "in", sorted(set(first.values())))),
        )
    }
    return {cid: (oid, names[oid]) for cid, oid in first.items() if oid in names}
