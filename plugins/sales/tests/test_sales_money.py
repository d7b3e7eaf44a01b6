"""Money: exact amounts, minor units, refused input, currency mismatches and conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest
from crmkit_sales.entities import QuoteLine
from crmkit_sales.money import (
    CurrencyMismatch,
    Money,
    RateTable,
    from_minor,
    minor_units,
    parse_money,
    to_minor,
    total,
)
from hypothesis import given
from hypothesis import strategies as st

from crmkit.crm import CRM
from crmkit.errors import ValidationError


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def test_addition_is_exact_where_floats_are_not() -> None:
    assert 0.1 + 0.2 != 0.3
    assert eur("0.10") + eur("0.20") == eur("0.30")
    assert sum([eur("0.10")] * 10, Money.zero("EUR")) == eur("1.00")
    assert eur("5.00") - eur("7.25") == eur("-2.25")


@pytest.mark.parametrize(
    ("currency", "places"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3)]
)
def test_minor_units_follow_iso_4217(currency: str, places: int) -> None:
    assert minor_units(currency) == places


def test_minor_units_round_trip() -> None:
    assert to_minor(parse_money("1200.50", "EUR", entity="sales.deal", field="amount")) == 120050
    assert to_minor(parse_money("1500", "JPY", entity="sales.deal", field="amount")) == 1500
    assert to_minor(parse_money("1.234", "BHD", entity="sales.deal", field="amount")) == 1234
    assert from_minor(120050, "EUR") == eur("1200.50")
    assert str(from_minor(1500, "JPY")) == "1500 JPY"
    assert str(from_minor(5, "EUR")) == "0.05 EUR"


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_minor_units_survive_the_round_trip(minor: int, currency: str) -> None:
    assert to_minor(from_minor(minor, currency)) == minor


def test_parse_accepts_strings_ints_and_decimals() -> None:
    parsed = [
        parse_money(v, "eur", entity="sales.deal", field="amount")
        for v in ("12", 12, Decimal("12.0"), " 12.00 ")
    ]
    assert parsed == [eur("12.00")] * 4
    assert parsed[0].amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (12.5, "float"),
        ("12.345", "more decimals than EUR has (2)"),
        ("-3.00", "negative"),
        ("NaN", "not a finite amount"),
        ("twelve", "not an amount"),
    ],
)
def test_parse_refuses_what_is_not_money(value: object, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_money(value, "EUR", entity="sales.deal", field="amount")  # type: ignore[arg-type]
    assert caught.value.entity == "sales.deal"
    assert caught.value.field == "amount"
    assert words in str(caught.value)


def test_negative_amounts_when_allowed_and_yen_has_no_cents() -> None:
    refund = parse_money(
        "-3.50", "EUR", entity="sales.quote", field="discount", allow_negative=True
    )
    assert refund == eur("-3.50")
    with pytest.raises(ValidationError, match="more decimals than JPY has"):
        parse_money("100.5", "JPY", entity="sales.deal", field="amount")


def test_unknown_currency_code_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a currency"):
        parse_money("1", "euro", entity="sales.deal", field="amount")


def test_mixing_currencies_names_both_and_the_fix() -> None:
    with pytest.raises(CurrencyMismatch) as caught:
        eur("1.00") + Money(Decimal("1.00"), "USD")
    message = str(caught.value)
    assert "EUR" in message and "USD" in message
    assert "[plugins.sales.rates]" in message
    with pytest.raises(CurrencyMismatch, match=r"EUR and USD.*\[plugins\.sales\.rates\]"):
        total([eur("1.00"), Money(Decimal("2.00"), "USD")])


def test_conversion_rounds_half_even_to_the_target_currency() -> None:
    rates = RateTable(base="EUR", rates={"USD": "0.92", "JPY": "0.0061"})
    assert rates.convert(Money(Decimal("100.00"), "USD"), "EUR") == eur("92.00")
    # 0.05 USD = 0.046 EUR -> 0.05; 0.025 EUR exactly halfway rounds to the even cent.
    assert rates.convert(Money(Decimal("0.05"), "USD"), "EUR") == eur("0.05")
    half = RateTable(base="EUR", rates={"USD": "0.5"})
    assert half.convert(Money(Decimal("0.05"), "USD"), "EUR") == eur("0.02")
    assert half.convert(Money(Decimal("0.07"), "USD"), "EUR") == eur("0.04")
    # Cross rate through the base: 92.00 EUR in yen, no fractions of a yen.
    assert rates.convert(eur("92.00"), "JPY") == Money(Decimal("15082"), "JPY")
    assert rates.convert(eur("3.00"), "EUR") == eur("3.00")


def test_total_converts_with_rates_and_names_a_missing_rate() -> None:
    rates = RateTable(base="EUR", rates={"USD": "0.92"})
    amounts = [eur("8.00"), Money(Decimal("100.00"), "USD")]
    assert total(amounts, currency="EUR", rates=rates) == eur("100.00")
    assert total(amounts, currency="USD", rates=rates) == Money(Decimal("108.70"), "USD")
    assert total([], currency="EUR") == eur("0.00")
    with pytest.raises(ValidationError, match=r'no exchange rate from GBP to EUR.*GBP = "<rate>"'):
        total([Money(Decimal("1.00"), "GBP")], currency="EUR", rates=rates)


def test_money_refuses_floats_at_construction() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        Money(1.5, "EUR")  # type: ignore[arg-type]


def test_amounts_and_percentages_are_stored_exactly(crm: CRM) -> None:
    price = parse_money("90071992547409.93", "EUR", entity="sales.quote_line", field="unit_price")
    line = QuoteLine(
        quote_id="q-1",
        position=1,
        product="engine",
        quantity=Decimal("2.5"),
        unit_price_minor=to_minor(price),
        discount_pct=Decimal("12.345678"),
        tax_pct=Decimal("0.1"),
    )
    etype = crm.entity_type("sales.quote_line")
    with crm.unit_of_work() as uow:
        uow.tx.add(etype, etype.to_row(line))
    with crm.unit_of_work() as uow:
        stored = uow.tx.get(etype, line.id)
    assert stored is not None
    assert from_minor(stored["unit_price_minor"], "EUR") == price
    assert stored["quantity"] == Decimal("2.5")
    assert stored["discount_pct"] == Decimal("12.345678")
    assert stored["tax_pct"] == Decimal("0.1")
