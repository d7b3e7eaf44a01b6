"""``crmkit sales quotes``: draft, price, send and decide quotes, and print them.

A quote is named by id, by number (``Q-00001``: its latest version) or by
number and version (``Q-00001v2``); a deal by its id or its title. Amounts are printed with
their currency (``12,500.00 EUR``); prices, quantities and percentages are
read as exact decimals (``--price 19.99``). Read commands have ``--json``,
where numbers are decimal strings. Errors end with the core's exit codes: 3 for
a quote or deal not found, 4 for a bad value or a step the quote's status does
not allow, 7 when the privacy policy refuses.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_record, echo_table

if TYPE_CHECKING:
    from crmkit_sales.entities import Quote, QuoteLine

QUOTE_COLUMNS = (
    ("quote", "QUOTE"),
    ("status", "STATUS"),
    ("deal_id", "DEAL"),
    ("total", "TOTAL"),
    ("valid_until", "VALID UNTIL"),
    ("id", "ID"),
)
LINE_COLUMNS = (
    ("position", "#"),
    ("product", "PRODUCT"),
    ("quantity", "QTY"),
    ("unit_price", "UNIT PRICE"),
    ("discount", "DISCOUNT"),
    ("tax", "TAX"),
    ("total", "LINE TOTAL"),
)
STATUSES = ("draft", "sent", "accepted", "rejected", "expired")


def _quote_row(quote: Quote) -> dict[str, Any]:
    from crmkit_sales.quotes import quote_label, quote_money
    from crmkit_sales.records import format_money

    return {
        "quote": quote_label(quote),
        "status": quote.status,
        "deal_id": quote.deal_id,
        "total": format_money(quote_money(quote).total),
        "valid_until": quote.valid_until,
        "id": quote.id,
    }


def _quote_json(quote: Quote, lines: list[QuoteLine] | None = None) -> dict[str, Any]:
    """A quote for ``--json``: stored fields plus its amounts as decimal strings."""
    from crmkit.serialize import to_jsonable
    from crmkit_sales.quote_render import line_data
    from crmkit_sales.quotes import quote_label, quote_money

    money = quote_money(quote)
    data: dict[str, Any] = to_jsonable(quote)
    data["quote"] = quote_label(quote)
    data.update(
        subtotal=str(money.subtotal.amount),
        discount=str(money.discount.amount),
        tax=str(money.tax.amount),
        total=str(money.total.amount),
    )
    if lines is not None:
        data["lines"] = [line_data(line, quote.currency) for line in lines]
    return data


def _done(quote: Quote, what: str) -> None:
    from crmkit_sales.quotes import quote_label, quote_money
    from crmkit_sales.records import format_money

    total = format_money(quote_money(quote).total)
    click.echo(f"Quote {quote_label(quote)} {what} (total {total}, status {quote.status})")


@click.group("quotes")
def quotes_group() -> None:
    """Quotes for deals: draft, add priced lines, send, accept or reject, revise, render."""


@quotes_group.command("add")
@click.argument("deal")
@click.option("--currency", metavar="CODE", help="ISO 4217 code; default: the deal's.")
@click.option("--valid-until", metavar="YYYY-MM-DD", help="Last day the offer holds.")
@click.option("--notes", metavar="TEXT", help="Terms or remarks printed on the quote.")
@click.option("--json", "as_json", is_flag=True, help="Print the new quote as JSON.")
def add_command(
    deal: str,
    currency: str | None,
    valid_until: str | None,
    notes: str | None,
    as_json: bool,
) -> None:
    """Draft a new quote (version 1) for DEAL.

    DEAL: an id or the deal's title (any case) when only one deal has it.

    \b
    Example:
      crmkit sales quotes add 0190... --valid-until 2026-06-30
    """
    from crmkit_sales.quotes import Quotes, quote_label

    quote = Quotes(get_crm()).add(deal, currency=currency, valid_until=valid_until, notes=notes)
    if as_json:
        echo_json(_quote_json(quote, []))
        return
    click.echo(
        f"Drafted quote {quote_label(quote)} in {quote.currency} for deal {quote.deal_id}; "
        f"add lines with 'crmkit sales quotes line {quote.number} --product ... "
        "--quantity ... --price ...'"
    )


@quotes_group.command("line")
@click.argument("quote")
@click.option("--product", required=True, help="What is sold (name or code).")
@click.option("--quantity", required=True, metavar="N", help="How many, more than 0 (e.g. 1.5).")
@click.option("--price", required=True, metavar="AMOUNT", help="Unit price, e.g. 19.99.")
@click.option("--discount", default="0", show_default=True, metavar="PCT", help="Percent off.")
@click.option("--tax", default="0", show_default=True, metavar="PCT", help="Tax percent.")
@click.option("--description", metavar="TEXT", help="A line of detail under the product.")
@click.option("--json", "as_json", is_flag=True, help="Print the new line as JSON.")
def line_command(
    quote: str,
    product: str,
    quantity: str,
    price: str,
    discount: str,
    tax: str,
    description: str | None,
    as_json: bool,
) -> None:
    """Add a priced line to the draft QUOTE.

    \b
    Example:
      crmkit sales quotes line Q-00001 --product Widget --quantity 3 --price 19.99 --tax 20
    """
    from crmkit_sales.quote_render import line_data
    from crmkit_sales.quotes import Quotes, quote_label, quote_money
    from crmkit_sales.records import format_money

    quotes = Quotes(get_crm())
    line = quotes.add_line(
        quote,
        product=product,
        quantity=quantity,
        unit_price=price,
        discount_pct=discount,
        tax_pct=tax,
        description=description,
    )
    updated = quotes.get(line.quote_id)
    if as_json:
        echo_json(line_data(line, updated.currency))
        return
    click.echo(
        f"Added line {line.position} ({line.product}) to {quote_label(updated)}; "
        f"quote total {format_money(quote_money(updated).total)}"
    )


@quotes_group.command("remove-line")
@click.argument("quote")
@click.argument("position", type=click.IntRange(min=1))
def remove_line_command(quote: str, position: int) -> None:
    """Remove line POSITION (1 is the first) from the draft QUOTE."""
    from crmkit_sales.quotes import Quotes

    _done(Quotes(get_crm()).remove_line(quote, position), f"lost line {position}")


@quotes_group.command("send")
@click.argument("quote")
def send_command(quote: str) -> None:
    """Mark the draft QUOTE sent to the customer (it needs at least one line)."""
    from crmkit_sales.quotes import Quotes

    _done(Quotes(get_crm()).send(quote), "sent")


@quotes_group.command("accept")
@click.argument("quote")
def accept_command(quote: str) -> None:
    """Record that the customer accepted the sent QUOTE (its latest version)."""
    from crmkit_sales.quotes import Quotes

    _done(Quotes(get_crm()).accept(quote), "accepted")


@quotes_group.command("reject")
@click.argument("quote")
def reject_command(quote: str) -> None:
    """Record that the customer turned the sent QUOTE down."""
    from crmkit_sales.quotes import Quotes

    _done(Quotes(get_crm()).reject(quote), "rejected")


@quotes_group.command("revise")
@click.argument("quote")
@click.option("--valid-until", metavar="YYYY-MM-DD", help="A new last day (default: kept).")
@click.option("--notes", metavar="TEXT", help="New notes (default: kept).")
def revise_command(quote: str, valid_until: str | None, notes: str | None) -> None:
    """Copy QUOTE, with its lines, into a new draft version; the old one stays as it was."""
    from crmkit_sales.quotes import Quotes

    revised = Quotes(get_crm()).revise(quote, valid_until=valid_until, notes=notes)
    _done(revised, "drafted as a revision")


@quotes_group.command("expire")
@click.option("--today", metavar="YYYY-MM-DD", help="Expire as of this day (default: today).")
def expire_command(today: str | None) -> None:
    """Mark sent quotes whose valid-until day has passed expired."""
    from crmkit_sales.quotes import Quotes
    from crmkit_sales.records import parse_date

    day = parse_date(today, entity="sales.quote", field="today")
    count = Quotes(get_crm()).expire_due(day)
    click.echo(f"Expired {count} quote{'' if count == 1 else 's'}.")


@quotes_group.command("list")
@click.option("--deal", metavar="DEAL", help="Only the quotes of this deal (id or title).")
@click.option("--status", type=click.Choice(STATUSES), help="Only quotes in this status.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_command(deal: str | None, status: str | None, as_json: bool) -> None:
    """List quote versions by number and version."""
    from crmkit_sales.quotes import Quotes

    found = Quotes(get_crm()).list(deal=deal, status=status)
    if as_json:
        echo_json([_quote_json(q) for q in found])
        return
    echo_table(
        [_quote_row(q) for q in found],
        QUOTE_COLUMNS,
        empty="No quotes match."
        if deal or status
        else "No quotes yet; draft one with 'crmkit sales quotes add DEAL'.",
    )


@quotes_group.command("show")
@click.argument("quote")
@click.option("--json", "as_json", is_flag=True, help="Print the quote with its lines as JSON.")
def show_command(quote: str, as_json: bool) -> None:
    """Show QUOTE with its lines and totals."""
    from crmkit_sales.quote_render import line_cells
    from crmkit_sales.quotes import Quotes, quote_label, quote_money
    from crmkit_sales.records import format_money

    quotes = Quotes(get_crm())
    found = quotes.get(quote)
    lines = quotes.lines(found.id)
    if as_json:
        echo_json(_quote_json(found, lines))
        return
    money = quote_money(found)
    echo_record(
        {
            "quote": quote_label(found),
            "status": found.status,
            "deal": found.deal_id,
            "currency": found.currency,
            "valid until": found.valid_until,
            "sent": found.sent_at,
            "decided": found.decided_at,
            "notes": found.notes,
            "id": found.id,
        }
    )
    click.echo("")
    echo_table(
        [line_cells(line, found.currency) for line in lines],
        LINE_COLUMNS,
        empty="No lines yet.",
    )
    click.echo("")
    echo_record(
        {
            "subtotal": format_money(money.subtotal),
            "discount": format_money(money.discount),
            "tax": format_money(money.tax),
            "total": format_money(money.total),
        }
    )


@quotes_group.command("render")
@click.argument("quote")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("markdown", "html", "json")),
    default="markdown",
    show_default=True,
    help="The document's format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of printing.",
)
def render_command(quote: str, fmt: str, output: Path | None) -> None:
    """Print QUOTE as a document (Markdown, HTML or JSON), or write it to a file."""
    from crmkit_sales.quote_render import render
    from crmkit_sales.quotes import Quotes, quote_label

    quotes = Quotes(get_crm())
    found = quotes.get(quote)
    text = render(found, quotes.lines(found.id), quotes.deal(found.id), fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {quote_label(found)} as {fmt} to {output}")
