"""Quotes: numbering, priced lines and their rounding, versions and every status change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from crmkit_sales.deals import Deals
from crmkit_sales.entities import Deal, QuoteLine
from crmkit_sales.quotes import Quotes, line_amounts, quote_money, quote_totals
from hypothesis import given
from hypothesis import strategies as st

from crmkit.crm import CRM
from crmkit.errors import NotFound, PolicyDenied, ValidationError
from crmkit.testing.clock import Clock


def _deal(crm: CRM, *, currency: str | None = None, contact: bool = True) -> Deal:
    person = crm.contacts.add(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    return Deals(crm).add(
        title="Analytical Engine",
        amount="5000",
        currency=currency,
        contact=person.id if contact else None,
    )


def _rows(crm: CRM, entity: str) -> int:
    with crm.backend.read() as reader:
        return reader.count(crm.entity_type(entity))


def _events(crm: CRM) -> list[str]:
    return [e.name for e in crm.events.read() if e.name.startswith("sales.quote.")]


# -- numbering and lookup ------------------------------------------------------


def test_quotes_are_numbered_in_order_as_drafts_in_the_deal_currency(crm: CRM) -> None:
    deal = _deal(crm, currency="USD")
    quotes = Quotes(crm)
    first = quotes.add(deal.id, notes="Net 30")
    second = quotes.add(deal.id, currency="eur")
    assert (first.number, first.version, first.status) == ("Q-00001", 1, "draft")
    assert (first.currency, first.notes, first.total_minor) == ("USD", "Net 30", 0)
    assert (second.number, second.currency) == ("Q-00002", "EUR")


def test_a_quote_is_found_by_id_number_or_number_and_version(crm: CRM) -> None:
    deal = _deal(crm)
    quotes = Quotes(crm)
    first = quotes.add(deal.id)
    quotes.add_line(first.id, product="Mill", quantity=1, unit_price="100")
    quotes.send(first.id)
    second = quotes.revise(first.number)
    assert quotes.get(first.id).version == 1
    assert quotes.get("Q-00001").id == second.id
    assert quotes.get("q-00001v1").id == first.id
    assert quotes.get("Q-00001v2").id == second.id
    for missing in ("Q-00009", "Q-00001v3", "no-such-id"):
        with pytest.raises(NotFound, match=missing):
            quotes.get(missing)


def test_a_quote_needs_an_existing_open_deal(crm: CRM) -> None:
    deal = _deal(crm)
    with pytest.raises(NotFound):
        Quotes(crm).add("no-such-deal")
    Deals(crm).lose(deal.id, reason="went elsewhere")
    with pytest.raises(ValidationError, match="lost") as refused:
        Quotes(crm).add(deal.id)
    assert refused.value.field == "status"
    assert _rows(crm, "sales.quote") == 0


def test_a_past_valid_until_is_refused(crm: CRM, crmkit_clock: Clock) -> None:
    deal = _deal(crm)
    with pytest.raises(ValidationError, match="2025-12-31 is in the past") as refused:
        Quotes(crm).add(deal.id, valid_until="2025-12-31")
    assert refused.value.field == "valid_until"
    assert Quotes(crm).add(deal.id, valid_until="2026-01-01").valid_until == dt.date(2026, 1, 1)


# -- totals and rounding -------------------------------------------------------


def test_totals_match_hand_computed_values(crm: CRM) -> None:
    deal = _deal(crm)
    quotes = Quotes(crm)
    quote = quotes.add(deal.id)
    line = quotes.add_line(
        quote.id,
        product="Mill",
        quantity="3",
        unit_price="19.99",
        discount_pct="10",
        tax_pct="20",
        description="Brass, hand-finished",
    )
    # gross 3 x 19.99 = 59.97; after 10 % off 53.973 -> 53.97; tax 20 % 10.794 -> 10.79
    assert (line.position, line.total_minor, line.description) == (1, 5397, "Brass, hand-finished")
    # Trailing zeros are not decimal places: 2.000000000 is 2.
    quotes.add_line(quote.id, product="Manual", quantity="2.000000000", unit_price=Decimal("12.50"))
    money = quote_money(quotes.get(quote.id))
    assert money.subtotal.amount == Decimal("59.97") + Decimal("25.00")
    assert money.discount.amount == Decimal("6.00")
    assert money.tax.amount == Decimal("10.79")
    assert money.total.amount == Decimal("89.76")
    assert money.total.currency == "EUR"
    stored = quotes.lines(quote.id)
    assert [(li.position, li.product, li.quantity) for li in stored] == [
        (1, "Mill", Decimal(3)),
        (2, "Manual", Decimal(2)),
    ]


def test_each_line_is_rounded_half_even_on_its_own(crm: CRM) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    for _ in range(3):
        # 0.5 x 0.05 = 0.025 -> 0.02 (half-even; half-up would give 0.03)
        quotes.add_line(quote.id, product="Screw", quantity="0.5", unit_price="0.05")
    # 0.5 x 0.07 = 0.035 -> 0.04
    quotes.add_line(quote.id, product="Nut", quantity="0.5", unit_price="0.07")
    totals = quotes.get(quote.id)
    # Rounding the sum once would give 0.075 + 0.035 = 0.11; per line it is 0.06 + 0.04.
    assert (totals.subtotal_minor, totals.total_minor) == (10, 10)
    assert [li.total_minor for li in quotes.lines(quote.id)] == [2, 2, 2, 4]


def test_the_discounted_line_total_is_rounded_once(crm: CRM) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    # 0.15 at 10 % off: 0.135 -> 0.14 (half-even). Rounding the discount first
    # (0.015 -> 0.02) and taking it off the gross would give 0.13.
    line = quotes.add_line(quote.id, product="Pin", quantity=1, unit_price="0.15", discount_pct=10)
    assert line.total_minor == 14
    stored = quotes.get(quote.id)
    assert (stored.subtotal_minor, stored.discount_minor, stored.total_minor) == (15, 1, 14)


def test_tax_is_rounded_per_line(crm: CRM) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    for _ in range(2):
        quotes.add_line(quote.id, product="Cog", quantity=1, unit_price="0.25", tax_pct=10)
    stored = quotes.get(quote.id)
    # 0.025 tax per line -> 0.02 each: 0.04, where tax on the sum (0.05) would be 0.05.
    assert (stored.tax_minor, stored.total_minor) == (4, 54)


def test_currencies_without_cents_are_kept_in_whole_units(crm: CRM) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm, currency="JPY").id)
    quotes.add_line(quote.id, product="Gear", quantity=3, unit_price="1005", tax_pct=10)
    money = quote_money(quotes.get(quote.id))
    assert (money.subtotal.amount, money.tax.amount, money.total.amount) == (
        Decimal(3015),
        Decimal(302),  # 301.5 -> 302 (half-even)
        Decimal(3317),
    )
    with pytest.raises(ValidationError, match="more decimals than JPY"):
        quotes.add_line(quote.id, product="Gear", quantity=1, unit_price="10.5")


_line_values = st.tuples(
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10_000), places=3),
    st.integers(min_value=0, max_value=10_000_000),
    st.decimals(min_value=0, max_value=100, places=2),
    st.decimals(min_value=0, max_value=100, places=2),
)


@given(st.lists(_line_values, min_size=1, max_size=8))
def test_quote_totals_add_up_from_the_rounded_lines(values: list[Any]) -> None:
    lines = [
        QuoteLine(
            quote_id="q",
            position=n,
            product="p",
            quantity=quantity,
            unit_price_minor=price,
            discount_pct=discount,
            tax_pct=tax,
        )
        for n, (quantity, price, discount, tax) in enumerate(values, start=1)
    ]
    totals = quote_totals(lines)
    amounts = [
        line_amounts(li.quantity, li.unit_price_minor, li.discount_pct, li.tax_pct) for li in lines
    ]
    for li, amount in zip(lines, amounts, strict=True):
        exact_total = li.quantity * li.unit_price_minor * (100 - li.discount_pct) / 100
        assert abs(amount.total_minor - exact_total) <= Decimal("0.5")
        assert 0 <= amount.total_minor <= amount.gross_minor
        assert abs(amount.tax_minor - amount.total_minor * li.tax_pct / 100) <= Decimal("0.5")
    assert totals.total_minor == sum(a.total_minor + a.tax_minor for a in amounts)
    assert totals.subtotal_minor - totals.discount_minor == sum(a.total_minor for a in amounts)


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"quantity": 1.5}, "quantity", "float"),
        ({"quantity": "0"}, "quantity", "give more than 0 and at most 1,000,000,000"),
        ({"quantity": "-2"}, "quantity", "out of range"),
        ({"quantity": "1000000001"}, "quantity", "out of range"),
        ({"quantity": "two"}, "quantity", "not a number"),
        ({"quantity": "1.0000001"}, "quantity", "decimal places"),
        ({"unit_price": 9.99}, "unit_price", "float"),
        ({"unit_price": "-1"}, "unit_price", "negative"),
        ({"unit_price": "1.999"}, "unit_price", "more decimals than EUR"),
        ({"discount_pct": "100.5"}, "discount_pct", "from 0 to 100"),
        ({"discount_pct": 0.1}, "discount_pct", "float"),
        ({"tax_pct": "-1"}, "tax_pct", "from 0 to 100"),
        ({"product": "  "}, "product", "needs a product"),
    ],
)
def test_bad_line_values_are_refused_naming_quote_line_and_field(
    crm: CRM, changes: dict[str, Any], field: str, message: str
) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    quotes.add_line(quote.id, product="Mill", quantity=1, unit_price="100")
    before = (_events(crm), quotes.get(quote.id).total_minor)
    values: dict[str, Any] = {"product": "Gear", "quantity": 2, "unit_price": "10", **changes}
    with pytest.raises(ValidationError, match=message) as refused:
        quotes.add_line(quote.id, **values)
    assert refused.value.entity == "sales.quote_line"
    assert refused.value.field == field
    assert refused.value.record == "Q-00001v1 line 2"
    assert "Q-00001v1 line 2" in str(refused.value)
    assert _rows(crm, "sales.quote_line") == 1
    assert (_events(crm), quotes.get(quote.id).total_minor) == before


def test_a_restricted_contact_is_refused_and_nothing_is_written(crm: CRM) -> None:
    deal = _deal(crm)
    assert deal.contact_id is not None
    crm.privacy.restrict(deal.contact_id, reason="disputes the data")
    with pytest.raises(PolicyDenied):
        Quotes(crm).add(deal.id)
    assert _rows(crm, "sales.quote") == 0
    assert _events(crm) == []


# -- lines on drafts -------------------------------------------------------------


def test_removing_a_line_renumbers_the_rest_and_recomputes_totals(crm: CRM) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    for product, price in (("A", "1"), ("B", "10"), ("C", "100")):
        quotes.add_line(quote.id, product=product, quantity=1, unit_price=price)
    updated = quotes.remove_line(quote.number, 2)
    assert updated.total_minor == 10100
    assert quotes.get(quote.id).total_minor == 10100
    assert [(li.position, li.product) for li in quotes.lines(quote.id)] == [(1, "A"), (2, "C")]
    with pytest.raises(NotFound, match="line 3"):
        quotes.remove_line(quote.number, 3)


def test_lines_change_only_on_drafts(crm: CRM) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    quotes.add_line(quote.id, product="A", quantity=1, unit_price="5")
    quotes.send(quote.id)
    with pytest.raises(ValidationError, match=r"the quote is sent; .*only on a draft\. Revise"):
        quotes.add_line(quote.id, product="B", quantity=1, unit_price="5")
    with pytest.raises(ValidationError, match="the quote is sent"):
        quotes.remove_line(quote.id, 1)
    assert len(quotes.lines(quote.id)) == 1
    assert quotes.get(quote.id).total_minor == 500


# -- status changes ------------------------------------------------------------


def test_send_then_accept_stamps_the_times(crm: CRM, crmkit_clock: Clock) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    quotes.add_line(quote.id, product="A", quantity=1, unit_price="5")
    sent = quotes.send(quote.id)
    assert (sent.status, sent.sent_at) == ("sent", crmkit_clock.now)
    later = crmkit_clock.advance(days=2)
    accepted = quotes.accept(quote.number)
    assert (accepted.status, accepted.decided_at) == ("accepted", later)
    stored = quotes.get(quote.id)
    assert (stored.status, stored.sent_at, stored.decided_at) == ("accepted", sent.sent_at, later)
    assert _events(crm) == [
        "sales.quote.created",
        "sales.quote.line_added",
        "sales.quote.sent",
        "sales.quote.accepted",
    ]


def test_reject_records_the_decision(crm: CRM) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    quotes.add_line(quote.id, product="A", quantity=1, unit_price="5")
    quotes.send(quote.id)
    rejected = quotes.reject(quote.id)
    assert rejected.status == "rejected"
    assert rejected.decided_at is not None
    assert quotes.get(quote.id).status == "rejected"


def test_sending_a_quote_without_lines_is_refused(crm: CRM) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    with pytest.raises(ValidationError, match="no lines") as refused:
        quotes.send(quote.id)
    assert refused.value.field == "lines"
    assert quotes.get(quote.id).status == "draft"


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        ((), "accept", "the quote is draft; only a sent quote can be accepted"),
        ((), "reject", "the quote is draft; only a sent quote can be rejected"),
        (("send",), "send", "the quote is sent; only a draft quote can be sent"),
        (("send", "accept"), "accept", "the quote is accepted; only a sent quote"),
        (("send", "accept"), "reject", "the quote is accepted; only a sent quote"),
        (("send", "reject"), "accept", "the quote is rejected; only a sent quote"),
    ],
)
def test_illegal_status_changes_are_refused_naming_the_status(
    crm: CRM, steps: tuple[str, ...], action: str, message: str
) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    quotes.add_line(quote.id, product="A", quantity=1, unit_price="5")
    for step in steps:
        getattr(quotes, step)(quote.id)
    before = quotes.get(quote.id)
    with pytest.raises(ValidationError, match=message) as refused:
        getattr(quotes, action)(quote.id)
    assert (refused.value.field, refused.value.record) == ("status", "Q-00001v1")
    assert quotes.get(quote.id) == before


# -- versions --------------------------------------------------------------------


def test_revising_copies_the_lines_into_a_new_draft_and_keeps_the_old_version(
    crm: CRM,
) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id, valid_until="2099-01-31", notes="Net 30")
    quotes.add_line(quote.id, product="A", quantity="1.5", unit_price="10", tax_pct="19")
    quotes.add_line(quote.id, product="B", quantity=2, unit_price="3", discount_pct=50)
    sent = quotes.send(quote.id)
    revised = quotes.revise(quote.number, valid_until="2099-02-28")
    assert (revised.number, revised.version, revised.status) == ("Q-00001", 2, "draft")
    assert (revised.valid_until, revised.notes) == (dt.date(2099, 2, 28), "Net 30")
    assert (revised.sent_at, revised.total_minor) == (None, sent.total_minor)
    old_lines, new_lines = quotes.lines(quote.id), quotes.lines(revised.id)

    def shape(line: QuoteLine) -> tuple[Any, ...]:
        return (
            line.position,
            line.product,
            line.quantity,
            line.unit_price_minor,
            line.discount_pct,
            line.tax_pct,
            line.total_minor,
        )

    assert [shape(li) for li in new_lines] == [shape(li) for li in old_lines]
    assert {li.quote_id for li in new_lines} == {revised.id}
    # The new draft changes; the sent version stays exactly as it was.
    quotes.add_line(revised.id, product="C", quantity=1, unit_price="1")
    assert quotes.get(quote.id) == sent
    assert len(quotes.lines(quote.id)) == 2
    assert quotes.get(revised.id).total_minor == sent.total_minor + 100
    assert "sales.quote.revised" in _events(crm)


def test_an_older_version_cannot_be_accepted_or_revised(crm: CRM) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    quotes.add_line(quote.id, product="A", quantity=1, unit_price="5")
    quotes.send(quote.id)
    quotes.revise(quote.id)
    with pytest.raises(ValidationError, match="Q-00001v2 replaced this version") as refused:
        quotes.accept("Q-00001v1")
    assert refused.value.field == "version"
    with pytest.raises(ValidationError, match="Q-00001v2 is newer"):
        quotes.revise("Q-00001v1")
    assert quotes.get("Q-00001v1").status == "sent"
    assert quotes.reject("Q-00001v1").status == "rejected"


def test_accepting_a_version_leaves_the_others_alone(crm: CRM) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    quotes.add_line(quote.id, product="A", quantity=1, unit_price="5")
    quotes.send(quote.id)
    quotes.reject(quote.id)
    second = quotes.revise(quote.number)
    quotes.send(second.id)
    assert quotes.accept(quote.number).id == second.id
    assert [(q.version, q.status) for q in quotes.list()] == [(1, "rejected"), (2, "accepted")]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ((), "the quote is draft; only a sent, rejected, expired quote can be revised"),
        (("send", "accept"), "an accepted quote is final"),
    ],
)
def test_drafts_and_accepted_quotes_are_not_revised(
    crm: CRM, steps: tuple[str, ...], message: str
) -> None:
    quotes = Quotes(crm)
    quote = quotes.add(_deal(crm).id)
    quotes.add_line(quote.id, product="A", quantity=1, unit_price="5")
    for step in steps:
        getattr(quotes, step)(quote.id)
    with pytest.raises(ValidationError, match=message):
        quotes.revise(quote.id)
    assert len(quotes.list()) == 1


# -- expiry ----------------------------------------------------------------------


def test_sent_quotes_past_valid_until_expire(crm: CRM, crmkit_clock: Clock) -> None:
    quotes = Quotes(crm)
    deal = _deal(crm)
    made = []
    for valid_until in ("2026-01-10", "2026-01-20", None, "2026-01-05"):
        quote = quotes.add(deal.id, valid_until=valid_until)
        quotes.add_line(quote.id, product="A", quantity=1, unit_price="5")
        made.append(quote)
    for quote in made[:3]:
        quotes.send(quote.id)  # the last one stays a draft
    crmkit_clock.set(dt.datetime(2026, 1, 11, 9, 0, tzinfo=dt.UTC))
    assert quotes.expire_due() == 1
    assert [quotes.get(q.id).status for q in made] == ["expired", "sent", "sent", "draft"]
    assert quotes.expire_due(dt.date(2026, 1, 20)) == 0  # valid through its last day
    assert quotes.expire_due(dt.date(2026, 1, 21)) == 1
    assert quotes.expire_due(dt.date(2026, 1, 21)) == 0
    assert _events(crm).count("sales.quote.expired") == 2
    revised = quotes.revise(made[0].id, valid_until="2026-02-28")
    assert (revised.version, revised.status) == (2, "draft")


def test_a_sent_quote_past_its_valid_until_cannot_be_accepted(
    crm: CRM, crmkit_clock: Clock
) -> None:
    quotes = Quotes(crm)
    deal = _deal(crm)
    first = quotes.add(deal.id, valid_until="2026-01-10")
    second = quotes.add(deal.id, valid_until="2026-01-10")
    for quote in (first, second):
        quotes.add_line(quote.id, product="A", quantity=1, unit_price="5")
        quotes.send(quote.id)
    crmkit_clock.set(dt.datetime(2026, 1, 10, 23, 0, tzinfo=dt.UTC))
    assert quotes.accept(first.number).status == "accepted"  # its last day still counts
    crmkit_clock.set(dt.datetime(2026, 1, 11, 8, 0, tzinfo=dt.UTC))
    with pytest.raises(ValidationError, match="valid until 2026-01-10") as refused:
        quotes.accept(second.number)
    assert refused.value.field == "valid_until"
    assert "revise it" in str(refused.value)
    assert "Q-00002" in str(refused.value)
    stored = quotes.get(second.id)
    assert (stored.status, stored.decided_at) == ("sent", None)
    assert _events(crm).count("sales.quote.accepted") == 1
    revised = quotes.revise(second.number, valid_until="2026-01-31")
    quotes.send(revised.id)
    assert quotes.accept(second.number).status == "accepted"
    assert quotes.get("Q-00002v1").status == "sent"


# -- listing and the timeline ------------------------------------------------------


def test_list_filters_by_deal_and_status(crm: CRM) -> None:
    quotes = Quotes(crm)
    deal = _deal(crm)
    other = Deals(crm).add(title="Difference Engine", amount="100")
    first = quotes.add(deal.id)
    quotes.add_line(first.id, product="A", quantity=1, unit_price="5")
    quotes.send(first.id)
    quotes.add(other.id)
    quotes.add(deal.id)
    assert [q.number for q in quotes.list()] == ["Q-00001", "Q-00002", "Q-00003"]
    assert [q.number for q in quotes.list(deal=deal.id)] == ["Q-00001", "Q-00003"]
    assert [q.number for q in quotes.list(status="draft")] == ["Q-00002", "Q-00003"]
    assert [q.number for q in quotes.list(deal=deal.id, status="sent")] == ["Q-00001"]
    with pytest.raises(ValidationError, match="use one of draft, sent"):
        quotes.list(status="lost")
    with pytest.raises(NotFound):
        quotes.list(deal="no-such-deal")


def test_quote_steps_reach_the_contacts_timeline(crm: CRM) -> None:
    deal = _deal(crm)
    quotes = Quotes(crm)
    quote = quotes.add(deal.id)
    quotes.add_line(quote.id, product="A", quantity=2, unit_price="1250")
    quotes.send(quote.id)
    assert deal.contact_id is not None
    timeline = crm.interactions.timeline(deal.contact_id)
    kinds = [i.kind for i in timeline]
    assert kinds[:3] == ["quote.sent", "quote.line_added", "quote.created"]
    sent = timeline[0]
    assert (sent.source, sent.channel) == ("sales", "system")
    assert sent.summary is not None and "Q-00001v1" in sent.summary
    assert "2,500.00 EUR" in sent.summary
    assert sent.payload["total"] == "2500.00"
