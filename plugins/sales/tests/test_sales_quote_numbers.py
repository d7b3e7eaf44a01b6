"""Quote numbers and versions are unique in the database, on SQLite and PostgreSQL.

Two users adding or revising quotes at the same moment both read the same
highest number (or the same latest version) before either writes. The tests
play the later writer: the number it read is made stale by storing the other
writer's quote first, and the database must refuse the second
``Q-00001v1`` with a clear error and nothing else written.
"""

from __future__ import annotations

import pytest
from crmkit_sales import quotes as quotes_module
from crmkit_sales.deals import Deals
from crmkit_sales.entities import Deal, Quote
from crmkit_sales.quotes import Quotes

from crmkit.crm import CRM
from crmkit.errors import ValidationError
from crmkit.storage.base import StorageReader


def _deal(crm: CRM) -> Deal:
    person = crm.contacts.add(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    return Deals(crm).add(title="Analytical Engine", amount="5000", contact=person.id)


def _stored(crm: CRM) -> tuple[int, int, int, int]:
    """How many quotes, quote lines, quote events and timeline entries are stored."""
    with crm.backend.read() as reader:
        quotes = reader.count(crm.entity_type("sales.quote"))
        lines = reader.count(crm.entity_type("sales.quote_line"))
        activities = reader.count(crm.entity_type("interaction"))
    events = sum(1 for e in crm.events.read() if e.name.startswith("sales.quote."))
    return quotes, lines, events, activities


def test_every_quote_version_stores_its_number_and_version_as_its_label(crm: CRM) -> None:
    quotes = Quotes(crm)
    first = quotes.add(_deal(crm).id)
    quotes.add_line(first.id, product="Mill", quantity=1, unit_price="100")
    quotes.send(first.id)
    revised = quotes.revise(first.number)
    assert [q.label for q in quotes.list()] == ["Q-00001v1", "Q-00001v2"]
    assert quotes.get(revised.label).id == revised.id


def test_a_number_taken_at_the_same_moment_is_refused_and_nothing_is_written(
    crm: CRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    quotes = Quotes(crm)
    deal = _deal(crm)
    taken = quotes.add(deal.id)
    before = _stored(crm)

    def read_before_the_other_writer(reader: StorageReader, crm: CRM) -> str:
        return taken.number

    monkeypatch.setattr(quotes_module, "next_number", read_before_the_other_writer)
    with pytest.raises(ValidationError) as refused:
        quotes.add(deal.id, notes="second writer")

    error = refused.value
    assert (error.entity, error.field, error.record) == ("sales.quote", "number", "Q-00001v1")
    assert str(error) == (
        "sales.quote Q-00001v1: field 'number': someone else numbered a quote Q-00001v1 "
        "at the same moment; try again"
    )
    assert _stored(crm) == before
    assert [q.id for q in quotes.list()] == [taken.id]
    monkeypatch.undo()
    assert quotes.add(deal.id).label == "Q-00002v1"


def test_a_version_revised_at_the_same_moment_is_refused_and_nothing_is_written(
    crm: CRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    quotes = Quotes(crm)
    first = quotes.add(_deal(crm).id)
    quotes.add_line(first.id, product="Mill", quantity=2, unit_price="100")
    quotes.send(first.id)
    other = quotes.revise(first.number, notes="first writer")
    before = _stored(crm)

    def no_newer_version_yet(reader: StorageReader, crm: CRM, quote: Quote) -> Quote | None:
        return None

    monkeypatch.setattr(quotes_module, "newer_version", no_newer_version_yet)
    with pytest.raises(ValidationError, match="someone else numbered a quote Q-00001v2") as refused:
        quotes.revise(first.label, notes="second writer")

    assert refused.value.record == "Q-00001v2"
    assert _stored(crm) == before
    assert quotes.get("Q-00001v2").id == other.id
    assert quotes.get("Q-00001v2").notes == "first writer"
