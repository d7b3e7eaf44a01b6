"""Organizations: companies and other bodies that contacts belong to.

Organizations are not people, so reading them needs no permission; changing
them needs a role that allows ``write``, and their members come back masked
as any read of contacts does.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crmkit.contacts import looks_like_id
from crmkit.entities.base import utcnow
from crmkit.entities.core import Contact, Organization
from crmkit.entities.types import EntityType
from crmkit.errors import NotFound, ValidationError
from crmkit.privacy.processing import ReadCheck
from crmkit.repository import Service
from crmkit.serialize import to_jsonable
from crmkit.storage.query import AnyOf, Cond, Filter, Query, where_from

if TYPE_CHECKING:
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork


class Organizations(Service):
    """Organizations, named by id or by exact name."""

    @property
    def _etype(self) -> EntityType:
        return self._crm.entity_type("organization")

    def _require_write(self, uow: UnitOfWork) -> None:
        """The actor's roles must allow writing (no person's state is involved)."""
        self._crm.privacy.require("write", actor=uow.actor, entity="organization", uow=uow)

    def add(self, **fields: Any) -> Organization:
        """Add an organization; ``name`` is required, ``domain`` is lower-cased."""

        def work(uow: UnitOfWork) -> Organization:
            self._require_write(uow)
            row = self._crm.rules("organization").clean(fields)
            if row.get("domain"):
                row["domain"] = row["domain"].lower()
            org = Organization(**row)
            uow.tx.add(self._etype, self._etype.to_row(org))
            uow.raise_event(
                "organization.created", {"organization": to_jsonable(org)}, subject_id=org.id
            )
            return org

        return self._write(work)

    def _row(self, reader: StorageReader, ref: str) -> dict[str, Any] | None:
        """The stored row of the organization named by ``ref`` (id or exact name)."""
        ref = ref.strip()
        if looks_like_id(ref):
            return reader.get(self._etype, ref)
        rows = reader.query(self._etype, Query(Cond("name", "eq", ref), limit=2))
        if len(rows) > 1:
            raise ValidationError(
                "organization", "name", f"{ref!r} names more than one organization; use its id"
            )
        return rows[0] if rows else None

    def find(self, ref: str) -> Organization | None:
        """The organization with this id or exact name, or ``None``."""

        row = self._reading(lambda reader: self._row(reader, ref))
        return Organization(**row) if row is not None else None

    def get(self, ref: str) -> Organization:
        """The organization with this id or name; :class:`NotFound` if there is none."""
        org = self.find(ref)
        if org is None:
            raise NotFound("organization", ref)
        return org

    def update(self, ref: str, **changes: Any) -> Organization:
        """Change fields of an organization."""

        def work(uow: UnitOfWork) -> Organization:
            current = self._row(uow.tx, ref)
            if current is None:
                raise NotFound("organization", ref)
            self._require_write(uow)
            values = dict(changes)
            if "custom" in values and values["custom"] is not None:
                merged = {**current["custom"], **values["custom"]}
                values["custom"] = {k: v for k, v in merged.items() if v is not None}
            row = self._crm.rules("organization").clean(values, partial=True, record=current["id"])
            diff = {k: [current.get(k), v] for k, v in row.items() if current.get(k) != v}
            if not diff:
                return Organization(**current)
            row["updated_at"] = utcnow()
            uow.tx.update(self._etype, current["id"], row)
            uow.raise_event(
                "organization.updated",
                {"organization_id": current["id"], "changes": to_jsonable(diff)},
                subject_id=current["id"],
            )
            return Organization(**{**current, **row})

        return self._write(work)

    def delete(self, ref: str) -> None:
        """Delete an organization and its links to contacts (the contacts stay)."""

        def work(uow: UnitOfWork) -> None:
            current = self._row(uow.tx, ref)
            if current is None:
                raise NotFound("organization", ref)
            self._require_write(uow)
            oid = current["id"]
            uow.tx.delete_where(
                self._crm.entity_type("affiliation"), Cond("organization_id", "eq", oid)
            )
            uow.tx.delete(self._etype, oid)
            uow.raise_event("organization.deleted", {"organization_id": oid}, subject_id=oid)

        self._write(work)

    def list(
        self,
        where: Mapping[str, Any] | Iterable[Filter] | None = None,
        *,
        order_by: Sequence[str] = ("name",),
        limit: int | None = 50,
        offset: int = 0,
    ) -> builtins.list[Organization]:
        """A page of organizations matching ``where``."""
        query = Query(where_from(where), tuple(order_by), limit, offset)
        self._crm.check_query("organization", query)
        return self._reading(
            lambda reader: [Organization(**r) for r in reader.query(self._etype, query)]
        )

    def search(self, text: str, *, limit: int | None = 50) -> builtins.list[Organization]:
        """Organizations whose name, domain, industry or city contains ``text``."""
        flt = AnyOf(
            tuple(Cond(f, "contains", text) for f in ("name", "domain", "industry", "city"))
        )
        query = Query(flt, ("name",), limit)
        return self._reading(
            lambda reader: [Organization(**r) for r in reader.query(self._etype, query)]
        )

    def count(self, where: Mapping[str, Any] | Iterable[Filter] | None = None) -> int:
        flt = where_from(where)
        return self._reading(lambda reader: reader.count(self._etype, flt))

    def members(self, ref: str) -> builtins.list[tuple[Contact, str | None]]:
        """The contacts of an organization, with their roles, masked for the actor as reads are."""
        contact_type = self._crm.entity_type("contact")
        link_type = self._crm.entity_type("affiliation")
        check = ReadCheck(self._crm, self._uow.actor if self._uow is not None else None)

        def read(reader: StorageReader) -> builtins.list[tuple[dict[str, Any], str | None]]:
            current = self._row(reader, ref)
            if current is None:
                raise NotFound("organization", ref)
            if not check.decide(reader, contact_type).allowed:
                return []
            links = reader.query(
                self._crm.entity_type("affiliation"),
                Query(Cond("organization_id", "eq", current["id"]), ("created_at",), None),
            )
            if not links:
                return []
            # All the members in one query, not one per link.
            wanted = list(dict.fromkeys(link["contact_id"] for link in links))
            rows = {
                row["id"]: row
                for row in reader.query(
                    contact_type, Query(Cond("id", "in", wanted), ("id",), None)
                )
            }
            return [
                (rows[link["contact_id"]], link["role"])
                for link in links
                if link["contact_id"] in rows
            ]

        found = self._reading(read)
        check.enforce(self._uow)
        members = [
            (
                Contact(**check.show(contact_type, row)),
                check.show(link_type, {"role": role})["role"],
            )
            for row, role in found
        ]
        check.audit(self._uow)
        return members
