"""Money for sales: exact Decimal amounts with a currency, minor units, and exchange rates.

Amounts are never floats. Records store whole minor units (``amount_minor``,
cents for EUR) next to the currency; :func:`to_minor` and :func:`from_minor`
move between the two. Adding amounts of different currencies is refused with
:class:`CurrencyMismatch` unless a :class:`RateTable` (the project's
``[plugins.sales.rates]``) converts them, rounding half-even to the target
currency's minor units.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import attrs

from crmkit.errors import ValidationError

CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
RATES_FIX = (
    'add [plugins.sales.rates] to crmkit.toml with base = "<currency>" and one rate per '
    'other currency (e.g. USD = "0.92")'
)

# ISO 4217 currencies whose minor unit is not the usual hundredth.
_EXPONENTS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}


def minor_units(currency: str) -> int:
    """How many decimals ``currency`` has (ISO 4217): 0 for JPY/KRW, 3 for BHD..., else 2."""
    return _EXPONENTS.get(currency.upper(), 2)


def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def check_currency(currency: str, *, entity: str = "sales.deal", field: str = "currency") -> str:
    """``currency`` as an upper-case ISO 4217 code; else an error naming ``entity.field``."""
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if not CURRENCY_CODE.match(code):
        raise ValidationError(
            entity, field, f"{currency!r} is not a currency; use a 3-letter ISO 4217 code like EUR"
        )
    return code


class CurrencyMismatch(ValidationError):
    """Amounts in two currencies were combined without exchange rates to convert them."""

    def __init__(
        self, first: str, second: str, *, entity: str = "sales.deal", field: str = "currency"
    ) -> None:
        self.currencies = (first, second)
        super().__init__(
            entity,
            field,
            f"cannot combine amounts in {first} and {second} without exchange rates; {RATES_FIX}",
        )


def _validate_amount(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"Money amount must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"Money amount must be a finite number, not {value}")


@attrs.frozen
class Money:
    """An exact amount in one currency: ``Money(Decimal("19.99"), "EUR")``.

    ``+`` and ``-`` work within one currency and raise :class:`CurrencyMismatch`
    across currencies; ``sum()`` works from :meth:`zero`.
    """

    amount: Decimal = attrs.field(validator=_validate_amount)
    currency: str = attrs.field(converter=check_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """No money in ``currency`` (a start value for sums)."""
        return cls(Decimal(0).quantize(_quantum(currency)), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __radd__(self, other: object) -> Money:
        if isinstance(other, int) and other == 0:  # sum() starts from 0
            return self
        return NotImplemented

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self) -> Money:
        """This amount rounded half-even to the currency's minor units."""
        return Money(
            self.amount.quantize(_quantum(self.currency), rounding=ROUND_HALF_EVEN), self.currency
        )

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def parse_money(
    value: Decimal | str | int,
    currency: str,
    *,
    entity: str,
    field: str,
    allow_negative: bool = False,
) -> Money:
    """Read an amount a user gave (``"1200.50"``, ``Decimal``, ``int``) as :class:`Money`.

    Refused with a :class:`~crmkit.errors.ValidationError` naming ``entity`` and
    ``field``: floats (they cannot hold cents exactly), text that is not a
    number, NaN and infinities, more decimals than the currency has, and
    negative amounts unless ``allow_negative``. The result carries exactly the
    currency's number of decimals.
    """
    code = check_currency(currency, entity=entity, field="currency")
    if isinstance(value, bool | float):
        raise ValidationError(
            entity,
            field,
            f"{value!r} is a {type(value).__name__}; give the amount as a decimal string "
            'like "19.99" (floats cannot hold money exactly)',
        )
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            raise ValidationError(
                entity, field, f"{value!r} is not an amount; write it like 1200.50"
            ) from None
    else:
        raise ValidationError(
            entity, field, f"{value!r} is not an amount; give a decimal string like 1200.50"
        )
    if not amount.is_finite():
        raise ValidationError(entity, field, f"{value!r} is not a finite amount")
    quantum = _quantum(code)
    exact = amount.quantize(quantum, rounding=ROUND_HALF_EVEN)
    if exact != amount:
        places = minor_units(code)
        raise ValidationError(
            entity,
            field,
            f"{value} has more decimals than {code} has ({places}); "
            f"round it to {places} decimal place{'s' if places != 1 else ''}",
        )
    if exact < 0 and not allow_negative:
        raise ValidationError(entity, field, f"{value} is negative; give 0 or more")
    return Money(exact, code)


def to_minor(money: Money) -> int:
    """``money`` in whole minor units (19.99 EUR -> 1999); refuses fractions of a minor unit."""
    scaled = money.amount.scaleb(minor_units(money.currency))
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            "sales.money",
            "amount",
            f"{money} has more decimals than {money.currency} has; round it first "
            "(Money.rounded())",
        )
    return int(scaled)


def from_minor(minor: int, currency: str) -> Money:
    """Whole minor units back to :class:`Money` (1999, "EUR" -> 19.99 EUR)."""
    code = check_currency(currency)
    return Money(Decimal(minor).scaleb(-minor_units(code)).quantize(_quantum(code)), code)


def _rate_map(rates: Mapping[str, Decimal | str | int]) -> dict[str, Decimal]:
    parsed: dict[str, Decimal] = {}
    for code, rate in rates.items():
        name = check_currency(code, entity="sales.rates", field=code)
        if isinstance(rate, float | bool):
            raise ValidationError(
                "sales.rates", code, f'{rate!r}: give the rate as a decimal string like "0.92"'
            )
        try:
            value = Decimal(rate)
        except InvalidOperation:
            raise ValidationError(
                "sales.rates", code, f'{rate!r} is not a rate; write it like "0.92"'
            ) from None
        if not value.is_finite() or value <= 0:
            raise ValidationError("sales.rates", code, f"{rate!r}: a rate must be more than 0")
        parsed[name] = value
    return parsed


@attrs.frozen
class RateTable:
    """Exchange rates into one base currency: ``rates["USD"] = 0.92`` means 1 USD = 0.92 base."""

    base: str = attrs.field(converter=check_currency)
    rates: dict[str, Decimal] = attrs.field(converter=_rate_map, factory=dict)

    def rate(self, currency: str) -> Decimal:
        """What one unit of ``currency`` is worth in the base currency."""
        if currency == self.base:
            return Decimal(1)
        try:
            return self.rates[currency]
        except KeyError:
            raise ValidationError(
                "sales.rates",
                currency,
                f"no exchange rate from {currency} to {self.base}; add "
                f'{currency} = "<rate>" to [plugins.sales.rates] in crmkit.toml',
            ) from None

    def convert(self, money: Money, to: str) -> Money:
        """``money`` in currency ``to``, rounded half-even to its minor units."""
        target = check_currency(to)
        if money.currency == target:
            return money
        amount = money.amount * self.rate(money.currency) / self.rate(target)
        return Money(amount, target).rounded()


def total(
    moneys: Iterable[Money], *, currency: str | None = None, rates: RateTable | None = None
) -> Money:
    """The sum of ``moneys`` in ``currency`` (default: the first amount's currency).

    Amounts in another currency are converted with ``rates``; without rates,
    mixed currencies raise :class:`CurrencyMismatch` naming both and the fix.
    """
    items = list(moneys)
    if currency is None:
        if items:
            currency = items[0].currency
        elif rates is not None:
            currency = rates.base
        else:
            raise ValidationError(
                "sales.money", "currency", "no amounts to total; pass currency= for the result"
            )
    target = check_currency(currency)
    result = Money.zero(target)
    for money in items:
        if money.currency != target:
            if rates is None:
                raise CurrencyMismatch(target, money.currency)
            money = rates.convert(money, target)
        result = result + money
    return result
