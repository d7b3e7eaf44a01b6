"""Deals: opportunities moving through a pipeline's stages to won or lost.

A deal sits at one stage of one pipeline (``[plugins.sales.pipelines]``) while
it is open, and ends ``won`` or ``lost``. Every move is kept as a
:class:`~crmkit_sales.entities.StageChange`, so the history shows when a deal
entered each stage and who moved it; the forecast and the conversion metrics
are built on that history.

This module opens deals (:func:`open_deal`) and holds the :class:`Deals`
service. The rules of moving, winning, losing and reopening are in
:mod:`crmkit_sales.pipeline_moves`; finding and saving one deal in
:mod:`crmkit_sales.deal_records`; the people on a deal in
:mod:`crmkit_sales.deal_contacts`.

A deal is named by its id or by its exact title (compared without regard to
case) when only one deal has that title. Writes about a person ask the privacy
policy first (an erased or restricted contact is refused with
``PolicyDenied``) and reach the contact's timeline through
``uow.record_activity``.

Functions taking a ``uow`` work inside a unit of work the caller owns, so
other parts of the plugin (lead conversion) can open a deal in their own
transaction; :class:`Deals` opens one unit of work per call.
"""

from __future__ import annotations

import builtins
import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmkit.entities import utcnow
from crmkit.errors import ValidationError
from crmkit.storage.query import Cond, Filter, Query
from crmkit_sales.deal_contacts import add_deal_contact, deal_people
from crmkit_sales.deal_records import (
    CLOSED_STAGES,
    DEAL,
    STATUSES,
    deal_amount,
    deal_payload,
    deal_type,
    find_contact,
    load_deal,
    open_stage,
    read_history,
    save_deal,
    write_stage_change,
)
from crmkit_sales.entities import Deal, DealContact, StageChange
from crmkit_sales.money import parse_money, to_minor
from crmkit_sales.pipeline_moves import close_deal, move_deal, reopen_deal
from crmkit_sales.records import all_of, format_money, parse_date, require_contact_write
from crmkit_sales.settings import sales_settings

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit.uow import UnitOfWork

__all__ = ["KEEP", "Deals", "open_deal"]


class _Keep(enum.Enum):
    """Marks an argument of :meth:`Deals.update` that was not given (``None`` clears)."""

    KEEP = "keep"


KEEP = _Keep.KEEP


# -- checking input -----------------------------------------------------------


def _title(value: str, *, record: str | None = None) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError(DEAL, "title", "a deal needs a title", record=record)
    return text


def _products(values: Iterable[str]) -> list[str]:
    given = [values] if isinstance(values, str) else list(values)
    products = [p.strip() for p in given if isinstance(p, str) and p.strip()]
    if len(products) != len(given):
        raise ValidationError(DEAL, "products", "each product must be non-empty text")
    return list(dict.fromkeys(products))


def _currency(uow: UnitOfWork, currency: str | None) -> str:
    """The given currency, else the settings' default (checked by ``parse_money``)."""
    return currency if currency is not None else sales_settings(uow.crm).default_currency


# -- opening a deal ------------------------------------------------------------


def open_deal(
    uow: UnitOfWork,
    *,
    title: str,
    amount: Decimal | str | int,
    currency: str | None = None,
    pipeline: str | None = None,
    stage: str | None = None,
    contact: str | None = None,
    organization: str | None = None,
    owner: str | None = None,
    expected_close: dt.date | str | None = None,
    lead_id: str | None = None,
    products: Iterable[str] = (),
) -> Deal:
    """Open a deal inside ``uow``: validate, store it with its opening stage change, tell.

    ``contact`` is an id or email, ``organization`` an id or exact name; the
    deal opens at the pipeline's first stage unless ``stage`` names another open
    one; ``amount`` goes through :func:`~crmkit_sales.money.parse_money`
    (``Decimal``, text or ``int``; negative refused) in ``currency`` (default:
    ``default_currency`` of the settings). The policy is asked for the contact
    before anything is written. Raises ``ValidationError``, ``NotFound``,
    ``PolicyDenied``.
    """
    crm = uow.crm
    name = _title(title)
    settings = sales_settings(crm)
    plan = settings.pipeline(pipeline)
    first = open_stage(plan, stage, record=None) if stage is not None else plan.open_stages[0]
    code = currency if currency is not None else settings.default_currency
    money = parse_money(amount, code, entity=DEAL, field="amount")
    closes = parse_date(expected_close, entity=DEAL, field="expected_close")
    items = _products(products)
    person = find_contact(uow, contact) if contact is not None else None
    org = uow.organizations.get(organization) if organization is not None else None
    etype = deal_type(crm)
    if lead_id is not None:
        taken = uow.tx.get_by(etype, "lead_id", lead_id)
        if taken is not None:
            raise ValidationError(
                DEAL, "lead_id", f"lead {lead_id} already became deal {taken['id']}"
            )
    require_contact_write(uow, person.id if person else None, DEAL)
    now = utcnow()
    deal = Deal(
        title=name,
        pipeline=plan.name,
        stage=first,
        status="open",
        amount_minor=to_minor(money),
        currency=money.currency,
        expected_close=closes,
        owner=owner,
        contact_id=person.id if person else None,
        organization_id=org.id if org else None,
        lead_id=lead_id,
        products=items,
        stage_entered_at=now,
        created_at=now,
        updated_at=now,
    )
    uow.tx.add(etype, etype.to_row(deal))
    write_stage_change(uow, deal, None, first, now)
    uow.record_activity(
        "sales.deal.created",
        deal_payload(
            deal,
            organization_id=deal.organization_id,
            owner=owner,
            expected_close=closes.isoformat() if closes else None,
            lead_id=lead_id,
        ),
        contact_id=deal.contact_id,
        summary=f"Deal opened: {name} ({format_money(money)}) at stage {first}",
    )
    return deal


# -- the service ---------------------------------------------------------------


class Deals:
    """Deals of a CRM: ``Deals(crm).add(title=..., amount="12500", contact=...)``.

    Each write is one unit of work acting as ``actor`` (default: the CRM's).
    Deals are named by id or by their exact title (any case) when one deal has it.
    """

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    def add(
        self,
        *,
        title: str,
        amount: Decimal | str | int,
        currency: str | None = None,
        pipeline: str | None = None,
        stage: str | None = None,
        contact: str | None = None,
        organization: str | None = None,
        owner: str | None = None,
        expected_close: dt.date | str | None = None,
        lead_id: str | None = None,
        products: Iterable[str] = (),
        actor: str | None = None,
    ) -> Deal:
        """Open a deal (see :func:`open_deal`); event ``sales.deal.created``."""
        with self._crm.unit_of_work(actor) as uow:
            return open_deal(
                uow,
                title=title,
                amount=amount,
                currency=currency,
                pipeline=pipeline,
                stage=stage,
                contact=contact,
                organization=organization,
                owner=owner,
                expected_close=expected_close,
                lead_id=lead_id,
                products=products,
            )

    def get(self, ref: str) -> Deal:
        """The deal with this id; :class:`NotFound` if there is none."""
        with self._crm.backend.read() as reader:
            return load_deal(reader, self._crm, ref)

    def list(
        self,
        *,
        pipeline: str | None = None,
        stage: str | None = None,
        status: str | None = None,
        owner: str | None = None,
        organization: str | None = None,
        limit: int | None = None,
        order_by: Sequence[str] = ("-created_at", "-id"),
    ) -> builtins.list[Deal]:
        """Deals matching every filter given, in ``order_by`` (``-field`` descending).

        ``pipeline`` and ``stage`` are checked against the settings and
        ``status`` against open/won/lost, so a typo is an error rather than an
        empty list; ``organization`` is an id or exact name.
        """
        conds: builtins.list[Filter] = []
        settings = sales_settings(self._crm)
        if pipeline is not None:
            plan = settings.pipeline(pipeline)
            conds.append(Cond("pipeline", "eq", plan.name))
            if stage is not None:
                conds.append(Cond("stage", "eq", plan.stage(stage).name))
        elif stage is not None:
            known = dict.fromkeys(
                s for p in settings.pipelines.values() for s in (*p.open_stages, *CLOSED_STAGES)
            )
            if stage not in known:
                raise ValidationError(
                    DEAL, "stage", f"no pipeline has stage {stage!r}; use one of {', '.join(known)}"
                )
            conds.append(Cond("stage", "eq", stage))
        if status is not None:
            if status not in STATUSES:
                raise ValidationError(
                    DEAL, "status", f"{status!r} is not a status; use one of {', '.join(STATUSES)}"
                )
            conds.append(Cond("status", "eq", status))
        if owner is not None:
            conds.append(Cond("owner", "eq", owner))
        if organization is not None:
            conds.append(
                Cond("organization_id", "eq", self._crm.organizations.get(organization).id)
            )
        if limit is not None and limit < 0:
            raise ValidationError(DEAL, None, f"limit {limit} may not be negative")
        where = all_of(conds)
        query = Query(where, order_by=tuple(order_by), limit=limit)
        self._crm.check_query(DEAL, query)
        with self._crm.backend.read() as reader:
            rows = reader.query(deal_type(self._crm), query)
        return [Deal(**row) for row in rows]

    def update(
        self,
        ref: str,
        *,
        title: str | _Keep = KEEP,
        amount: Decimal | str | int | _Keep = KEEP,
        currency: str | _Keep = KEEP,
        expected_close: dt.date | str | _Keep | None = KEEP,
        owner: str | _Keep | None = KEEP,
        products: Iterable[str] | _Keep = KEEP,
        actor: str | None = None,
    ) -> Deal:
        """Change the given fields (``None`` clears ``expected_close`` or ``owner``).

        A new ``currency`` without an ``amount`` keeps the figure and reads it in
        the new currency. Closed deals may be corrected too (their stage and
        outcome change only through win, lose and reopen). Event
        ``sales.deal.updated`` with ``changed`` (names) and ``changes: {field:
        [old, new]}``; nothing is written when nothing changes.
        """
        with self._crm.unit_of_work(actor) as uow:
            deal = load_deal(uow.tx, self._crm, ref)
            wanted: dict[str, Any] = {}
            if not isinstance(title, _Keep):
                wanted["title"] = _title(title, record=deal.id)
            if not isinstance(amount, _Keep) or not isinstance(currency, _Keep):
                code = deal.currency if isinstance(currency, _Keep) else _currency(uow, currency)
                figure = deal_amount(deal).amount if isinstance(amount, _Keep) else amount
                money = parse_money(figure, code, entity=DEAL, field="amount")
                wanted["amount_minor"] = to_minor(money)
                wanted["currency"] = money.currency
            if not isinstance(expected_close, _Keep):
                wanted["expected_close"] = parse_date(
                    expected_close, entity=DEAL, field="expected_close"
                )
            if not isinstance(owner, _Keep):
                wanted["owner"] = owner
            if not isinstance(products, _Keep):
                wanted["products"] = _products(products)
            changes = {k: v for k, v in wanted.items() if getattr(deal, k) != v}
            if not changes:
                return deal
            require_contact_write(uow, deal.contact_id, DEAL)
            diff = {k: [_plain(getattr(deal, k)), _plain(v)] for k, v in changes.items()}
            save_deal(uow, deal, {**changes, "updated_at": utcnow()})
            uow.record_activity(
                "sales.deal.updated",
                {"deal_id": deal.id, "changed": sorted(changes), "changes": diff},
                contact_id=deal.contact_id,
                summary=f"Deal {deal.title} changed: {', '.join(changes)}",
            )
            return deal

    def add_contact(
        self, ref: str, contact: str, *, role: str | None = None, actor: str | None = None
    ) -> DealContact:
        """Add a person (id or email) to a deal with a role; the same person twice is refused."""
        with self._crm.unit_of_work(actor) as uow:
            return add_deal_contact(uow, ref, contact, role)

    def contacts(self, ref: str) -> builtins.list[tuple[Contact, str | None]]:
        """The deal's people with their roles, the primary contact first (``"primary"``)."""
        return deal_people(self._crm, ref)

    def history(self, ref: str) -> builtins.list[StageChange]:
        """Every stage the deal entered, oldest first (the first has ``from_stage=None``)."""
        with self._crm.backend.read() as reader:
            deal = load_deal(reader, self._crm, ref)
            return read_history(reader, self._crm, deal.id)

    def move(self, ref: str, stage: str, *, actor: str | None = None) -> Deal:
        """Move an open deal to another open stage; event ``sales.deal.stage_changed``."""
        with self._crm.unit_of_work(actor) as uow:
            return move_deal(uow, ref, stage)

    def win(self, ref: str, *, reason: str | None = None, actor: str | None = None) -> Deal:
        """Close an open deal as won; event ``sales.deal.won``."""
        with self._crm.unit_of_work(actor) as uow:
            return close_deal(uow, ref, "won", reason)

    def lose(self, ref: str, *, reason: str, actor: str | None = None) -> Deal:
        """Close an open deal as lost, saying why; event ``sales.deal.lost``."""
        with self._crm.unit_of_work(actor) as uow:
            return close_deal(uow, ref, "lost", reason)

    def reopen(
        self, ref: str, *, stage: str | None = None, reason: str, actor: str | None = None
    ) -> Deal:
        """Reopen a won or lost deal at ``stage`` (default: where it was before closing)."""
        with self._crm.unit_of_work(actor) as uow:
            return reopen_deal(uow, ref, stage=stage, reason=reason)


def _plain(value: Any) -> Any:
    """A value as it goes into an event payload (dates as ISO text)."""
    return value.isoformat() if isinstance(value, dt.date) else value
