"""``crmkit contacts``: add, show, list, change, delete and search people.

Contacts are named by id or email. Every built-in field has an option of its
own; ``--set FIELD=VALUE`` reaches any field, including the custom fields a
project defines in ``crmkit.toml``. The option and ``--set`` helpers live
in :mod:`crmkit.cli.records`.

Commands act as the ``--as`` actor: what they may not see is shown as
``[masked: personal]`` or ``[masked: sensitive]``, and what the privacy
policy refuses ends with exit code 7.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_context
from crmkit.cli.output import echo_json, echo_masked, echo_record, echo_table, masked_fields
from crmkit.cli.records import (
    apply_assignments,
    confirm_delete,
    field_options,
    given_fields,
    hint_on_not_found,
    page_hint,
    record_fields,
    set_options,
    sort_order,
)
from crmkit.privacy.model import Masked

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact


# (field, metavar, help) for the contact options of ``add`` and ``update``.
CONTACT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("first_name", "TEXT", "First name."),
    ("last_name", "TEXT", "Last name."),
    ("email", "EMAIL", "Email address; checked and normalised, unique per contact."),
    ("phone", "PHONE", "Phone number; stored as E.164 (national numbers need default_region)."),
    ("job_title", "TEXT", "Job title."),
    ("street", "TEXT", "Street address."),
    ("city", "TEXT", "City."),
    ("postal_code", "TEXT", "Postal code."),
    ("region", "TEXT", "Region, state or county."),
    ("country", "CC", "Country, ISO 3166-1 alpha-2 (e.g. GB)."),
    ("birth_date", "YYYY-MM-DD", "Birth date."),
    ("source", "TEXT", "Where the contact came from (e.g. web-form)."),
    ("owner", "USER", "Who owns the relationship."),
)
CONTACT_HINT = "name a contact by id or email; find it with 'crmkit contacts search TEXT'"
CONTACT_COLUMNS = (
    ("id", "ID"),
    ("name", "NAME"),
    ("email", "EMAIL"),
    ("phone", "PHONE"),
    ("city", "CITY"),
    ("tags", "TAGS"),
    ("owner", "OWNER"),
)


def contact_label(contact: Contact) -> str:
    """``Ada Lovelace <ada@example.com> (id)`` for messages."""
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    email = f" <{contact.email}>" if contact.email and name else ""
    return f"{name or contact.email or 'contact'}{email} ({contact.id})"


def contact_row(contact: Contact) -> dict[str, Any]:
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    return {**record_fields(contact), "name": name}


def _tag_list(tags: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in tags if t.strip()))


def parse_consent(consent: str | None, evidence: str | None) -> dict[str, Any] | None:
    """``--consent PURPOSE:CHANNEL --evidence TEXT`` as ``contacts.add(consent=...)`` takes it."""
    if consent is None:
        if evidence is not None:
            raise click.UsageError("--evidence goes with --consent PURPOSE:CHANNEL")
        return None
    purpose, sep, channel = consent.partition(":")
    if not sep or not purpose.strip() or not channel.strip():
        raise click.BadParameter(
            f"{consent!r}: use PURPOSE:CHANNEL, e.g. marketing:email", param_hint="'--consent'"
        )
    terms: dict[str, Any] = {"purpose": purpose.strip(), "channel": channel.strip()}
    if evidence is not None:
        terms["evidence"] = evidence
    return terms


# -- commands -----------------------------------------------------------------


@click.group("contacts")
def contacts_group() -> None:
    """Add, show, list, change, delete and search contacts (named by id or email)."""


@contacts_group.command("add")
@field_options(CONTACT_FIELDS)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag (repeatable).")
@click.option("--org", metavar="NAME_OR_ID", help="Link the new contact to this organization.")
@click.option("--role", metavar="ROLE", help="The contact's role at --org (e.g. CTO).")
@click.option(
    "--consent",
    metavar="PURPOSE:CHANNEL",
    help="Record the person's consent with them (e.g. marketing:email); needed to "
    "add again a person who was erased.",
)
@click.option(
    "--evidence",
    metavar="TEXT",
    help="Proof of the --consent (form, text version, where it was given).",
)
@set_options(unset=False)
@click.option("--json", "as_json", is_flag=True, help="Print the new contact as JSON.")
def add_contact(
    tags: tuple[str, ...],
    org: str | None,
    role: str | None,
    consent: str | None,
    evidence: str | None,
    assignments: tuple[str, ...],
    as_json: bool,
    **options: Any,
) -> None:
    """Add a contact; it needs at least a first name, last name or email.

    \b
    Examples:
      crmkit contacts add --first-name Ada --last-name Lovelace --email ada@example.com
      crmkit contacts add --email bob@example.com --org "Acme Ltd" --role Buyer
      crmkit contacts add --email eve@example.com --set tier=gold
      crmkit contacts add --email eve@example.com --consent marketing:email --evidence "form v3"
    """
    if role is not None and org is None:
        raise click.UsageError("--role needs --org (the organization the role is at)")
    terms = parse_consent(consent, evidence)
    crm = get_context().crm()
    values = given_fields(options, CONTACT_FIELDS)
    if tags:
        values["tags"] = _tag_list(tags)
    apply_assignments(crm, "contact", values, assignments)
    with hint_on_not_found("organization", "name an organization by id or exact name"):
        contact = crm.contacts.add(**values, org=org, role=role, consent=terms)
    if as_json:
        echo_json(contact)
        return
    linked = f", linked to {org}" + (f" as {role}" if role else "") if org else ""
    click.echo(f"Added contact {contact_label(contact)}{linked}")


@contacts_group.command("show")
@click.argument("contact")
@click.option("--json", "as_json", is_flag=True, help="Print the contact as one JSON object.")
def show_contact(contact: str, as_json: bool) -> None:
    """Show one CONTACT (an id or email) with its organizations."""
    crm = get_context().crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        found = crm.contacts.get(contact)
    if as_json:
        echo_json(found)
        return
    fields = record_fields(found)
    memberships = crm.contacts.organizations_of(found.id)
    if memberships:
        fields["organizations"] = [
            m.organization.name + (f" ({m.role})" if m.role else "") for m in memberships
        ]
    echo_record(fields)
    echo_masked(crm.privacy.actor().name, masked_fields(found))


@contacts_group.command("list")
@click.option("--limit", default=50, show_default=True, help="Contacts per page (0: all).")
@click.option("--offset", default=0, show_default=True, help="Skip this many contacts.")
@click.option("--owner", metavar="USER", help="Only contacts owned by USER.")
@click.option("--city", help="Only contacts in this city (exact).")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Only contacts with TAG (repeatable: all of them).",
)
@click.option(
    "--sort",
    metavar="FIELD",
    help="Order by FIELD, -FIELD for descending; "
    "several separated by commas. Default: last-name,first-name.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_contacts(
    limit: int,
    offset: int,
    owner: str | None,
    city: str | None,
    tags: tuple[str, ...],
    sort: str | None,
    as_json: bool,
) -> None:
    """List contacts, a page at a time."""
    if limit < 0 or offset < 0:
        raise click.UsageError("--limit and --offset may not be negative")
    crm = get_context().crm()
    where = {k: v for k, v in (("owner", owner), ("city", city)) if v is not None}
    order = sort_order(sort, ("last_name", "first_name"))
    if tags:
        found = _tagged_page(crm, where, order, _tag_list(tags), limit, offset)
    else:
        found = crm.contacts.list(where, order_by=order, limit=limit or None, offset=offset)
    if as_json:
        echo_json(found)
    else:
        filtered = bool(where or tags or offset)
        echo_table(
            [contact_row(c) for c in found],
            CONTACT_COLUMNS,
            empty="No contacts match."
            if filtered
            else "No contacts yet; add one with 'crmkit contacts add --email ...'.",
        )
        _echo_masked_of(crm, found)
    page_hint(len(found), limit, offset)


def _echo_masked_of(crm: CRM, contacts: Sequence[Contact]) -> None:
    """Name the fields masked in any of ``contacts`` (nothing when none were)."""
    names = dict.fromkeys(name for c in contacts for name in masked_fields(c))
    echo_masked(crm.privacy.actor().name, list(names))


def _tagged_page(
    crm: CRM,
    where: dict[str, Any],
    order: tuple[str, ...],
    tags: list[str],
    limit: int,
    offset: int,
) -> list[Contact]:
    """A page of contacts carrying every tag in ``tags`` (compared ignoring case).

    The storage filters cannot look inside list fields yet, so contacts are
    read in batches (memory stays bounded) and the tags checked here.
    """
    wanted = {t.casefold() for t in tags}
    batch = 1000
    page: list[Contact] = []
    skip = offset
    position = 0
    while True:
        chunk = crm.contacts.list(where, order_by=order, limit=batch, offset=position)
        for contact in chunk:
            if not wanted <= {t.casefold() for t in contact.tags}:
                continue
            if skip:
                skip -= 1
                continue
            page.append(contact)
            if limit and len(page) == limit:
                return page
        if len(chunk) < batch:
            return page
        position += batch


@contacts_group.command("update")
@click.argument("contact")
@field_options(CONTACT_FIELDS)
@click.option(
    "--tag", "tags", multiple=True, metavar="TAG", help="Replace the tags with these (repeatable)."
)
@click.option("--add-tag", "add_tags", multiple=True, metavar="TAG", help="Add a tag.")
@click.option("--remove-tag", "remove_tags", multiple=True, metavar="TAG", help="Remove a tag.")
@set_options(unset=True)
@click.option("--json", "as_json", is_flag=True, help="Print the changed contact as JSON.")
def update_contact(
    contact: str,
    tags: tuple[str, ...],
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
    assignments: tuple[str, ...],
    unset: tuple[str, ...],
    as_json: bool,
    **options: Any,
) -> None:
    """Change fields of CONTACT (an id or email).

    \b
    Examples:
      crmkit contacts update ada@example.com --city London --add-tag vip
      crmkit contacts update ada@example.com --set tier=gold --unset phone
    """
    crm = get_context().crm()
    values = given_fields(options, CONTACT_FIELDS)
    apply_assignments(crm, "contact", values, assignments, unset)
    with hint_on_not_found("contact", CONTACT_HINT):
        if tags or add_tags or remove_tags:
            current = list(tags) if tags else crm.contacts.get(contact).tags
            if isinstance(current, Masked):
                raise click.UsageError(
                    "the contact's tags are masked for you, so tags cannot be added or "
                    "removed one by one; give the whole list with --tag"
                )
            removed = {t.strip().casefold() for t in remove_tags}
            merged = _tag_list([*current, *add_tags])
            values["tags"] = [t for t in merged if t.casefold() not in removed]
        if not values:
            raise click.UsageError(
                "nothing to change; give field options (see --help), --set FIELD=VALUE "
                "or --unset FIELD"
            )
        changed = crm.contacts.update(contact, **values)
    if as_json:
        echo_json(changed)
        return
    click.echo(f"Updated contact {contact_label(changed)}")


@contacts_group.command("delete")
@click.argument("contact")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete_contact(contact: str, yes: bool) -> None:
    """Delete a contact with its timeline and links.

    CONTACT is an id or email. Asks first unless --yes is given.
    """
    crm = get_context().crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        found = crm.contacts.get(contact)
        label = contact_label(found)
        if not yes:
            confirm_delete(
                f"Delete contact {label} with its timeline and organization links?",
                f"contact {label}",
            )
        crm.contacts.delete(found.id)
    click.echo(f"Deleted contact {label}")


@contacts_group.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", default=50, show_default=True, help="At most this many (0: all).")
@click.option("--offset", default=0, show_default=True, help="Skip this many matches.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def search_contacts(text: tuple[str, ...], limit: int, offset: int, as_json: bool) -> None:
    """Find contacts matching every word of TEXT.

    Each word must appear in the name, email, phone, job title or city.
    """
    crm = get_context().crm()
    found = crm.contacts.search(" ".join(text), limit=limit or None, offset=offset)
    if as_json:
        echo_json(found)
    else:
        echo_table([contact_row(c) for c in found], CONTACT_COLUMNS, empty="No contacts match.")
        _echo_masked_of(crm, found)
    page_hint(len(found), limit, offset)


@contacts_group.command("link")
@click.argument("contact")
@click.argument("organization")
@click.option("--role", metavar="ROLE", help="The contact's role there (e.g. CTO).")
def link_contact(contact: str, organization: str, role: str | None) -> None:
    """Link CONTACT (id or email) to ORGANIZATION (id or exact name)."""
    crm = get_context().crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        crm.contacts.link(contact, organization, role=role)
    click.echo(f"Linked {contact} to {organization}" + (f" as {role}" if role else ""))


@contacts_group.command("unlink")
@click.argument("contact")
@click.argument("organization")
def unlink_contact(contact: str, organization: str) -> None:
    """Remove CONTACT's links to ORGANIZATION."""
    crm = get_context().crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        removed = crm.contacts.unlink(contact, organization)
    if not removed:
        click.echo(f"{contact} was not linked to {organization}; nothing changed.", err=True)
        return
    click.echo(f"Unlinked {contact} from {organization}")
