"""The few entity types every CRM has: contacts, organizations, their
affiliations, and interactions on a contact's timeline.

Plugins add their own types through ``crmkit_register_entity_types``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from crmkit.entities.base import Entity, entity, utcnow
from crmkit.entities.fields import field


@entity("contact", description="A person the business deals with.")
@attrs.define(kw_only=True)
class Contact(Entity):
    """A person: names, reachability, postal address and who owns the relationship."""

    first_name: str | None = field(default=None, privacy="personal", erase="anonymise")
    last_name: str | None = field(
        default=None, privacy="personal", erase="anonymise", indexed=True
    )
    email: str | None = field(
        default=None, privacy="personal", erase="anonymise", unique=True,
        doc="normalised by email-validator",
    )
    phone: str | None = field(
        default=None, privacy="personal", erase="anonymise", indexed=True, doc="E.164"
    )
    street: str | None = field(default=None, privacy="personal", erase="anonymise")
    city: str | None = field(default=None, privacy="personal", erase="anonymise")
    postal_code: str | None = field(default=None, privacy="personal", erase="anonymise")
    region: str | None = field(default=None, privacy="personal", erase="anonymise")
    country: str | None = field(
        default=None, privacy="personal", erase="anonymise", doc="ISO 3166-1 alpha-2"
    )
    birth_date: dt.date | None = field(default=None, privacy="personal", erase="anonymise")
    job_title: str | None = field(default=None, privacy="personal", erase="anonymise")
    tags: list[str] = field(factory=list, privacy="personal", erase="anonymise")
    source: str | None = field(default=None, privacy="none", erase="keep")
    owner: str | None = field(default=None, privacy="none", erase="keep", indexed=True)
    custom: dict[str, Any] = field(factory=dict, privacy="personal", erase="anonymise")

    @property
    def display_name(self) -> str:
        """The name to show: full name, else email, else the id."""
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.email or self.id


@entity("organization", description="A company or other body contacts belong to.")
@attrs.define(kw_only=True)
class Organization(Entity):
    """A company, public body or other organization."""

    name: str = field(privacy="none", erase="keep", indexed=True)
    domain: str | None = field(default=None, privacy="none", erase="keep", indexed=True)
    industry: str | None = field(default=None, privacy="none", erase="keep")
    size: int | None = field(default=None, privacy="none", erase="keep", doc="employees")
    street: str | None = field(default=None, privacy="none", erase="keep")
    city: str | None = field(default=None, privacy="none", erase="keep")
    postal_code: str | None = field(default=None, privacy="none", erase="keep")
    region: str | None = field(default=None, privacy="none", erase="keep")
    country: str | None = field(default=None, privacy="none", erase="keep")
    owner: str | None = field(default=None, privacy="none", erase="keep")
    custom: dict[str, Any] = field(factory=dict, privacy="none", erase="keep")


@entity("affiliation", description="A contact's link to an organization, with a role.")
@attrs.define(kw_only=True)
class Affiliation(Entity):
    """A contact belongs to an organization in some role (CTO, buyer, ...)."""

    contact_id: str = field(ref="contact", privacy="personal", erase="delete")
    organization_id: str = field(ref="organization", privacy="personal", erase="delete")
    role: str | None = field(default=None, privacy="personal", erase="delete")


@entity("interaction", description="One touchpoint on a contact's timeline.")
@attrs.define(kw_only=True)
class Interaction(Entity):
    """One touchpoint: a call, an email, a meeting, a purchase, a ticket reply."""

    contact_id: str = field(ref="contact", privacy="personal", erase="delete")
    channel: str = field(privacy="none", erase="delete")
    direction: str = field(default="inbound", privacy="none", erase="delete")
    kind: str = field(default="note", privacy="none", erase="delete")
    occurred_at: dt.datetime = field(factory=utcnow, privacy="none", erase="delete")
    summary: str | None = field(default=None, privacy="personal", erase="delete")
    payload: dict[str, Any] = field(factory=dict, privacy="personal", erase="delete")
    source: str = field(default="crmkit", privacy="none", erase="delete")


CORE_ENTITY_CLASSES: tuple[type, ...] = (Contact, Organization, Affiliation, Interaction)
#: How a touchpoint happened. ``system`` is an entry a plugin records about the customer
#: (a deal won, a ticket opened) rather than a message exchanged on a channel.
CHANNELS: tuple[str, ...] = (
    "email", "phone", "sms", "chat", "social", "in_person", "post", "web", "partner", "system",
)
DIRECTIONS: tuple[str, ...] = ("inbound", "outbound", "internal")
