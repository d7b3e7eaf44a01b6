"""Filters that reach further: list elements, keys of custom fields, negation, related records.

Each is tested through the CRM on every backend; a property test checks that
SQLite answers every filter as the in-memory backend does, and that ``Not``
matches exactly the records its filter does not.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit.crm import CRM
from crmkit.errors import ValidationError
from crmkit.storage import AllOf, AnyOf, Cond, Filter, Not, Query, Related
from crmkit.storage.query import check_filter

LOYALTY = {
    "properties": {
        "tier": {"type": ["string", "null"]},
        "points": {"type": "number"},
        "member": {"type": "boolean"},
    }
}
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def crm(any_url: str) -> Iterator[CRM]:
    """A CRM whose contacts carry loyalty custom fields, on each backend."""
    with crmkit.open(any_url, plugins=[], custom_fields={"contact": LOYALTY}) as opened:
        yield opened


@pytest.fixture
def people(crm: CRM) -> dict[str, str]:
    """Four contacts by first name, with tags, custom fields and a timeline."""
    ids = {
        "Ada": crm.contacts.add(
            first_name="Ada", tags=["vip", "math"],
            custom={"tier": "gold", "points": 120, "member": True},
        ).id,
        "Grace": crm.contacts.add(
            first_name="Grace", tags=["navy"], custom={"tier": "silver", "points": 40.5},
        ).id,
        "Mary": crm.contacts.add(
            first_name="Mary", tags=["VIP"], custom={"tier": None, "member": False},
        ).id,
        "Emmy": crm.contacts.add(first_name="Emmy").id,
    }
    for name, channel, kind, days_ago in [
        ("Ada", "in_person", "purchase", 10),
        ("Grace", "in_person", "purchase", 200),
        ("Grace", "email", "note", 1),
        ("Mary", "email", "note", 3),
    ]:
        crm.interactions.log(
            ids[name], channel=channel, kind=kind, occurred_at=NOW - dt.timedelta(days=days_ago)
        )
    return ids


def names(crm: CRM, *where: Filter) -> list[str]:
    return sorted(str(c.first_name) for c in crm.contacts.list(list(where), limit=None))


def bought_within(days: int) -> Related:
    return Related(
        "interaction",
        "contact_id",
        AllOf((
            Cond("kind", "eq", "purchase"),
            Cond("occurred_at", "ge", NOW - dt.timedelta(days=days)),
        )),
    )


def test_has_finds_contacts_by_one_exact_tag(crm: CRM, people: dict[str, str]) -> None:
    assert names(crm, Cond("tags", "has", "vip")) == ["Ada"]
    assert names(crm, Cond("tags", "has", "VIP")) == ["Mary"]
    assert names(crm, Cond("tags", "has", "vip"), Cond("tags", "has", "math")) == ["Ada"]
    assert names(crm, Not(Cond("tags", "has", "vip"))) == ["Emmy", "Grace", "Mary"]
    assert crm.contacts.count([Cond("tags", "has", "nobody")]) == 0


def test_keys_of_custom_fields_compare_by_their_kind(crm: CRM, people: dict[str, str]) -> None:
    assert names(crm, Cond("custom.tier", "eq", "gold")) == ["Ada"]
    assert names(crm, Cond("custom.tier", "in", ["gold", "silver"])) == ["Ada", "Grace"]
    assert names(crm, Cond("custom.tier", "isnull", True)) == ["Emmy", "Mary"]
    assert names(crm, Cond("custom.tier", "startswith", "SIL")) == ["Grace"]
    assert names(crm, Cond("custom.points", "gt", 100)) == ["Ada"]
    assert names(crm, Cond("custom.points", "le", decimal.Decimal("40.5"))) == ["Grace"]
    assert names(crm, Cond("custom.points", "ge", 40.5)) == ["Ada", "Grace"]
    assert names(crm, Cond("custom.member", "eq", False)) == ["Mary"]
    # A key that is missing, or holds another kind, differs from any value.
    assert names(crm, Cond("custom.points", "ne", 120)) == ["Emmy", "Grace", "Mary"]
    assert names(crm, Cond("custom.tier", "eq", 1)) == []


def test_not_matches_exactly_what_its_filter_does_not(crm: CRM, people: dict[str, str]) -> None:
    # Emmy has no city: "city is Paris" is not true of her, so its negation is.
    crm.contacts.update(people["Ada"], city="Paris")
    crm.contacts.update(people["Grace"], city="London")
    assert names(crm, Not(Cond("city", "eq", "Paris"))) == ["Emmy", "Grace", "Mary"]
    assert names(crm, Not(AnyOf((Cond("city", "eq", "Paris"), Cond("city", "eq", "London"))))) == [
        "Emmy", "Mary",
    ]
    assert names(crm, Not(Not(Cond("city", "eq", "Paris")))) == ["Ada"]


def test_related_finds_contacts_by_their_interactions(crm: CRM, people: dict[str, str]) -> None:
    assert names(crm, bought_within(90)) == ["Ada"]
    assert names(crm, bought_within(365)) == ["Ada", "Grace"]
    assert names(crm, Not(bought_within(365))) == ["Emmy", "Mary"]
    assert names(crm, Related("interaction", "contact_id")) == ["Ada", "Grace", "Mary"]
    assert names(crm, Related("interaction", "contact_id", Cond("channel", "eq", "email")),
                 Cond("tags", "has", "navy")) == ["Grace"]
    assert crm.contacts.count([bought_within(365), Not(Cond("custom.tier", "eq", "gold"))]) == 1


def test_related_filters_work_in_aggregates_and_deletes(crm: CRM, people: dict[str, str]) -> None:
    contact = crm.entity_type("contact")
    interaction = crm.entity_type("interaction")
    with crm.backend.read() as reader:
        (buyers,) = reader.aggregate(contact, crmkit.storage.Aggregate(bought_within(365)))
    assert buyers == {"count": 2}
    # Interactions of contacts tagged VIP (exactly), through the contact they belong to.
    with crm.unit_of_work() as uow:
        mary = uow.tx.query(contact, Query(Cond("tags", "has", "VIP")))
        removed = uow.tx.delete_where(
            interaction, AllOf((Cond("contact_id", "eq", mary[0]["id"]),
                                Not(Cond("kind", "eq", "purchase"))))
        )
    assert removed == 1
    assert names(crm, Related("interaction", "contact_id")) == ["Ada", "Grace"]


def test_the_same_shape_with_other_values_gives_their_answer(
    crm: CRM, people: dict[str, str]
) -> None:
    # Statements are compiled once per shape; the values must stay bound per call.
    for tier, expected in [("gold", ["Ada"]), ("silver", ["Grace"]), ("bronze", [])]:
        assert names(crm, Cond("custom.tier", "eq", tier)) == expected
    for tag, expected in [("vip", ["Ada"]), ("navy", ["Grace"])]:
        assert names(crm, Not(Cond("tags", "has", tag))) == sorted(
            {"Ada", "Grace", "Mary", "Emmy"} - set(expected)
        )
    for days, expected in [(30, ["Ada"]), (365, ["Ada", "Grace"])]:
        assert names(crm, bought_within(days)) == expected


@pytest.mark.parametrize(
    ("where", "entity", "field", "words"),
    [
        (Related("invoice", "contact_id"), "contact", None, "no entity type 'invoice'"),
        (Related("interaction", "person_id"), "interaction", "person_id", "no such field"),
        (Related("interaction", "contact_id", Cond("colour", "eq", "red")), "interaction",
         "colour", "no such field"),
        (Cond("city.name", "eq", "Paris"), "contact", "city.name", "not keys"),
        (Cond("city", "has", "Paris"), "contact", "city", "list fields"),
        (Cond("custom.since", "gt", dt.date(2020, 1, 1)), "contact", "custom.since",
         "text, a number or true/false"),
        (Cond("tags", "has", None), "contact", "tags", "text, a number or true/false"),
        (Cond("custom.tier", "in", ["gold", None]), "contact", "custom.tier", "use 'isnull'"),
        (Cond("custom.tier", "lt", None), "contact", "custom.tier", "use 'isnull'"),
        (Not(Cond("nope", "eq", 1)), "contact", "nope", "no such field"),
    ],
    ids=[
        "unknown entity type", "unknown link field", "unknown field of the related type",
        "key of a text field", "has on text", "key compared with a date", "has None",
        "None among a key's values", "key ordered against None",
        "unknown field under Not",
    ],
)
def test_filters_naming_what_does_not_exist_are_refused(
    where: Filter, entity: str, field: str | None, words: str
) -> None:
    with crmkit.open("memory://", plugins=[]) as crm, pytest.raises(ValidationError) as caught:
        crm.contacts.list([where])
    assert (caught.value.entity, caught.value.field) == (entity, field)
    assert words in str(caught.value)


# -- SQLite answers as the in-memory backend does --------------------------------------

TAGS = ("vip", "VIP", "navy", "1")
RECORDS: tuple[dict[str, Any], ...] = (
    {"first_name": "a", "tags": ["vip", "navy"], "custom": {"tier": "gold", "points": 3}},
    {"first_name": "b", "tags": ["VIP"], "custom": {"tier": "silver", "points": 1.5}},
    {"first_name": "c", "tags": ["1"], "custom": {"tier": None, "points": "3"}},
    {"first_name": "d", "custom": {"member": True, "points": True}},
    {"first_name": "e", "city": "Paris"},
)

conds = st.one_of(
    st.builds(Cond, st.just("tags"), st.just("has"), st.sampled_from(TAGS)),
    st.builds(
        Cond,
        st.sampled_from(["custom.tier", "custom.points", "custom.member"]),
        st.sampled_from(["eq", "ne", "lt", "ge"]),
        st.sampled_from(["gold", "silver", 3, 1.5, "3", True]),
    ),
    st.builds(
        Cond,
        st.sampled_from(["custom.tier", "custom.points"]),
        st.sampled_from(["eq", "ne", "isnull"]),
        st.just(None),
    ),
    st.builds(
        Cond, st.just("custom.tier"), st.sampled_from(["isnull", "contains", "startswith"]),
        st.sampled_from(["", "GOL", "l", True]),
    ),
    st.builds(
        Cond, st.just("city"), st.sampled_from(["eq", "ne"]), st.sampled_from(["Paris", None])
    ),
    st.builds(
        Related, st.just("interaction"), st.just("contact_id"),
        st.one_of(st.none(), st.builds(Cond, st.just("kind"), st.just("eq"),
                                       st.sampled_from(["purchase", "note"]))),
    ),
)
filters = st.recursive(
    conds,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(AnyOf, st.tuples(inner, inner)),
        st.builds(AllOf, st.tuples(inner, inner)),
    ),
    max_leaves=6,
)


def _fill(crm: CRM) -> None:
    ids = [crm.contacts.add(**values).id for values in RECORDS]
    crm.interactions.log(ids[0], channel="email", kind="purchase")
    crm.interactions.log(ids[1], channel="email", kind="note")
    crm.interactions.log(ids[3], channel="email", kind="purchase")


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CRM, CRM]]:
    """The same records in memory and in SQLite (read only, so shared by the examples)."""
    folder: Path = tmp_path_factory.mktemp("twins")
    custom = {"contact": {"properties": {"tier": {}, "points": {}, "member": {}}}}
    with crmkit.open("memory://", plugins=[], custom_fields=custom) as memory, crmkit.open(
        f"sqlite:///{folder / 'crm.db'}", plugins=[], custom_fields=custom
    ) as sqlite:
        _fill(memory)
        _fill(sqlite)
        yield memory, sqlite


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(where=filters)
def test_sqlite_agrees_with_memory_and_not_is_the_complement(
    twins: tuple[CRM, CRM], where: Filter
) -> None:
    memory, sqlite = twins
    check_filter(memory.entity_types, "contact", where)
    every = {"a", "b", "c", "d", "e"}
    matched = names(memory, where)
    assert names(sqlite, where) == matched
    assert names(memory, Not(where)) == sorted(every - set(matched))
    assert names(sqlite, Not(where)) == sorted(every - set(matched))
