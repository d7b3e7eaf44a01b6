"""The people on a deal: its primary contact and the others added with a role.

A deal has one primary contact (``Deal.contact_id``) and any number of other
people, each kept as a :class:`~crmkit_sales.entities.DealContact` with a role
(``"buyer"``, ``"champion"``). The same person is on a deal once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.errors import ValidationError
from crmkit.storage.query import AllOf, Cond, Query
from crmkit_sales.deal_records import find_contact, load_deal
from crmkit_sales.entities import DealContact
from crmkit_sales.records import require_contact_write

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit.uow import UnitOfWork

DEAL_CONTACT = "sales.deal_contact"


def add_deal_contact(uow: UnitOfWork, ref: str, contact: str, role: str | None) -> DealContact:
    """Add a person (id or email) to the deal ``ref`` inside ``uow``; twice is refused."""
    crm = uow.crm
    deal = load_deal(uow.tx, crm, ref)
    person = find_contact(uow, contact)
    etype = crm.entity_type(DEAL_CONTACT)
    existing = uow.tx.query(
        etype,
        Query(AllOf((Cond("deal_id", "eq", deal.id), Cond("contact_id", "eq", person.id)))),
    )
    if existing:
        raise ValidationError(
            DEAL_CONTACT,
            "contact_id",
            f"contact {person.id} is already on deal {deal.id}"
            + (f" as {existing[0]['role']}" if existing[0]["role"] else ""),
        )
    require_contact_write(uow, person.id, DEAL_CONTACT)
    text = role.strip() if role is not None and role.strip() else None
    link = DealContact(deal_id=deal.id, contact_id=person.id, role=text)
    uow.tx.add(etype, etype.to_row(link))
    uow.record_activity(
        "sales.deal.contact_added",
        {"deal_id": deal.id, "contact_id": person.id, "role": text},
        contact_id=person.id,
        summary=f"Added to deal {deal.title}" + (f" as {text}" if text else ""),
    )
    return link


def deal_people(crm: CRM, ref: str) -> list[tuple[Contact, str | None]]:
    """The deal's people with their roles: the primary contact first, then as added.

    The primary contact's role is ``"primary"`` unless it was also added with
    a role. People the actor may not see come back masked, as contacts do.
    """
    etype = crm.entity_type(DEAL_CONTACT)
    with crm.backend.read() as reader:
        deal = load_deal(reader, crm, ref)
        links = reader.query(
            etype, Query(Cond("deal_id", "eq", deal.id), order_by=("created_at", "id"))
        )
    roles: dict[str, str | None] = {}
    if deal.contact_id is not None:
        roles[deal.contact_id] = "primary"
    for link in links:
        if link["role"] is not None or link["contact_id"] not in roles:
            roles[link["contact_id"]] = link["role"]
    if not roles:
        return []
    people = {c.id: c for c in crm.contacts.list({"id__in": list(roles)}, limit=None)}
    return [(people[cid], role) for cid, role in roles.items() if cid in people]
