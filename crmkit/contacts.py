"""Contacts: add, find, change, delete, search and bulk-add people.

Every call asks the privacy policy: writes about a person (changes, links,
deletion) check the actor's role and the person's processing state in the
same transaction; reads come back with what the actor may not see masked;
adding a person who was erased needs a new consent.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crmkit.entities.base import utcnow
from crmkit.entities.core import Affiliation, Contact
from crmkit.entities.types import EntityType
from crmkit.errors import DuplicateError, NotFound, ValidationError
from crmkit.privacy.processing import ReadCheck, SuppressionCheck
from crmkit.repository import Service
from crmkit.serialize import to_jsonable
from crmkit.storage.query import AnyOf, Cond, Filter, Query, where_from
from crmkit.validation import contact_email
from crmkit.view import Membership

if TYPE_CHECKING:
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork

BULK_BATCH = 2000
NAME_FIELDS = ("first_name", "last_name", "email")
NAMELESS = "a contact needs a first name, last name or email"
CONSENT_KEYS = (
    "purpose",
    "channel",
    "lawful_basis",
    "source",
    "evidence",
    "ip_address",
    "form_version",
)
SEARCH_FIELDS = ("first_name", "last_name", "email", "phone", "job_title", "city")


def looks_like_id(ref: str) -> bool:
    """A 36-character UUID string (the form crmkit ids take)."""
    return len(ref) == 36 and ref.count("-") == 4


def contact_row(reader: StorageReader, etype: EntityType, ref: str) -> dict[str, Any] | None:
    """The stored row of the contact named by ``ref`` (an id or an email), or ``None``.

    An email is tried as given first, then in its normalised form, so lookups
    need no normalisation in the common case.
    """
    ref = ref.strip()
    if looks_like_id(ref):
        return reader.get(etype, ref)
    if "@" in ref:
        row = reader.get_by(etype, "email", ref)
        if row is None:
            try:
                email = contact_email(ref)
            except ValueError:
                return None
            if email != ref:
                row = reader.get_by(etype, "email", email)
        return row
    return None


def require_name_or_email(row: Mapping[str, Any], *, record: str | None = None) -> None:
    """A contact is somebody: refuse one with no first name, last name or email."""
    if not any(row.get(name) for name in NAME_FIELDS):
        raise ValidationError("contact", "email", NAMELESS, record=record)


def consent_terms(consent: Any) -> dict[str, Any]:
    """The consent given with a new contact (``add(..., consent={...})``), checked.

    It takes the keyword arguments of ``crm.privacy.consent.grant``: ``purpose``
    and ``channel`` (required), ``lawful_basis``, ``source``, ``evidence``,
    ``ip_address``, ``form_version``.
    """
    example = "{'purpose': 'marketing', 'channel': 'email', 'evidence': 'signup form v3'}"
    if not isinstance(consent, Mapping):
        raise ValidationError(
            "privacy.consent", None, f"consent must be a mapping such as {example}"
        )
    unknown = sorted(set(consent) - set(CONSENT_KEYS))
    if unknown:
        raise ValidationError(
            "privacy.consent", unknown[0], f"unknown key; use {', '.join(CONSENT_KEYS)}"
        )
    for key in ("purpose", "channel"):
        if not consent.get(key):
            raise ValidationError("privacy.consent", key, f"is required, as in {example}")
    return dict(consent)


def store_contacts(
    uow: UnitOfWork,
    etype: EntityType,
    rows: Sequence[dict[str, Any]],
    source: str,
    add_many: Callable[[Sequence[dict[str, Any]]], int] | None = None,
) -> list[str]:
    """Write a checked batch of contact rows and raise its one ``contact.imported`` event.

    The bulk path of :meth:`Contacts.add_many` and of the importer; ``add_many``
    replaces ``uow.tx.add_many`` (the importer streams batches into one COPY).
    """
    if add_many is None:
        uow.tx.add_many(etype, rows)
    else:
        add_many(rows)
    ids = [row["id"] for row in rows]
    uow.raise_event("contact.imported", {"ids": ids, "count": len(ids), "source": source})
    return ids


class Contacts(Service):
    """People the business deals with. Contacts are named by id or email."""

    @property
    def _etype(self) -> EntityType:
        return self._crm.entity_type("contact")

    @property
    def _actor(self) -> str | None:
        """Who acts: the unit of work's actor, or (``None``) the CRM's."""
        return self._uow.actor if self._uow is not None else None

    def add(self, *, consent: Mapping[str, Any] | None = None, **fields: Any) -> Contact:
        """Add a contact; email and phone are normalised, custom fields validated.

        ``org`` (an organization id or name) and ``role`` link the new contact
        to an organization in the same transaction. ``consent`` (``{"purpose":
        "marketing", "channel": "email", "evidence": "signup form v3"}``) is
        recorded in the consent ledger with the contact; it is how a person who
        was erased is added again (their email or phone is refused otherwise).
        """
        org = fields.pop("org", None)
        role = fields.pop("role", None)
        terms = consent_terms(consent) if consent is not None else None

        def work(uow: UnitOfWork) -> Contact:
            privacy = self._crm.privacy
            privacy.require("write", actor=uow.actor, entity="contact", uow=uow)
            row = self._crm.rules("contact").clean(fields)
            require_name_or_email(row)
            self._check_email_free(uow, row.get("email"))
            if terms is None and (row.get("email") or row.get("phone")):
                SuppressionCheck(self._crm, uow.tx).refuse(row)
            contact = Contact(**row)
            uow.tx.add(self._etype, self._etype.to_row(contact))
            uow.raise_event(
                "contact.created", {"contact": to_jsonable(contact)}, subject_id=contact.id
            )
            if terms is not None:
                # Also lifts the suppression markers of an erased person's email and phone.
                privacy.consent.grant(contact.id, **terms, actor=uow.actor, uow=uow)
            if org is not None:
                uow.contacts.link(contact.id, org, role=role)
            return contact

        return self._write(work)

    def _check_email_free(
        self, uow: UnitOfWork, email: str | None, skip_id: str | None = None
    ) -> None:
        if email is None:
            return
        other = uow.tx.get_by(self._etype, "email", email)
        if other is not None and other["id"] != skip_id:
            raise DuplicateError(
                "contact", "email", f"{email} is already used by contact {other['id']}"
            )

    def find(self, ref: str) -> Contact | None:
        """The contact with this id or email, or ``None``.

        Fields the actor may not see come back as :class:`~crmkit.privacy.Masked`
        values; an actor whose roles do not allow reading is refused.
        """
        etype = self._etype

        def fetch(reader: StorageReader) -> builtins.list[dict[str, Any]]:
            row = contact_row(reader, etype, ref)
            return [row] if row is not None else []

        found = self._read(fetch, single=True)
        return found[0] if found else None

    def get(self, ref: str) -> Contact:
        """The contact with this id or email; :class:`NotFound` if there is none."""
        contact = self.find(ref)
        if contact is None:
            raise NotFound("contact", ref)
        return contact

    def update(self, ref: str, **changes: Any) -> Contact:
        """Change fields of a contact; ``custom`` is merged key by key (``None`` removes).

        Refused (:class:`~crmkit.errors.PolicyDenied`) while the person's
        processing is restricted or after they were erased; use
        :meth:`rectify` to correct a restricted person's data.
        """
        return self._change(ref, changes, "write")

    def rectify(self, ref: str, **changes: Any) -> Contact:
        """Correct a contact's data, as the right to rectification asks; allowed while restricted.

        The same change as :meth:`update`, asked of the policy as ``rectify``
        (``crm.privacy.rectify`` adds the audit entry).
        """
        return self._change(ref, changes, "rectify")

    def _change(self, ref: str, changes: Mapping[str, Any], action: str) -> Contact:
        def work(uow: UnitOfWork) -> Contact:
            current = contact_row(uow.tx, self._etype, ref)
            if current is None:
                raise NotFound("contact", ref)
            self._crm.privacy.require(
                action, actor=uow.actor, subject_id=current["id"], entity="contact", uow=uow
            )
            values = dict(changes)
            if "custom" in values and values["custom"] is not None:
                merged = {**current["custom"], **values["custom"]}
                values["custom"] = {k: v for k, v in merged.items() if v is not None}
            row = self._crm.rules("contact").clean(
                values, partial=True, record=current["id"], region_hint=current.get("country")
            )
            self._check_email_free(uow, row.get("email"), skip_id=current["id"])
            diff = {k: [current.get(k), v] for k, v in row.items() if current.get(k) != v}
            if not diff:
                return self._as_seen(uow, current)
            row["updated_at"] = utcnow()
            uow.tx.update(self._etype, current["id"], row)
            uow.raise_event(
                "contact.updated",
                {"contact_id": current["id"], "changes": to_jsonable(diff)},
                subject_id=current["id"],
            )
            return self._as_seen(uow, {**current, **row})

        return self._write(work)

    def _as_seen(self, uow: UnitOfWork, row: dict[str, Any]) -> Contact:
        """The changed contact as the actor may see it (a change can touch hidden fields)."""
        return Contact(**ReadCheck(self._crm, uow.actor).show(self._etype, row))

    def delete(self, ref: str) -> None:
        """Delete a contact with its organization links and timeline."""

        def work(uow: UnitOfWork) -> None:
            current = contact_row(uow.tx, self._etype, ref)
            if current is None:
                raise NotFound("contact", ref)
            cid = current["id"]
            self._crm.privacy.require(
                "write", actor=uow.actor, subject_id=cid, entity="contact", uow=uow
            )
            uow.tx.delete_where(self._crm.entity_type("affiliation"), Cond("contact_id", "eq", cid))
            uow.tx.delete_where(self._crm.entity_type("interaction"), Cond("contact_id", "eq", cid))
            uow.tx.delete(self._etype, cid)
            uow.raise_event("contact.deleted", {"contact_id": cid}, subject_id=cid)

        self._write(work)

    def list(
        self,
        where: Mapping[str, Any] | Iterable[Filter] | None = None,
        *,
        order_by: Sequence[str] = ("last_name", "first_name"),
        limit: int | None = 50,
        offset: int = 0,
    ) -> builtins.list[Contact]:
        """A page of contacts matching ``where`` (``{"city": "Paris"}`` or filters)."""
        query = Query(where_from(where), tuple(order_by), limit, offset)
        self._crm.check_query("contact", query)
        return self._contacts(query)

    def search(
        self, text: str, *, limit: int | None = 50, offset: int = 0
    ) -> builtins.list[Contact]:
        """Contacts whose name, email, phone, job title or city contains ``text``."""
        words = text.split()
        if not words:
            return []
        clauses: builtins.list[Filter] = [
            AnyOf(tuple(Cond(f, "contains", w) for f in SEARCH_FIELDS)) for w in words
        ]
        flt: Filter = clauses[0] if len(clauses) == 1 else where_from(clauses)  # type: ignore[assignment]
        query = Query(flt, ("last_name", "first_name"), limit, offset)
        return self._contacts(query)

    def _contacts(self, query: Query) -> builtins.list[Contact]:
        etype = self._etype
        return self._read(lambda reader: reader.query(etype, query))

    def _read(
        self,
        fetch: Callable[[StorageReader], builtins.list[dict[str, Any]]],
        *,
        single: bool = False,
    ) -> builtins.list[Contact]:
        """Contacts read by ``fetch``, as the actor may see them; sensitive reads audited.

        The policy is asked once per call (about the one contact if ``single``).
        """
        etype = self._etype
        check = ReadCheck(self._crm, self._actor)

        def read(reader: StorageReader) -> builtins.list[dict[str, Any]]:
            rows = fetch(reader)
            check.decide(reader, etype, rows[0]["id"] if single and rows else None)
            return rows

        rows = self._reading(read)
        check.enforce(self._uow)
        found = [Contact(**check.show(etype, row)) for row in rows]
        check.audit(self._uow, subject_id=rows[0]["id"] if single and rows else None)
        return found

    def count(self, where: Mapping[str, Any] | Iterable[Filter] | None = None) -> int:
        flt = where_from(where)
        return self._reading(lambda reader: reader.count(self._etype, flt))

    def add_many(
        self, records: Iterable[Mapping[str, Any]], *, source: str = "api"
    ) -> builtins.list[str]:
        """Add many contacts in one transaction; returns their ids in order.

        Each record is validated like :meth:`add`; the first invalid record
        aborts the whole call (nothing is written) with an error naming its
        position. One ``contact.imported`` event is raised per batch of
        ``BULK_BATCH`` contacts instead of one ``contact.created`` per contact.
        """
        rules = self._crm.rules("contact")
        etype = self._etype

        def work(uow: UnitOfWork) -> builtins.list[str]:
            # The role is checked once for the call; no person is known yet.
            self._crm.privacy.require("write", actor=uow.actor, entity="contact", uow=uow)
            suppression = SuppressionCheck(self._crm, uow.tx)
            ids: builtins.list[str] = []
            batch: builtins.list[dict[str, Any]] = []
            first = 1  # the position of the batch's first record
            seen: dict[str, int] = {}
            for index, record in enumerate(records):
                label = f"#{index + 1}"
                row = rules.clean(record, record=label)
                require_name_or_email(row, record=label)
                email = row.get("email")
                if email is not None:
                    if email in seen:
                        raise DuplicateError(
                            "contact",
                            "email",
                            f"{email} is also record #{seen[email]}",
                            record=label,
                        )
                    seen[email] = index + 1
                batch.append(etype.to_row(Contact(**row)))
                if len(batch) >= BULK_BATCH:
                    ids.extend(self._flush(uow, batch, source, suppression, first))
                    batch = []
                    first = index + 2
            if batch:
                ids.extend(self._flush(uow, batch, source, suppression, first))
            return ids

        return self._write(work)

    def _flush(
        self,
        uow: UnitOfWork,
        rows: builtins.list[dict[str, Any]],
        source: str,
        suppression: SuppressionCheck,
        first: int,
    ) -> builtins.list[str]:
        hits = suppression.matches(rows)
        if hits:
            index = min(hits)
            kind = hits[index]
            raise ValidationError(
                "contact", kind, suppression.reason(rows[index][kind]), record=f"#{first + index}"
            )
        emails = [r["email"] for r in rows if r.get("email")]
        taken = uow.tx.existing_values(self._etype, "email", emails) if emails else set()
        if taken:
            email = sorted(taken)[0]
            raise DuplicateError("contact", "email", f"{email} is already used by another contact")
        return store_contacts(uow, self._etype, rows, source)

    # -- organizations ---------------------------------------------------
    def link(self, contact: str, organization: str, *, role: str | None = None) -> Affiliation:
        """Link a contact to an organization (by id or exact name) with a role."""

        def work(uow: UnitOfWork) -> Affiliation:
            current = contact_row(uow.tx, self._etype, contact)
            if current is None:
                raise NotFound("contact", contact)
            self._crm.privacy.require(
                "write", actor=uow.actor, subject_id=current["id"], entity="affiliation", uow=uow
            )
            org = uow.organizations.get(organization)
            link = Affiliation(contact_id=current["id"], organization_id=org.id, role=role)
            atype = self._crm.entity_type("affiliation")
            uow.tx.add(atype, atype.to_row(link))
            uow.raise_event(
                "contact.linked",
                {"contact_id": current["id"], "organization_id": org.id, "role": role},
                subject_id=current["id"],
            )
            return link

        return self._write(work)

    def unlink(self, contact: str, organization: str) -> int:
        """Remove a contact's links to an organization; returns how many were removed."""

        def work(uow: UnitOfWork) -> int:
            current = contact_row(uow.tx, self._etype, contact)
            if current is None:
                raise NotFound("contact", contact)
            self._crm.privacy.require(
                "write", actor=uow.actor, subject_id=current["id"], entity="affiliation", uow=uow
            )
            org = uow.organizations.get(organization)
            removed = uow.tx.delete_where(
                self._crm.entity_type("affiliation"),
                where_from({"contact_id": current["id"], "organization_id": org.id}),  # type: ignore[arg-type]
            )
            if removed:
                uow.raise_event(
                    "contact.unlinked",
                    {"contact_id": current["id"], "organization_id": org.id},
                    subject_id=current["id"],
                )
            return removed

        return self._write(work)

    def organizations_of(self, contact: str) -> builtins.list[Membership]:
        """The organizations a contact belongs to, with roles (masked as reads are)."""
        check = ReadCheck(self._crm, self._actor)
        atype = self._crm.entity_type("affiliation")

        def read(reader: StorageReader) -> builtins.list[Membership]:
            current = contact_row(reader, self._etype, contact)
            if current is None:
                raise NotFound("contact", contact)
            if not check.decide(reader, atype, current["id"]).allowed:
                return []
            return self._crm.memberships(reader, current["id"])

        found = self._reading(read)
        check.enforce(self._uow)
        shown = [
            Membership(m.organization, check.show(atype, {"role": m.role})["role"]) for m in found
        ]
        check.audit(self._uow)
        return shown
