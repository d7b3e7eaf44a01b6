"""Sample values for tests: valid contacts and organizations, seeded and unique.

They come from the demo's generator (:mod:`crmkit.demo.sample_data`), so they
look real (names, matching emails, phones valid for their country) and are the
same on every run for a given seed.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from crmkit.demo.sample_data import SampleContact, SampleOrganization, generate

_ORGS_FOR_CONTACTS = 20
"""Contacts are drawn with a fixed number of organizations, so the n-th contact never changes."""


def _e164(phone: str, country: str) -> str:
    return phonenumbers.format_number(
        phonenumbers.parse(phone, country), phonenumbers.PhoneNumberFormat.E164
    )


class Samples:
    """Seeded factories of field values: each call gives the next, never-used sample.

    ``contact(**overrides)`` returns a dict for ``crm.contacts.add(**values)``
    with a unique email and an E.164 phone; ``organization(**overrides)`` one
    for ``crm.organizations.add``. The same seed gives the same sequence.
    """

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self._contacts: tuple[SampleContact, ...] = ()
        self._organizations: tuple[SampleOrganization, ...] = ()
        self._next_contact = 0
        self._next_organization = 0

    def contact(self, **overrides: Any) -> dict[str, Any]:
        """The next contact's values, with ``overrides`` applied."""
        if self._next_contact >= len(self._contacts):
            self._contacts = generate(
                seed=self.seed,
                contacts=max(50, 2 * len(self._contacts)),
                organizations=_ORGS_FOR_CONTACTS,
                interactions_per_contact=(0, 0),
            ).contacts
        sample = self._contacts[self._next_contact]
        self._next_contact += 1
        values: dict[str, Any] = {
            "first_name": sample.first_name,
            "last_name": sample.last_name,
            "email": sample.email,
            "phone": _e164(sample.phone, sample.country),
            "street": sample.street,
            "city": sample.city,
            "postal_code": sample.postal_code,
            "region": sample.region,
            "country": sample.country,
            "job_title": sample.job_title,
            "tags": list(sample.tags),
            "source": sample.source,
        }
        return {**values, **overrides}

    def contacts(self, n: int, **overrides: Any) -> list[dict[str, Any]]:
        """The next ``n`` contacts' values, each with ``overrides`` applied."""
        return [self.contact(**overrides) for _ in range(n)]

    def organization(self, **overrides: Any) -> dict[str, Any]:
        """The next organization's values, with ``overrides`` applied."""
        if self._next_organization >= len(self._organizations):
            self._organizations = generate(
                seed=self.seed,
                contacts=0,
                organizations=max(20, 2 * len(self._organizations)),
            ).organizations
        sample = self._organizations[self._next_organization]
        self._next_organization += 1
        values: dict[str, Any] = {
            "name": sample.name,
            "domain": sample.domain,
            "industry": sample.industry,
            "size": sample.size,
            "street": sample.street,
            "city": sample.city,
            "postal_code": sample.postal_code,
            "region": sample.region,
            "country": sample.country,
        }
        return {**values, **overrides}

    def organizations(self, n: int, **overrides: Any) -> list[dict[str, Any]]:
        """The next ``n`` organizations' values, each with ``overrides`` applied."""
        return [self.organization(**overrides) for _ in range(n)]
