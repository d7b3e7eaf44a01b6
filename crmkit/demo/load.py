"""Put a sample data set into a CRM, the way an import would.

Organizations are added one by one (with their events); contacts go through
``contacts.add_many`` (the importer's bulk path, so they are validated and
normalised like any import); links, the interaction history and the
newsletter subscribers' marketing opt-ins (contacts tagged ``newsletter``) are
bulk-added in the same unit of work. Everything commits together or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from crmkit.demo.sample_data import SampleDataSet
from crmkit.entities.core import Affiliation, Interaction
from crmkit.privacy.entities import ConsentRecord

if TYPE_CHECKING:
    from crmkit.crm import CRM


@attrs.frozen
class DemoSummary:
    """What was loaded, and the contact whose single view the demo shows."""

    organizations: int
    contacts: int
    interactions: int
    featured_contact: str
    consents: int = 0
    contact_ids: tuple[str, ...] = ()
    organization_ids: tuple[str, ...] = ()


@attrs.frozen
class DemoData:
    """What a plugin's ``crmkit_demo_data`` hook builds on: the demo's seed and sample records.

    ``contact_ids`` and ``organization_ids`` are in the order the sample data
    generated them, so a plugin choosing among them with ``random.Random(seed)``
    picks the same records on every run. ``featured_contact`` is the contact
    whose single customer view the demo prints.
    """

    seed: int
    contact_ids: tuple[str, ...]
    organization_ids: tuple[str, ...]
    featured_contact: str


def load_sample_data(crm: CRM, data: SampleDataSet) -> DemoSummary:
    """Load ``data`` into ``crm`` in one unit of work and pick a contact to feature."""
    with crm.unit_of_work(actor="demo") as uow:
        org_ids: dict[str, str] = {}
        for org in data.organizations:
            values = attrs.asdict(org)
            key = values.pop("key")
            org_ids[key] = uow.organizations.add(**values).id
        records = []
        for person in data.contacts:
            values = attrs.asdict(person)
            for extra in ("key", "organization_key", "role"):
                values.pop(extra)
            values["tags"] = list(values["tags"])
            records.append(values)
        ids = uow.contacts.add_many(records, source="demo")
        contact_ids = {p.key: cid for p, cid in zip(data.contacts, ids, strict=True)}

        links = [
            Affiliation(
                contact_id=contact_ids[p.key],
                organization_id=org_ids[p.organization_key],
                role=p.role,
            )
            for p in data.contacts
            if p.organization_key is not None
        ]
        atype = crm.entity_type("affiliation")
        uow.tx.add_many(atype, [atype.to_row(link) for link in links])

        itype = crm.entity_type("interaction")
        rows = [
            itype.to_row(
                Interaction(
                    contact_id=contact_ids[i.contact_key],
                    channel=i.channel,
                    direction=i.direction,
                    kind=i.kind,
                    occurred_at=i.occurred_at,
                    summary=i.summary,
                    payload=dict(i.payload),
                    source="demo",
                )
            )
            for i in data.interactions
        ]
        uow.tx.add_many(itype, rows)

        ctype = crm.entity_type("privacy.consent")
        grants = [
            ctype.to_row(
                ConsentRecord(
                    contact_id=contact_ids[p.key],
                    purpose="marketing",
                    channel="email",
                    status="granted",
                    source="demo",
                    evidence="newsletter sign-up form",
                    actor="demo",
                )
            )
            for p in data.contacts
            if "newsletter" in p.tags
        ]
        uow.tx.add_many(ctype, grants)
    return DemoSummary(
        organizations=len(org_ids),
        contacts=len(ids),
        interactions=len(rows),
        featured_contact=_featured(data, contact_ids),
        consents=len(grants),
        contact_ids=tuple(ids),
        organization_ids=tuple(org_ids.values()),
    )


def _featured(data: SampleDataSet, contact_ids: dict[str, str]) -> str:
    """The contact with an organization and the longest history (ties: first in order)."""
    counts: dict[str, int] = {}
    for item in data.interactions:
        counts[item.contact_key] = counts.get(item.contact_key, 0) + 1
    candidates = [p for p in data.contacts if p.organization_key is not None] or list(
        data.contacts
    )
    best = max(candidates, key=lambda p: counts.get(p.key, 0))
    return contact_ids[best.key]
