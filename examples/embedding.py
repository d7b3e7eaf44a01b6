"""Embedding crmkit in an application, end to end, on a temporary SQLite file.

Run it with ``python examples/embedding.py``. It opens a CRM with a custom
field, adds people and an organization, links them, logs interactions,
listens to events, searches, bulk-adds a batch of contacts and prints one
customer's single view. Nothing is left behind: the database lives in a
temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import crmkit
from crmkit.errors import ValidationError
from crmkit.events import Event

# Custom fields are JSON Schema properties per entity type; in a project they
# live in crmkit.toml under [custom_fields.contact].
CUSTOM_FIELDS = {
    "contact": {
        "properties": {
            "loyalty_tier": {"type": "string", "enum": ["bronze", "silver", "gold"]},
            "newsletter": {"type": "boolean"},
        }
    }
}


def main(folder: Path) -> None:
    url = f"sqlite:///{folder / 'acme.db'}"
    # plugins=[]: only the core, whatever plugins happen to be installed.
    with crmkit.open(url, plugins=[], default_region="GB", custom_fields=CUSTOM_FIELDS) as crm:
        heard: list[str] = []

        @crm.events.subscriber("contact.*")
        def remember(event: Event) -> None:
            # Runs after the unit of work that raised the event has committed.
            heard.append(event.name)

        # One call, one transaction: email and phone are normalised on the way in.
        ada = crm.contacts.add(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.com",
            phone="020 7946 0018",
            city="London",
            custom={"loyalty_tier": "gold", "newsletter": True},
        )
        print(f"Added {ada.display_name} <{ada.email}> phone {ada.phone} id {ada.id}")

        # Several writes, one transaction: all of them are kept, or none.
        with crm.unit_of_work(actor="alice") as uow:
            org = uow.organizations.add(name="Analytical Engines Ltd", domain="Engines.example")
            uow.contacts.link(ada.id, org.id, role="CTO")
            charles = uow.contacts.add(first_name="Charles", last_name="Babbage",
                                       email="charles@example.com", org=org.id, role="Founder")
        print(f"Organization {org.name} ({org.domain}) with {charles.display_name} and Ada")

        crm.interactions.log(ada.id, channel="email", kind="inquiry",
                             summary="Asked for pricing of the engine")
        crm.interactions.log("ada@example.com", channel="phone", direction="outbound",
                             kind="call", summary="Walked through the quote")

        # Custom fields are validated against their schema.
        try:
            crm.contacts.update(ada.id, custom={"loyalty_tier": "platinum"})
        except ValidationError as exc:
            print(f"Refused: {exc} (exit code {exc.exit_code} on the command line)")

        # Bulk add: one transaction, one contact.imported event per batch.
        ids = crm.contacts.add_many(
            {"first_name": f"Reader{n}", "last_name": "Example", "email": f"reader{n}@example.com"}
            for n in range(1, 101)
        )
        print(f"Bulk-added {len(ids)} contacts; {crm.contacts.count()} contacts in all")

        found = crm.contacts.search("lovelace")
        print("Search 'lovelace':", ", ".join(c.display_name for c in found))
        londoners = crm.contacts.list({"city": "London"})
        print("In London:", ", ".join(c.display_name for c in londoners))

        print("Events heard:", ", ".join(sorted(set(heard))))

        view = crm.view("ada@example.com")
        print()
        print(f"Single customer view of {view.contact.display_name}")
        print(f"  email   {view.contact.email}")
        print(f"  phone   {view.contact.phone}")
        print(f"  custom  {view.contact.custom}")
        for membership in view.organizations:
            print(f"  member  {membership.organization.name} as {membership.role}")
        for item in view.interactions:
            print(f"  {item.occurred_at:%Y-%m-%d %H:%M}  {item.channel:<6} {item.kind:<8} "
                  f"{item.summary}")
        for section in view.sections:
            print(f"  [{section.title}] {section.data}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp))
