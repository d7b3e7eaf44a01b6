"""Rendering quotes: Markdown, HTML and JSON show the lines and the stored totals."""

from __future__ import annotations

import json
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from crmkit_sales.deals import Deals
from crmkit_sales.entities import Deal, Quote, QuoteLine
from crmkit_sales.quote_render import render
from crmkit_sales.quotes import Quotes

from crmkit.crm import CRM
from crmkit.errors import ValidationError


def _priced_quote(crm: CRM) -> tuple[Quote, list[QuoteLine], Deal]:
    deal = Deals(crm).add(title="Engines & Mills", amount="20000")
    quotes = Quotes(crm)
    quote = quotes.add(deal.id, valid_until="2099-06-30", notes="Delivery in 6 weeks")
    quotes.add_line(
        quote.id,
        product="<b>Engine</b>",
        quantity="1.5",
        unit_price="12000",
        discount_pct="12.5",
        tax_pct="20",
        description="Model A | brass",
    )
    quotes.add_line(quote.id, product="Manual", quantity=3, unit_price="0.15", discount_pct=10)
    # Engine: 1.5 x 12,000 = 18,000.00; 12.5 % off: 15,750.00; tax 3,150.00
    # Manual: 3 x 0.15 = 0.45; 10 % off: 0.405 -> 0.40 (half-even); no tax
    return quotes.get(quote.id), quotes.lines(quote.id), deal


def test_json_has_every_line_and_the_stored_totals_as_strings(crm: CRM) -> None:
    quote, lines, deal = _priced_quote(crm)
    document = json.loads(render(quote, lines, deal, "json"))
    assert (document["quote"], document["status"], document["currency"]) == (
        "Q-00001v1",
        "draft",
        "EUR",
    )
    assert document["deal"] == {"id": deal.id, "title": "Engines & Mills"}
    assert document["valid_until"] == "2099-06-30"
    assert [line["product"] for line in document["lines"]] == ["<b>Engine</b>", "Manual"]
    engine = document["lines"][0]
    assert engine["quantity"] == "1.5"
    assert engine["unit_price"] == {"amount": "12000.00", "currency": "EUR"}
    assert (engine["discount_pct"], engine["tax_pct"]) == ("12.5", "20")
    assert engine["total"] == {"amount": "15750.00", "currency": "EUR"}
    assert document["lines"][1]["total"]["amount"] == "0.40"
    totals = {name: Decimal(value["amount"]) for name, value in document["totals"].items()}
    assert totals == {
        "subtotal": Decimal("18000.45"),
        "discount": Decimal("2250.05"),
        "tax": Decimal("3150.00"),
        "total": Decimal("18900.40"),
    }
    assert totals["total"] * 100 == quote.total_minor


def test_markdown_shows_lines_and_totals_with_thousands_separators(crm: CRM) -> None:
    quote, lines, deal = _priced_quote(crm)
    text = render(quote, lines, deal, "markdown")
    assert text.startswith("# Quote Q-00001 (version 1)\n")
    assert "- **Deal:** Engines &amp; Mills" in text
    assert "- **Valid until:** 2099-06-30" in text
    rows = [row for row in text.splitlines() if row.startswith("| 1 |")]
    assert rows == [
        "| 1 | &lt;b&gt;Engine&lt;/b&gt; | Model A \\| brass | 1.5 | 12,000.00 EUR | 12.5% "
        "| 15,750.00 EUR | 20% |"
    ]
    assert "| 2 | Manual |  | 3 | 0.15 EUR | 10% | 0.40 EUR | 0% |" in text
    assert "| Subtotal | 18,000.45 EUR |" in text
    assert "| Discount | -2,250.05 EUR |" in text
    assert "| Tax | 3,150.00 EUR |" in text
    assert "| **Total** | **18,900.40 EUR** |" in text
    assert "Delivery in 6 weeks" in text


class _Cells(HTMLParser):
    """Collects the text of every table cell and the tags seen."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.tags: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("td", "th"):
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells[-1] += data


def test_html_is_a_whole_document_with_escaped_text(crm: CRM) -> None:
    quote, lines, deal = _priced_quote(crm)
    page = render(quote, lines, deal, "html")
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    assert "&lt;b&gt;Engine&lt;/b&gt;" in page
    assert "<b>" not in page
    assert "Engines &amp; Mills" in page
    parsed = _Cells()
    parsed.feed(page)
    assert "b" not in parsed.tags
    assert {"html", "head", "title", "style", "body", "table"} <= set(parsed.tags)
    assert "<b>Engine</b>" in parsed.cells
    assert "15,750.00 EUR" in parsed.cells
    assert parsed.cells[-2:] == ["Total", "18,900.40 EUR"]


def test_an_unknown_format_is_refused(crm: CRM) -> None:
    quote, lines, deal = _priced_quote(crm)
    with pytest.raises(ValidationError, match="use one of markdown, html, json"):
        render(quote, lines, deal, "pdf")
