"""Reading and checking one lead: its fields, how it is named, what may be written.

The pieces that capturing, qualifying, scoring, converting and importing leads
share. A lead is named by its id or by its email when only one lead has that
email (the email is compared as leads store it: normalised, in lower case);
an email several leads carry is refused listing those leads, so the user can
give the id instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crmkit.errors import NotFound, ValidationError
from crmkit.normalize import normalize_phone
from crmkit.storage.query import Cond, Query
from crmkit.validation import contact_email
from crmkit_sales.records import PURPOSE, ambiguous

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.types import EntityType
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork

LEAD = "sales.lead"
BANT = ("budget", "authority", "need", "timeline")
#: Statuses a lead may be given directly; the others have their own calls.
SETTABLE_STATUSES = ("new", "working")
STATUS_CALLS = {
    "qualified": "qualify it (qualify(), 'crmkit sales leads qualify')",
    "unqualified": "disqualify it (disqualify(), 'crmkit sales leads disqualify')",
    "converted": "convert it (convert(), 'crmkit sales leads convert')",
}
#: Fields crmkit keeps itself, with what sets them.
MANAGED_FIELDS = {
    "id": "is made by crmkit",
    "created_at": "is set by crmkit",
    "updated_at": "is set by crmkit",
    "score": "is computed; run score() ('crmkit sales leads score')",
    "contact_id": "is set when the lead is converted",
    "organization_id": "is set when the lead is converted",
    "deal_id": "is set when the lead is converted",
    "converted_at": "is set when the lead is converted",
}
NAMELESS = "a lead needs a first name, last name, email or company"


def lead_type(crm: CRM) -> EntityType:
    return crm.entity_type(LEAD)


def clean_lead(
    crm: CRM,
    values: Mapping[str, Any],
    *,
    partial: bool = False,
    record: str | None = None,
) -> dict[str, Any]:
    """Check and normalise lead values; the row to store (only the given fields if ``partial``).

    Unknown fields are refused naming the known ones, fields crmkit keeps
    itself (score, conversion ids) naming what sets them; the email is checked
    and normalised as a contact's is, the phone stored as E.164 (a national
    number read in the project's ``default_region``).
    """
    rules = crm.rules(LEAD)
    rules.check_fields(values, record=record)
    for name in values:
        if name in MANAGED_FIELDS:
            raise ValidationError(LEAD, name, MANAGED_FIELDS[name], record=record)
    row = rules.clean(values, partial=partial, record=record)
    try:
        if "email" in row:
            row["email"] = contact_email(row["email"])
    except ValueError as exc:
        raise ValidationError(LEAD, "email", str(exc), record=record) from None
    try:
        if "phone" in row:
            row["phone"] = normalize_phone(row["phone"], crm.settings.default_region)
    except ValueError as exc:
        raise ValidationError(LEAD, "phone", str(exc), record=record) from None
    status = row.get("status")
    if status is not None and status not in SETTABLE_STATUSES:
        if status in STATUS_CALLS:
            reason = f"{status!r} is not set by hand; {STATUS_CALLS[status]}"
        else:
            reason = f"{status!r} is not a lead status; use one of {', '.join(SETTABLE_STATUSES)}"
        raise ValidationError(LEAD, "status", reason, record=record)
    if not partial and not any(
        row.get(name) for name in ("first_name", "last_name", "email", "company")
    ):
        raise ValidationError(LEAD, "email", NAMELESS, record=record)
    return row


def refuse_erased(
    crm: CRM, tx: StorageReader, row: Mapping[str, Any], record: str | None = None
) -> None:
    """Refuse an email or phone that belongs to a person who was erased."""
    for kind in ("email", "phone"):
        value = row.get(kind)
        if value and crm.privacy.is_suppressed(**{kind: value}, reader=tx):
            raise ValidationError(LEAD, kind, erased_reason(value), record=record)


def erased_reason(value: str) -> str:
    return (
        f"{value} belongs to a person who was erased; a lead is not captured for them again "
        "(add them as a contact with their new consent first)"
    )


def lead_row(reader: StorageReader, crm: CRM, ref: str) -> dict[str, Any]:
    """The stored row of the lead with id ``ref``, else of the one lead with that email.

    Raises :class:`NotFound` when no lead has that id or email, and
    ``ValidationError`` naming every match (id and status) when several leads
    have the email.
    """
    key = ref.strip() if isinstance(ref, str) else ""
    etype = lead_type(crm)
    row = reader.get(etype, key) if key else None
    if row is not None:
        return row
    try:
        email = contact_email(key) if "@" in key else None
    except ValueError:
        email = None
    if email is None:
        raise NotFound(LEAD, ref)
    rows = reader.query(etype, Query(Cond("email", "eq", email), order_by=("created_at", "id")))
    if not rows:
        raise NotFound(LEAD, ref)
    if len(rows) > 1:
        raise ambiguous(LEAD, "email", email, [(r["id"], r["status"]) for r in rows])
    return rows[0]


def lead_label(row: Mapping[str, Any]) -> str:
    """``Ada Lovelace (Acme Ltd)``: how a lead is named in summaries."""
    name = " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p)
    name = name or row.get("email") or row.get("company") or row["id"]
    company = row.get("company")
    return f"{name} ({company})" if company and company != name else str(name)


def require_lead_write(uow: UnitOfWork, row: Mapping[str, Any] | None = None) -> None:
    """Ask the policy: the actor's role, and the person if the lead is tied to a contact."""
    uow.crm.privacy.require(
        "write",
        actor=uow.actor,
        subject_id=row.get("contact_id") if row is not None else None,
        entity=LEAD,
        purpose=PURPOSE,
        uow=uow,
    )


def require_not_converted(row: Mapping[str, Any], doing: str) -> None:
    """Refuse ``doing`` on a converted lead, pointing at its deal."""
    if row["status"] == "converted":
        raise ValidationError(
            LEAD,
            "status",
            f"lead {row['id']} was converted into deal {row['deal_id']}; {doing} no longer "
            "applies (work on the deal instead)",
            record=row["id"],
        )
