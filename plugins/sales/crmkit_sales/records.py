"""What every kind of sales record shares: days, money as text, filters, policy, references.

Deals, leads, quotes and tasks read days the same way, print amounts the same
way, combine their list filters the same way and ask the privacy policy the
same way before writing about a person; those pieces live here once. When a
record is named by something other than its id (a deal by its title, a lead by
its email) and several records carry that name, :func:`ambiguous` builds the
error that lists them, so the user can pick the id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from crmkit.errors import ValidationError
from crmkit.storage.query import AllOf, Filter

if TYPE_CHECKING:
    from crmkit.uow import UnitOfWork
    from crmkit_sales.money import Money

PURPOSE = "sales"
"""The processing purpose every sales write is asked under."""


def parse_date(value: dt.date | str | None, *, entity: str, field: str) -> dt.date | None:
    """A calendar day from a ``date`` or ISO text (``2026-03-31``); ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise ValidationError(entity, field, f"{value!r} is a time; give a day (YYYY-MM-DD)")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise ValidationError(
            entity, field, f"{value!r} is not a date; write it as YYYY-MM-DD"
        ) from None


def format_money(money: Money) -> str:
    """``12,500.00 EUR``: thousands separators, the currency's decimals, its code."""
    return f"{money.amount:,} {money.currency}"


def all_of(conds: Sequence[Filter]) -> Filter | None:
    """The filters joined with AND: ``None`` for none, the filter itself for one."""
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else AllOf(tuple(conds))


def require_contact_write(uow: UnitOfWork, contact_id: str | None, entity: str) -> None:
    """Ask the policy before writing about a person (erased or restricted: PolicyDenied).

    Nothing is asked when the record concerns no contact.
    """
    if contact_id is not None:
        uow.crm.privacy.require(
            "write",
            actor=uow.actor,
            subject_id=contact_id,
            entity=entity,
            purpose=PURPOSE,
            uow=uow,
        )


def ambiguous(
    entity: str, field: str, ref: str, matches: Sequence[tuple[str, str]]
) -> ValidationError:
    """The error for a name several records carry: each match's id and state, and the fix.

    ``matches`` holds ``(id, state)`` pairs, the state being what tells the
    records apart to a person (a deal's stage, a lead's status).
    """
    listed = "; ".join(f"{record_id} ({state})" for record_id, state in matches)
    kind = entity.removeprefix("sales.")
    return ValidationError(
        entity,
        field,
        f"{len(matches)} {kind}s match {ref!r}: {listed}; give the id of the one you mean",
    )
