"""``crmkit sales deals``: open deals, move them through the pipeline, win, lose, reopen.

A deal is named by its id or by its title (any case) when only one deal has
that title (``crmkit sales deals list`` shows both). Amounts are
printed with their currency (``12,500.00 EUR``); every read command has
``--json`` for scripts, where amounts are decimal strings. Errors end with
the core's exit codes: 3 for a deal or contact not found, 4 for an illegal
move or bad value, 7 when the privacy policy refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_record, echo_table
from crmkit.serialize import to_jsonable

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit_sales.entities import Deal

F = TypeVar("F", bound=Callable[..., Any])

DEAL_COLUMNS = (
    ("id", "ID"),
    ("title", "TITLE"),
    ("pipeline", "PIPELINE"),
    ("stage", "STAGE"),
    ("status", "STATUS"),
    ("amount", "AMOUNT"),
    ("expected_close", "CLOSE"),
    ("owner", "OWNER"),
)
HISTORY_COLUMNS = (
    ("changed_at", "CHANGED AT"),
    ("from_stage", "FROM"),
    ("to_stage", "TO"),
    ("actor", "BY"),
)
CONTACT_COLUMNS = (("id", "ID"), ("name", "NAME"), ("email", "EMAIL"), ("role", "ROLE"))


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def deal_json(deal: Deal) -> dict[str, Any]:
    """A deal as JSON: every stored field plus ``amount`` as a decimal string."""
    from crmkit_sales.deal_records import deal_amount

    data: dict[str, Any] = to_jsonable(deal)
    data["amount"] = str(deal_amount(deal).amount)
    return data


def deal_row(deal: Deal) -> dict[str, Any]:
    """A deal as a table row, the amount with its currency."""
    from crmkit_sales.deal_records import deal_amount
    from crmkit_sales.records import format_money

    return {**attrs.asdict(deal, recurse=False), "amount": format_money(deal_amount(deal))}


def _name(contact: Contact) -> str:
    return " ".join(str(p) for p in (contact.first_name, contact.last_name) if p)


def _echo_deal(deal: Deal, verb: str, as_json: bool) -> None:
    from crmkit_sales.deal_records import deal_amount
    from crmkit_sales.records import format_money

    if as_json:
        echo_json(deal_json(deal))
        return
    click.echo(
        f"{verb} deal {deal.title} ({deal.id}): {deal.stage}, {format_money(deal_amount(deal))}"
    )


@click.group("deals")
def deals_group() -> None:
    """Open deals and move them through the pipeline to won or lost."""


@deals_group.command("add")
@click.argument("title")
@click.option("--amount", required=True, metavar="AMOUNT", help="Value, e.g. 12500.00.")
@click.option("--currency", metavar="CODE", help="ISO 4217 code (default: default_currency).")
@click.option("--pipeline", metavar="NAME", help="Pipeline (default: default_pipeline).")
@click.option("--stage", metavar="STAGE", help="Open stage to start at (default: the first).")
@click.option("--contact", metavar="ID_OR_EMAIL", help="The primary contact.")
@click.option("--org", "organization", metavar="NAME_OR_ID", help="The buying organization.")
@click.option("--owner", metavar="USER", help="Who works the deal.")
@click.option("--expected-close", metavar="YYYY-MM-DD", help="When it is expected to close.")
@click.option(
    "--product", "products", multiple=True, metavar="NAME", help="A product (repeatable)."
)
@json_option
def add_deal(
    title: str,
    amount: str,
    currency: str | None,
    pipeline: str | None,
    stage: str | None,
    contact: str | None,
    organization: str | None,
    owner: str | None,
    expected_close: str | None,
    products: tuple[str, ...],
    as_json: bool,
) -> None:
    """Open a deal called TITLE.

    \b
    Examples:
      crmkit sales deals add "Analytical engine" --amount 12500 --contact ada@example.com
      crmkit sales deals add "Support plan" --amount 900 --currency USD --stage quote
    """
    from crmkit_sales.deals import Deals

    deal = Deals(get_crm()).add(
        title=title,
        amount=amount,
        currency=currency,
        pipeline=pipeline,
        stage=stage,
        contact=contact,
        organization=organization,
        owner=owner,
        expected_close=expected_close,
        products=products,
    )
    _echo_deal(deal, "Opened", as_json)


@deals_group.command("list")
@click.option("--pipeline", metavar="NAME", help="Only deals in this pipeline.")
@click.option("--stage", metavar="STAGE", help="Only deals at this stage.")
@click.option("--status", type=click.Choice(["open", "won", "lost"]), help="Only this status.")
@click.option("--owner", metavar="USER", help="Only deals owned by USER.")
@click.option("--org", "organization", metavar="NAME_OR_ID", help="Only this organization's.")
@click.option("--limit", default=50, show_default=True, help="At most this many (0: all).")
@json_option
def list_deals(
    pipeline: str | None,
    stage: str | None,
    status: str | None,
    owner: str | None,
    organization: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List deals, newest first."""
    from crmkit_sales.deals import Deals

    if limit < 0:
        raise click.UsageError("--limit may not be negative")
    found = Deals(get_crm()).list(
        pipeline=pipeline,
        stage=stage,
        status=status,
        owner=owner,
        organization=organization,
        limit=limit or None,
    )
    if as_json:
        echo_json([deal_json(d) for d in found])
        return
    filtered = any(v is not None for v in (pipeline, stage, status, owner, organization))
    echo_table(
        [deal_row(d) for d in found],
        DEAL_COLUMNS,
        empty="No deals match."
        if filtered
        else "No deals yet; open one with 'crmkit sales deals add TITLE --amount AMOUNT'.",
    )


def _people(crm: CRM, deal_id: str) -> list[dict[str, Any]]:
    from crmkit_sales.deals import Deals

    return [
        {"id": c.id, "name": _name(c), "email": c.email, "role": role}
        for c, role in Deals(crm).contacts(deal_id)
    ]


@deals_group.command("show")
@click.argument("deal")
@json_option
def show_deal(deal: str, as_json: bool) -> None:
    """Show DEAL with its contacts and stage history.

    DEAL: an id or the deal's title (any case) when only one deal has it.
    """
    from crmkit_sales.deal_records import deal_amount
    from crmkit_sales.deals import Deals
    from crmkit_sales.records import format_money

    crm = get_crm()
    deals = Deals(crm)
    found = deals.get(deal)
    people = _people(crm, found.id)
    history = deals.history(found.id)
    if as_json:
        echo_json({**deal_json(found), "contacts": people, "history": to_jsonable(history)})
        return
    record: dict[str, Any] = {
        "id": found.id,
        "title": found.title,
        "pipeline": found.pipeline,
        "stage": found.stage,
        "status": found.status,
        "amount": format_money(deal_amount(found)),
        "expected_close": found.expected_close,
        "owner": found.owner,
        "organization": found.organization_id,
        "products": found.products,
        "lead_id": found.lead_id,
        "created_at": found.created_at,
        "stage_entered_at": found.stage_entered_at,
        "closed_at": found.closed_at,
        "close_reason": found.close_reason,
        "days_to_close": found.days_to_close,
    }
    if found.organization_id is not None:
        org = crm.organizations.find(found.organization_id)
        record["organization"] = f"{org.name} ({org.id})" if org else found.organization_id
    echo_record(record)
    click.echo("\nContacts:")
    echo_table(people, CONTACT_COLUMNS, empty="  none; add one with 'crmkit sales deals contact'")
    click.echo("\nStage history:")
    echo_table([attrs.asdict(c, recurse=False) for c in history], HISTORY_COLUMNS)


@deals_group.command("update")
@click.argument("deal")
@click.option("--title", metavar="TEXT", help="A new title.")
@click.option("--amount", metavar="AMOUNT", help="A new value.")
@click.option("--currency", metavar="CODE", help="A new currency (the amount is kept).")
@click.option("--expected-close", metavar="YYYY-MM-DD", help="A new expected close day.")
@click.option("--owner", metavar="USER", help="A new owner.")
@click.option("--product", "products", multiple=True, metavar="NAME", help="Replace products.")
@json_option
def update_deal(
    deal: str,
    title: str | None,
    amount: str | None,
    currency: str | None,
    expected_close: str | None,
    owner: str | None,
    products: tuple[str, ...],
    as_json: bool,
) -> None:
    """Change fields of DEAL (its stage changes with move, win, lose and reopen).

    DEAL: an id or the deal's title (any case) when only one deal has it.
    """
    from crmkit_sales.deals import KEEP, Deals

    given = {
        "title": title,
        "amount": amount,
        "currency": currency,
        "expected_close": expected_close,
        "owner": owner,
        "products": products or None,
    }
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise click.UsageError("nothing to change; give at least one option (see --help)")
    keep: dict[str, Any] = {k: KEEP for k in given if k not in changes}
    changed = Deals(get_crm()).update(deal, **changes, **keep)
    _echo_deal(changed, "Updated", as_json)


@deals_group.command("move")
@click.argument("deal")
@click.argument("stage")
@json_option
def move_deal(deal: str, stage: str, as_json: bool) -> None:
    """Move an open DEAL to another open STAGE of its pipeline.

    DEAL: an id or the deal's title (any case) when only one deal has it.
    """
    from crmkit_sales.deals import Deals

    _echo_deal(Deals(get_crm()).move(deal, stage), "Moved", as_json)


@deals_group.command("win")
@click.argument("deal")
@click.option("--reason", metavar="TEXT", help="Why it was won.")
@json_option
def win_deal(deal: str, reason: str | None, as_json: bool) -> None:
    """Close DEAL as won.

    DEAL: an id or the deal's title (any case) when only one deal has it.
    """
    from crmkit_sales.deals import Deals

    _echo_deal(Deals(get_crm()).win(deal, reason=reason), "Won", as_json)


@deals_group.command("lose")
@click.argument("deal")
@click.option("--reason", required=True, metavar="TEXT", help="Why it was lost.")
@json_option
def lose_deal(deal: str, reason: str, as_json: bool) -> None:
    """Close DEAL as lost, saying why.

    DEAL: an id or the deal's title (any case) when only one deal has it.
    """
    from crmkit_sales.deals import Deals

    _echo_deal(Deals(get_crm()).lose(deal, reason=reason), "Lost", as_json)


@deals_group.command("reopen")
@click.argument("deal")
@click.option("--reason", required=True, metavar="TEXT", help="Why it is reopened.")
@click.option("--stage", metavar="STAGE", help="Open stage to return to (default: the last one).")
@json_option
def reopen_deal(deal: str, reason: str, stage: str | None, as_json: bool) -> None:
    """Reopen a won or lost DEAL.

    DEAL: an id or the deal's title (any case) when only one deal has it.
    """
    from crmkit_sales.deals import Deals

    _echo_deal(Deals(get_crm()).reopen(deal, stage=stage, reason=reason), "Reopened", as_json)


@deals_group.command("contact")
@click.argument("deal")
@click.argument("contact")
@click.option("--role", metavar="ROLE", help="Their part in the deal, e.g. 'decision maker'.")
def add_deal_contact(deal: str, contact: str, role: str | None) -> None:
    """Add CONTACT (id or email) to DEAL with a role.

    DEAL: an id or the deal's title (any case) when only one deal has it.
    """
    from crmkit_sales.deals import Deals

    Deals(get_crm()).add_contact(deal, contact, role=role)
    click.echo(f"Added {contact} to deal {deal}" + (f" as {role}" if role else ""))
