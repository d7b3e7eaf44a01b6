"""Streaming batches of new rows into a SQL table (``SqlTransaction.bulk_adder``).

Imports into an empty table hand their batches to one bulk adder: on
PostgreSQL they all go through one ``COPY``. What is stored, and what a
duplicate key does, must be what ``add_many`` per batch gives.
"""

from __future__ import annotations

from typing import Any

import pytest

import crmkit
from crmkit.entities.core import Contact
from crmkit.errors import DuplicateError


def _rows(etype: Any, names: list[str]) -> list[dict[str, Any]]:
    return [
        dict(etype.to_row(Contact(first_name=n, email=f"{n}@example.com", tags=[n])))
        for n in names
    ]


def _stream(crm: Any, batches: list[list[dict[str, Any]]], fail: bool = False) -> None:
    """Add ``batches`` through one bulk adder in one unit of work; Ctrl-C at the end if ``fail``."""
    etype = crm.entity_type("contact")
    with crm.unit_of_work() as uow, uow.tx.bulk_adder(etype) as adder:
        for batch in batches:
            assert adder.add_many(batch) == len(batch)
        if fail:
            raise KeyboardInterrupt


def test_batches_streamed_are_stored_like_add_many(sql_url: str) -> None:
    with crmkit.open(sql_url, plugins=[]) as crm:
        etype = crm.entity_type("contact")
        first, second = _rows(etype, ["ada", "alan"]), _rows(etype, ["grace"])
        _stream(crm, [first, second])
        stored = {str(c.first_name): c for c in crm.contacts.list()}
        assert sorted(stored) == ["ada", "alan", "grace"]
        assert stored["grace"].tags == ["grace"]
        assert stored["ada"].id == first[0]["id"]


def test_a_duplicate_in_a_later_batch_keeps_nothing(sql_url: str) -> None:
    with crmkit.open(sql_url, plugins=[]) as crm:
        etype = crm.entity_type("contact")
        first = _rows(etype, ["ada", "alan"])
        again = _rows(etype, ["bob"])
        again[0]["email"] = first[1]["email"]
        with pytest.raises(DuplicateError) as caught:
            _stream(crm, [first, again])
        assert caught.value.field == "email"
        assert crm.contacts.list() == []


def test_an_error_while_streaming_aborts_the_batches(sql_url: str) -> None:
    with crmkit.open(sql_url, plugins=[]) as crm:
        etype = crm.entity_type("contact")
        with pytest.raises(KeyboardInterrupt):
            _stream(crm, [_rows(etype, ["ada"])], fail=True)
        assert crm.contacts.list() == []
        crm.contacts.add(first_name="Ada")
        assert len(crm.contacts.list()) == 1
