"""Converting a lead: into a contact, an organization and an open deal, in one go.

The contact is the one with the lead's email, else a new one made from the
lead; the organization is found by exact name or added, and linked to the
contact; the deal opens with ``lead_id`` set. The lead is then ``converted``
and keeps the ids of all three. Everything happens in the caller's unit of
work, so a failure leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.entities import utcnow
from crmkit.entities.core import Contact, Organization
from crmkit.errors import ValidationError
from crmkit_sales.deals import open_deal
from crmkit_sales.entities import Deal, Lead
from crmkit_sales.lead_records import LEAD, lead_label, lead_row, lead_type, require_lead_write
from crmkit_sales.records import require_contact_write

if TYPE_CHECKING:
    from crmkit.uow import UnitOfWork


@attrs.frozen
class Conversion:
    """What a lead became: the contact, its organization (if the lead named one), the deal."""

    lead: Lead
    contact: Contact
    organization: Organization | None
    deal: Deal


def _contact_for(uow: UnitOfWork, row: Mapping[str, Any]) -> Contact:
    """The contact with the lead's email (policy asked), or a new contact made from the lead."""
    email = row["email"]
    found = uow.contacts.find(email) if email else None
    if found is not None:
        require_contact_write(uow, found.id, LEAD)
        return found
    fields = {
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "email": email,
        "phone": row["phone"],
        "job_title": row["title"],
        "source": row["source"],
        "owner": row["owner"],
    }
    if not any(fields[n] for n in ("first_name", "last_name", "email")):
        raise ValidationError(
            LEAD,
            "email",
            f"lead {row['id']} has no name or email to make a contact from; add one with "
            "update() ('crmkit sales leads update') first",
            record=row["id"],
        )
    return uow.contacts.add(**{k: v for k, v in fields.items() if v is not None})


def _organization_for(uow: UnitOfWork, name: str | None, contact: Contact) -> Organization | None:
    """The organization of that exact name (or a new one), linked to the contact."""
    if name is None or not name.strip():
        return None
    org = uow.organizations.find(name) or uow.organizations.add(name=name.strip())
    if not any(m.organization.id == org.id for m in uow.crm.memberships(uow.tx, contact.id)):
        uow.contacts.link(contact.id, org.id)
    return org


def convert_lead(
    uow: UnitOfWork,
    ref: str,
    *,
    deal_title: str | None = None,
    amount: Decimal | str | int | None = None,
    currency: str | None = None,
    pipeline: str | None = None,
    stage: str | None = None,
    organization_name: str | None = None,
) -> Conversion:
    """Convert a lead inside ``uow`` into a contact, an organization and an open deal.

    The contact is the one with the lead's email, else a new one made from the
    lead; the organization is ``organization_name`` (default: the lead's
    company), found by exact name or added, and linked to the contact; the deal
    opens with ``lead_id`` set (title default: the company, else the person).
    Converting a lead twice raises ``ValidationError`` naming the deal it
    became. Anything that fails leaves nothing written (the caller's unit of
    work rolls back).
    """
    crm = uow.crm
    current = lead_row(uow.tx, crm, ref)
    if current["status"] == "converted":
        raise ValidationError(
            LEAD,
            "status",
            f"lead {current['id']} was already converted into deal {current['deal_id']}; "
            "work on that deal ('crmkit sales deals show "
            f"{current['deal_id']}')",
            record=current["id"],
        )
    require_lead_write(uow)
    contact = _contact_for(uow, current)
    org = _organization_for(uow, organization_name or current["company"], contact)
    title = deal_title or (org.name if org is not None else None) or contact.display_name
    deal = open_deal(
        uow,
        title=title,
        amount=amount if amount is not None else Decimal(0),
        currency=currency,
        pipeline=pipeline,
        stage=stage,
        contact=contact.id,
        organization=org.id if org is not None else None,
        owner=current["owner"],
        lead_id=current["id"],
    )
    update = {
        "status": "converted",
        "contact_id": contact.id,
        "organization_id": org.id if org is not None else None,
        "deal_id": deal.id,
        "converted_at": utcnow(),
    }
    update["updated_at"] = update["converted_at"]
    uow.tx.update(lead_type(crm), current["id"], update)
    merged = {**current, **update}
    uow.record_activity(
        "sales.lead.converted",
        {
            "lead_id": current["id"],
            "contact_id": contact.id,
            "organization_id": update["organization_id"],
            "deal_id": deal.id,
        },
        contact_id=contact.id,
        summary=f"Lead {lead_label(merged)} converted into deal {deal.title}",
    )
    return Conversion(Lead(**merged), contact, org, deal)
