"""The single customer view: everything known about one contact, in one call."""

from __future__ import annotations

from typing import Any

import attrs

from crmkit.entities.core import Contact, Interaction, Organization


@attrs.frozen
class ViewSection:
    """A plugin's part of the single customer view: a title and JSON-able data."""

    title: str
    data: Any
    plugin: str = ""


@attrs.frozen
class Membership:
    """An organization the contact belongs to, with the role."""

    organization: Organization
    role: str | None


@attrs.frozen
class CustomerView:
    """Profile, organizations, latest interactions and one section per plugin.

    ``masked`` names the fields shown as :class:`~crmkit.privacy.Masked` values
    because the actor may not see them: ``custom.diagnosis`` on the profile,
    ``interactions.summary`` or ``organizations.role`` in the other parts.
    """

    contact: Contact
    organizations: tuple[Membership, ...]
    interactions: tuple[Interaction, ...]
    sections: tuple[ViewSection, ...]
    masked: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (times as ISO strings)."""
        from crmkit.serialize import to_jsonable

        return {
            "contact": to_jsonable(self.contact),
            "organizations": [
                {"organization": to_jsonable(m.organization), "role": m.role}
                for m in self.organizations
            ],
            "interactions": [to_jsonable(i) for i in self.interactions],
            "sections": [
                {"title": s.title, "plugin": s.plugin, "data": to_jsonable(s.data)}
                for s in self.sections
            ],
            "masked": list(self.masked),
        }
