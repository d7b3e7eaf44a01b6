"""Property: a compiled segment holds exactly the contacts a Python reading of its rules picks.

Hypothesis draws a handful of contacts (city, tags, custom tier and score, a few
interactions at various ages) and a rule tree of field, tag, custom-field and
interaction rules nested in all / any / not. The storage answers the compiled
filter in SQL; :func:`expected_members` below answers the same rules by
reading the rule tree directly over the same records. The two must agree on
SQLite and PostgreSQL alike, including for missing values under ``not``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pytest
from crmkit_campaign.segments import compile_rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.crm import CRM
from crmkit.entities.core import Contact, Interaction
from crmkit.storage import Cond, Query
from crmkit.testing.crm_factory import CrmFactory

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
CITIES = ("Paris", "Lyon", "Nice", None)
TAGS = ("newsletter", "vip", "b2b")
TIERS = ("gold", "silver", "bronze")
KINDS = ("purchase", "inquiry")
CHANNELS = ("web", "email")
CUSTOM = {
    "contact": {
        "properties": {"tier": {"type": "string"}, "score": {"type": "integer"}},
    }
}


@attrs.frozen
class Touch:
    kind: str
    channel: str
    days_ago: int


@attrs.frozen
class Person:
    city: str | None
    tags: tuple[str, ...]
    custom: Mapping[str, Any]
    touches: tuple[Touch, ...]


touches = st.builds(
    Touch, st.sampled_from(KINDS), st.sampled_from(CHANNELS), st.integers(0, 400)
)
people = st.lists(
    st.builds(
        Person,
        st.sampled_from(CITIES),
        st.lists(st.sampled_from(TAGS), unique=True, max_size=3).map(tuple),
        st.fixed_dictionaries(
            {}, optional={"tier": st.sampled_from(TIERS), "score": st.integers(0, 100)}
        ),
        st.lists(touches, max_size=3).map(tuple),
    ),
    max_size=8,
)

city_values = st.sampled_from(("Paris", "Lyon", "Nice", "paris", "Berlin"))
leaves = st.one_of(
    st.builds(
        lambda op, v: {"field": "city", "op": op, "value": v},
        st.sampled_from(("eq", "ne", "contains", "startswith")),
        city_values,
    ),
    st.builds(
        # Capitalised names with distinct initials order alike under any collation.
        lambda op, v: {"field": "city", "op": op, "value": v},
        st.sampled_from(("lt", "le", "gt", "ge")),
        st.sampled_from(("Paris", "Lyon", "Nice", "Berlin")),
    ),
    st.builds(
        lambda vs: {"field": "city", "op": "in", "value": vs},
        st.lists(city_values, min_size=1, max_size=3),
    ),
    st.builds(lambda b: {"field": "city", "op": "isnull", "value": b}, st.booleans()),
    st.builds(lambda t: {"field": "tags", "op": "has", "value": t}, st.sampled_from(TAGS)),
    st.builds(
        lambda op, v: {"field": "custom.tier", "op": op, "value": v},
        st.sampled_from(("eq", "ne")),
        st.sampled_from(TIERS),
    ),
    st.builds(lambda b: {"field": "custom.tier", "op": "isnull", "value": b}, st.booleans()),
    st.builds(
        lambda op, v: {"field": "custom.score", "op": op, "value": v},
        st.sampled_from(("eq", "ne", "lt", "le", "gt", "ge")),
        st.integers(0, 100),
    ),
    st.builds(
        lambda spec: {"interaction": spec},
        st.fixed_dictionaries(
            {},
            optional={
                "kind": st.sampled_from(KINDS),
                "channel": st.sampled_from(CHANNELS),
                "within_days": st.sampled_from((7, 30, 90, 365)),
            },
        ),
    ),
)
rule_trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda rs: {"all": rs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda rs: {"any": rs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda r: {"not": r}, inner),
    ),
    max_leaves=6,
)


# -- the oracle: the rules read directly, in Python ----------------------------------------


def _compare(op: str, have: Any, want: Any) -> bool:
    """A field condition, where ``have`` is ``None`` when the record holds no such value."""
    if op == "isnull":
        return (have is None) is bool(want)
    if op == "ne":
        return have is None or bool(have != want)
    if have is None:
        return False
    if op == "eq":
        return bool(have == want)
    if op == "in":
        return bool(have in want)
    if op == "contains":
        return want.lower() in have.lower()
    if op == "startswith":
        return bool(have.lower().startswith(want.lower()))
    return bool(
        {"lt": have < want, "le": have <= want, "gt": have > want, "ge": have >= want}[op]
    )


def _touched(person: Person, spec: Mapping[str, Any]) -> bool:
    return any(
        spec.get("kind", t.kind) == t.kind
        and spec.get("channel", t.channel) == t.channel
        and t.days_ago < spec.get("within_days", 10_000)
        for t in person.touches
    )


def matches(person: Person, rule: Mapping[str, Any]) -> bool:
    """Whether ``person`` satisfies ``rule`` (the test's own reading of the rule tree)."""
    if "all" in rule:
        return all(matches(person, r) for r in rule["all"])
    if "any" in rule:
        return any(matches(person, r) for r in rule["any"])
    if "not" in rule:
        return not matches(person, rule["not"])
    if "interaction" in rule:
        return _touched(person, rule["interaction"])
    name, op, value = rule["field"], rule["op"], rule["value"]
    if name == "tags":
        return value in person.tags
    have = person.city if name == "city" else person.custom.get(name.removeprefix("custom."))
    return _compare(op, have, value)


def expected_members(
    crowd: Sequence[Person], ids: Sequence[str], rule: Mapping[str, Any]
) -> set[str]:
    return {cid for cid, person in zip(ids, crowd, strict=True) if matches(person, rule)}


# -- the check ------------------------------------------------------------------------------


def store(crm: CRM, crowd: Sequence[Person]) -> list[str]:
    """Replace every contact and interaction with ``crowd``; the new contacts' ids in order."""
    contact_type = crm.entity_type("contact")
    interaction_type = crm.entity_type("interaction")
    everything = Cond("id", "isnull", False)
    contacts = [
        Contact(first_name=f"P{i}", city=p.city, tags=list(p.tags), custom=dict(p.custom))
        for i, p in enumerate(crowd)
    ]
    timeline = [
        Interaction(
            contact_id=c.id,
            channel=t.channel,
            kind=t.kind,
            # An hour off whole days, so no touch sits exactly on a rule's boundary.
            occurred_at=NOW - dt.timedelta(days=t.days_ago, hours=1),
        )
        for c, p in zip(contacts, crowd, strict=True)
        for t in p.touches
    ]
    with crm.unit_of_work() as uow:
        uow.tx.delete_where(interaction_type, everything)
        uow.tx.delete_where(contact_type, everything)
        if contacts:
            uow.tx.add_many(contact_type, [contact_type.to_row(c) for c in contacts])
        if timeline:
            uow.tx.add_many(interaction_type, [interaction_type.to_row(t) for t in timeline])
    return [c.id for c in contacts]


@pytest.fixture(params=["sqlite", "postgresql"])
def crm(request: pytest.FixtureRequest, crm_factory: CrmFactory) -> CRM:
    """A CRM with campaigns and the custom fields the rules use (shadows the shared one)."""
    return crm_factory(["campaign"], url=request.param, custom_fields=CUSTOM)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(crowd=people, rules=rule_trees)
def test_compiled_segments_select_what_the_rules_say(
    crm: CRM, crowd: list[Person], rules: dict[str, Any]
) -> None:
    ids = store(crm, crowd)
    flt = compile_rules(crm, rules, now=NOW)
    contact_type = crm.entity_type("contact")
    with crm.backend.read() as reader:
        found = {row["id"] for row in reader.query(contact_type, Query(where=flt))}
        counted = reader.count(contact_type, flt)
    expected = expected_members(crowd, ids, rules)
    assert found == expected, rules
    assert counted == len(expected)
