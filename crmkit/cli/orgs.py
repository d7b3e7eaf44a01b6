"""``crmkit orgs``: add, show, list, change, delete and search organizations.

Organizations are named by id or exact name; a name shared by two
organizations is refused, so use the id then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_context
from crmkit.cli.output import echo_json, echo_record, echo_table
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

if TYPE_CHECKING:
    from crmkit.entities.core import Organization

# (field, metavar, help) for the organization options; the name is an argument of ``add``.
ORG_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("domain", "DOMAIN", "Web domain (e.g. example.com); stored lower-case."),
    ("industry", "TEXT", "Industry."),
    ("size", "N", "Number of employees."),
    ("street", "TEXT", "Street address."),
    ("city", "TEXT", "City."),
    ("postal_code", "TEXT", "Postal code."),
    ("region", "TEXT", "Region, state or county."),
    ("country", "CC", "Country, ISO 3166-1 alpha-2 (e.g. GB)."),
    ("owner", "USER", "Who owns the relationship."),
)
ORG_HINT = "name an organization by id or exact name; find it with 'crmkit orgs search TEXT'"
ORG_COLUMNS = (
    ("id", "ID"),
    ("name", "NAME"),
    ("domain", "DOMAIN"),
    ("industry", "INDUSTRY"),
    ("size", "SIZE"),
    ("city", "CITY"),
    ("country", "COUNTRY"),
)


def org_label(org: Organization) -> str:
    return f"{org.name} ({org.id})"


@click.group("orgs")
def orgs_group() -> None:
    """Add, show, list, change, delete and search organizations (named by id or name)."""


@orgs_group.command("add")
@click.argument("name")
@field_options(ORG_FIELDS)
@set_options(unset=False)
@click.option("--json", "as_json", is_flag=True, help="Print the new organization as JSON.")
def add_org(name: str, assignments: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Add an organization called NAME.

    \b
    Example:
      crmkit orgs add "Analytical Engines Ltd" --domain engines.example --industry Computing
    """
    crm = get_context().crm()
    values = {"name": name, **given_fields(options, ORG_FIELDS)}
    apply_assignments(crm, "organization", values, assignments)
    org = crm.organizations.add(**values)
    if as_json:
        echo_json(org)
        return
    click.echo(f"Added organization {org_label(org)}")


@orgs_group.command("show")
@click.argument("organization")
@click.option("--json", "as_json", is_flag=True, help="Print the organization as one JSON object.")
def show_org(organization: str, as_json: bool) -> None:
    """Show one ORGANIZATION (an id or exact name)."""
    crm = get_context().crm()
    with hint_on_not_found("organization", ORG_HINT):
        org = crm.organizations.get(organization)
    if as_json:
        echo_json(org)
        return
    echo_record(record_fields(org))


@orgs_group.command("list")
@click.option("--limit", default=50, show_default=True, help="Organizations per page (0: all).")
@click.option("--offset", default=0, show_default=True, help="Skip this many organizations.")
@click.option("--owner", metavar="USER", help="Only organizations owned by USER.")
@click.option("--city", help="Only organizations in this city (exact).")
@click.option("--industry", help="Only organizations in this industry (exact).")
@click.option(
    "--sort",
    metavar="FIELD",
    help="Order by FIELD, -FIELD for descending; several separated by commas. Default: name.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_orgs(
    limit: int,
    offset: int,
    owner: str | None,
    city: str | None,
    industry: str | None,
    sort: str | None,
    as_json: bool,
) -> None:
    """List organizations, a page at a time."""
    if limit < 0 or offset < 0:
        raise click.UsageError("--limit and --offset may not be negative")
    crm = get_context().crm()
    given = (("owner", owner), ("city", city), ("industry", industry))
    where = {k: v for k, v in given if v is not None}
    found = crm.organizations.list(
        where, order_by=sort_order(sort, ("name",)), limit=limit or None, offset=offset
    )
    if as_json:
        echo_json(found)
    else:
        echo_table(
            [record_fields(o) for o in found],
            ORG_COLUMNS,
            empty="No organizations match."
            if where or offset
            else "No organizations yet; add one with 'crmkit orgs add NAME'.",
        )
    page_hint(len(found), limit, offset)


@orgs_group.command("update")
@click.argument("organization")
@click.option("--name", metavar="TEXT", help="Rename the organization.")
@field_options(ORG_FIELDS)
@set_options(unset=True)
@click.option("--json", "as_json", is_flag=True, help="Print the changed organization as JSON.")
def update_org(
    organization: str,
    name: str | None,
    assignments: tuple[str, ...],
    unset: tuple[str, ...],
    as_json: bool,
    **options: Any,
) -> None:
    """Change fields of ORGANIZATION (an id or exact name)."""
    crm = get_context().crm()
    values = given_fields(options, ORG_FIELDS)
    if name is not None:
        values["name"] = name
    apply_assignments(crm, "organization", values, assignments, unset)
    if not values:
        raise click.UsageError(
            "nothing to change; give field options (see --help), --set FIELD=VALUE or --unset FIELD"
        )
    with hint_on_not_found("organization", ORG_HINT):
        org = crm.organizations.update(organization, **values)
    if as_json:
        echo_json(org)
        return
    click.echo(f"Updated organization {org_label(org)}")


@orgs_group.command("delete")
@click.argument("organization")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete_org(organization: str, yes: bool) -> None:
    """Delete ORGANIZATION and its links to contacts (the contacts stay)."""
    crm = get_context().crm()
    with hint_on_not_found("organization", ORG_HINT):
        org = crm.organizations.get(organization)
        if not yes:
            members = len(crm.organizations.members(org.id))
            confirm_delete(
                f"Delete organization {org_label(org)} and its {members} contact link(s)? "
                "The contacts stay.",
                f"organization {org_label(org)}",
            )
        crm.organizations.delete(org.id)
    click.echo(f"Deleted organization {org_label(org)}")


@orgs_group.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", default=50, show_default=True, help="At most this many (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def search_orgs(text: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Find organizations whose name, domain, industry or city contains TEXT."""
    crm = get_context().crm()
    found = crm.organizations.search(" ".join(text), limit=limit or None)
    if as_json:
        echo_json(found)
        return
    echo_table([record_fields(o) for o in found], ORG_COLUMNS, empty="No organizations match.")


@orgs_group.command("members")
@click.argument("organization")
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list of {contact, role} objects."
)
def org_members(organization: str, as_json: bool) -> None:
    """List the contacts of ORGANIZATION with their roles."""
    crm = get_context().crm()
    with hint_on_not_found("organization", ORG_HINT):
        members = crm.organizations.members(organization)
    if as_json:
        echo_json([{"contact": contact, "role": role} for contact, role in members])
        return
    rows = [
        {
            "id": c.id,
            "name": " ".join(p for p in (c.first_name, c.last_name) if p),
            "email": c.email,
            "role": role,
        }
        for c, role in members
    ]
    echo_table(
        rows,
        (("id", "ID"), ("name", "NAME"), ("email", "EMAIL"), ("role", "ROLE")),
        empty=f"{organization} has no contacts; link one with "
        "'crmkit contacts link CONTACT ORGANIZATION --role ROLE'.",
    )
