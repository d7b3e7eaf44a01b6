"""A quote as a document: Markdown, a self-contained HTML page, or JSON.

:func:`render` prints the figures stored on the quote and its lines (the same
totals the CRM holds; nothing is recomputed here). Markdown and HTML show
amounts for people, with thousands separators and the currency
(``12,500.00 EUR``); JSON is for programs, with every number as a string so no
decimal is lost on the way (``{"amount": "12500.00", "currency": "EUR"}``).
HTML escapes every text with :func:`html.escape`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from crmkit.errors import ValidationError
from crmkit_sales.entities import Deal, Quote, QuoteLine
from crmkit_sales.money import Money, from_minor
from crmkit_sales.quotes import quote_label, quote_money
from crmkit_sales.records import format_money

Format = Literal["markdown", "html", "json"]
FORMATS: tuple[str, ...] = ("markdown", "html", "json")


def number(value: Decimal) -> str:
    """A quantity or percentage without trailing zeros: ``1.5``, ``12``, ``1,000``."""
    return f"{value.normalize():,f}"


def line_cells(line: QuoteLine, currency: str) -> dict[str, str]:
    """One line's figures as text for people (thousands separators, currency)."""
    return {
        "position": str(line.position),
        "product": line.product,
        "description": line.description or "",
        "quantity": number(line.quantity),
        "unit_price": format_money(from_minor(line.unit_price_minor, currency)),
        "discount": f"{number(line.discount_pct)}%",
        "tax": f"{number(line.tax_pct)}%",
        "total": format_money(from_minor(line.total_minor, currency)),
    }


_COLUMNS: tuple[tuple[str, str], ...] = (
    ("position", "#"),
    ("product", "Product"),
    ("description", "Description"),
    ("quantity", "Quantity"),
    ("unit_price", "Unit price"),
    ("discount", "Discount"),
    ("total", "Line total"),
    ("tax", "Tax"),
)
_RIGHT = {"position", "quantity", "unit_price", "discount", "total", "tax"}


def _totals(quote: Quote) -> list[tuple[str, str]]:
    money = quote_money(quote)
    return [
        ("Subtotal", format_money(money.subtotal)),
        ("Discount", format_money(-money.discount if money.discount.amount else money.discount)),
        ("Tax", format_money(money.tax)),
        ("Total", format_money(money.total)),
    ]


def _facts(quote: Quote, deal: Deal) -> list[tuple[str, str]]:
    facts = [("Deal", deal.title), ("Status", quote.status), ("Currency", quote.currency)]
    if quote.valid_until is not None:
        facts.append(("Valid until", quote.valid_until.isoformat()))
    if quote.sent_at is not None:
        facts.append(("Sent", quote.sent_at.date().isoformat()))
    return facts


# -- Markdown -----------------------------------------------------------------


def _md(text: str) -> str:
    """Text for Markdown: HTML and pipes escaped, line breaks as spaces (fits a table cell)."""
    escaped = html.escape(text.replace("\\", "\\\\"), quote=False).replace("|", "\\|")
    return " ".join(escaped.split())


def _markdown(quote: Quote, lines: Sequence[QuoteLine], deal: Deal) -> str:
    out = [f"# Quote {quote.number} (version {quote.version})", ""]
    out += [f"- **{name}:** {_md(value)}" for name, value in _facts(quote, deal)]
    out.append("")
    out.append("| " + " | ".join(header for _, header in _COLUMNS) + " |")
    out.append("|" + "|".join("---:" if key in _RIGHT else "---" for key, _ in _COLUMNS) + "|")
    for line in lines:
        cells = line_cells(line, quote.currency)
        out.append("| " + " | ".join(_md(cells[key]) for key, _ in _COLUMNS) + " |")
    out += ["", "| | |", "|---|---:|"]
    for name, value in _totals(quote):
        row = f"**{name}** | **{value}**" if name == "Total" else f"{name} | {value}"
        out.append(f"| {row} |")
    if quote.notes:
        out += ["", _md(quote.notes)]
    return "\n".join(out) + "\n"


# -- HTML ---------------------------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse;margin:1rem 0}"
    "th,td{border-bottom:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
    "td.n,th.n{text-align:right}"
    "tfoot td{border:none}tfoot tr.total td{font-weight:bold;border-top:2px solid #222}"
)


def _html(quote: Quote, lines: Sequence[QuoteLine], deal: Deal) -> str:
    e = html.escape
    title = f"Quote {quote.number} (version {quote.version})"
    facts = "".join(f"<dt>{e(name)}</dt><dd>{e(value)}</dd>" for name, value in _facts(quote, deal))

    def cls(key: str) -> str:
        return ' class="n"' if key in _RIGHT else ""

    head = "".join(f"<th{cls(key)}>{e(header)}</th>" for key, header in _COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td{cls(key)}>{e(cells[key])}</td>" for key, _ in _COLUMNS) + "</tr>"
        for cells in (line_cells(line, quote.currency) for line in lines)
    )
    span = len(_COLUMNS) - 1
    foot = "".join(
        ('<tr class="total">' if name == "Total" else "<tr>")
        + f'<td colspan="{span}" class="n">{e(name)}</td><td class="n">{e(value)}</td></tr>'
        for name, value in _totals(quote)
    )
    notes = f"<p>{e(quote.notes)}</p>" if quote.notes else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{e(title)}</h1>\n<dl>{facts}</dl>\n"
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n"
        f"<tfoot>{foot}</tfoot>\n</table>\n{notes}</body>\n</html>\n"
    )


# -- JSON ---------------------------------------------------------------------


def _plain(value: Decimal) -> str:
    """``1.5``, ``100``: a decimal as text without trailing zeros or exponent."""
    return f"{value.normalize():f}"


def _amount(money: Money) -> dict[str, str]:
    return {"amount": str(money.amount), "currency": money.currency}


def line_data(line: QuoteLine, currency: str) -> dict[str, Any]:
    """One line as JSON-able data: numbers as strings, amounts with their currency."""
    return {
        "position": line.position,
        "product": line.product,
        "description": line.description,
        "quantity": _plain(line.quantity),
        "unit_price": _amount(from_minor(line.unit_price_minor, currency)),
        "discount_pct": _plain(line.discount_pct),
        "tax_pct": _plain(line.tax_pct),
        "total": _amount(from_minor(line.total_minor, currency)),
    }


def quote_document(quote: Quote, lines: Sequence[QuoteLine], deal: Deal) -> dict[str, Any]:
    """The quote as JSON-able data: numbers as strings, amounts with their currency."""
    money = quote_money(quote)
    currency = quote.currency
    return {
        "quote": quote_label(quote),
        "id": quote.id,
        "number": quote.number,
        "version": quote.version,
        "status": quote.status,
        "currency": currency,
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else None,
        "sent_at": quote.sent_at.isoformat() if quote.sent_at else None,
        "decided_at": quote.decided_at.isoformat() if quote.decided_at else None,
        "notes": quote.notes,
        "deal": {"id": deal.id, "title": deal.title},
        "lines": [line_data(line, currency) for line in lines],
        "totals": {
            "subtotal": _amount(money.subtotal),
            "discount": _amount(money.discount),
            "tax": _amount(money.tax),
            "total": _amount(money.total),
        },
    }


def render(quote: Quote, lines: Sequence[QuoteLine], deal: Deal, fmt: str) -> str:
    """``quote`` with its ``lines`` for ``deal`` as a ``markdown``, ``html`` or ``json`` text."""
    if fmt == "markdown":
        return _markdown(quote, lines, deal)
    if fmt == "html":
        return _html(quote, lines, deal)
    if fmt == "json":
        return json.dumps(quote_document(quote, lines, deal), indent=2, ensure_ascii=False) + "\n"
    raise ValidationError(
        "sales.quote", "format", f"{fmt!r} is not a format; use one of {', '.join(FORMATS)}"
    )
