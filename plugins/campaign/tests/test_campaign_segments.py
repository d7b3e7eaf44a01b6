"""Segments: every kind of rule against hand-picked contacts, on SQLite and PostgreSQL.

Each test adds a few people whose answer to the rule is known and checks that the
segment holds exactly the ones it should, then that bad rules are refused with
an error naming the node, and that static segments keep what a snapshot found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pytest
from crmkit_campaign.segments import Segments, compile_rules

import crmkit
from crmkit.crm import CRM
from crmkit.errors import DuplicateError, NotFound, ValidationError
from crmkit.storage import Cond, Query, Related
from crmkit.testing.clock import Clock
from crmkit.testing.crm_factory import CrmFactory

CUSTOM = {
    "contact": {
        "properties": {
            "tier": {"type": "string"},
            "score": {"type": "integer"},
            "vip": {"type": "boolean"},
            "interests": {"type": "array", "items": {"type": "string"}},
        }
    }
}


class Perks:
    """A plugin offering one named segment condition: contacts with an interaction of a kind."""

    def crmkit_segment_conditions(self) -> list[Any]:
        return [
            crmkit.SegmentCondition(
                name="perks.did",
                description="Contacts with at least one interaction of the given kind.",
                params_schema={
                    "type": "object",
                    "properties": {"kind": {"type": "string", "minLength": 1}},
                    "required": ["kind"],
                    "additionalProperties": False,
                },
                build=lambda params: Related(
                    "interaction", "contact_id", Cond("kind", "eq", params["kind"])
                ),
            )
        ]


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request: pytest.FixtureRequest, crm_factory: CrmFactory, crmkit_clock: Clock) -> CRM:
    """A CRM with campaigns, contact custom fields and the ``perks.did`` condition."""
    return crm_factory(
        ["campaign", "perks"],
        url=request.param,
        custom_fields=CUSTOM,
        extra_plugins=[("perks", Perks())],
    )


@attrs.frozen
class People:
    """The hand-picked contacts, by first name → id."""

    ids: Mapping[str, str]

    def names(self, crm: CRM, rules: Mapping[str, Any]) -> set[str]:
        """The first names of the contacts the rules select, counted and listed in SQL."""
        flt = compile_rules(crm, rules)
        by_id = {v: k for k, v in self.ids.items()}
        listed = {by_id[c.id] for c in crm.contacts.list(where=[flt], limit=None)}
        assert crm.contacts.count(where=[flt]) == len(listed)
        return listed


@pytest.fixture
def people(shop: CRM, crmkit_clock: Clock) -> People:
    now = crmkit_clock.now
    add = shop.contacts.add
    ids = {
        "ada": add(first_name="Ada", last_name="Lovelace", email="ada@example.com",
                   city="Paris", tags=["newsletter", "vip"], birth_date="1985-12-10",
                   custom={"tier": "gold", "score": 90, "vip": True}).id,
        "bob": add(first_name="Bob", last_name="Byte", email="bob@example.com",
                   city="Lyon", tags=["newsletter"], custom={"tier": "bronze", "score": 20}).id,
        "cy": add(first_name="Cy", last_name="Cable", email="cy@example.com",
                  city="paris", tags=[], custom={"tier": "silver", "score": 55}).id,
        "dee": add(first_name="Dee", last_name="Diode", email="dee@example.com",
                   tags=["vip"], birth_date="1995-03-01").id,
    }
    log = shop.interactions.log
    log(ids["ada"], channel="web", kind="purchase", occurred_at=now - dt.timedelta(days=10))
    log(ids["bob"], channel="web", kind="purchase", occurred_at=now - dt.timedelta(days=200))
    log(ids["bob"], channel="email", kind="inquiry", occurred_at=now - dt.timedelta(days=5))
    log(ids["cy"], channel="phone", kind="inquiry", direction="outbound",
        occurred_at=now - dt.timedelta(days=30))
    return People(ids)


def field(name: str, op: str, value: Any = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"field": name, "op": op}
    if value is not None:
        rule["value"] = value
    return rule


# -- field rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (field("city", "eq", "Paris"), {"ada"}),
        ({"field": "city", "value": "Lyon"}, {"bob"}),  # eq is the default
        (field("city", "in", ["Paris", "Lyon"]), {"ada", "bob"}),
        (field("city", "ne", "Paris"), {"bob", "cy", "dee"}),  # no city differs too
        (field("city", "contains", "PAR"), {"ada", "cy"}),
        (field("city", "startswith", "ly"), {"bob"}),
        (field("city", "isnull", True), {"dee"}),
        (field("city", "isnull", False), {"ada", "bob", "cy"}),
        (field("last_name", "lt", "C"), {"bob"}),
        (field("birth_date", "lt", "1990-01-01"), {"ada"}),
        (field("birth_date", "ge", "1990-01-01"), {"dee"}),
    ],
)
def test_field_rules_select_exactly_the_matching_contacts(
    shop: CRM, people: People, rule: dict[str, Any], expected: set[str]
) -> None:
    assert people.names(shop, rule) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("newsletter", {"ada", "bob"}), ("vip", {"ada", "dee"}), ("x", set())]
)
def test_tags_has_matches_contacts_holding_that_tag(
    shop: CRM, people: People, value: str, expected: set[str]
) -> None:
    assert people.names(shop, field("tags", "has", value)) == expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (field("custom.tier", "eq", "gold"), {"ada"}),
        (field("custom.tier", "in", ["gold", "silver"]), {"ada", "cy"}),
        (field("custom.score", "ge", 55), {"ada", "cy"}),
        (field("custom.score", "lt", 55), {"bob"}),
        (field("custom.vip", "eq", True), {"ada"}),
        (field("custom.tier", "isnull", True), {"dee"}),
        (field("custom.tier", "startswith", "S"), {"cy"}),
    ],
)
def test_custom_field_rules_compare_by_the_declared_type(
    shop: CRM, people: People, rule: dict[str, Any], expected: set[str]
) -> None:
    assert people.names(shop, rule) == expected


# -- interaction rules and conditions ---------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"kind": "purchase"}, {"ada", "bob"}),
        ({"kind": "purchase", "within_days": 90}, {"ada"}),
        ({"within_days": 7}, {"bob"}),
        ({"kind": ["purchase", "inquiry"], "within_days": 60}, {"ada", "bob", "cy"}),
        ({"channel": "phone", "direction": "outbound"}, {"cy"}),
        ({"kind": "inquiry", "channel": "email"}, {"bob"}),
        ({}, {"ada", "bob", "cy"}),
    ],
)
def test_interaction_rules_look_at_the_timeline(
    shop: CRM, people: People, spec: dict[str, Any], expected: set[str]
) -> None:
    assert people.names(shop, {"interaction": spec}) == expected


def test_within_days_counts_back_from_the_clock(
    shop: CRM, people: People, crmkit_clock: Clock
) -> None:
    rule = {"interaction": {"kind": "purchase", "within_days": 90}}
    assert people.names(shop, rule) == {"ada"}
    crmkit_clock.advance(days=81)
    assert people.names(shop, rule) == set()


def test_a_plugin_condition_is_built_with_its_checked_parameters(
    shop: CRM, people: People
) -> None:
    rule = {"condition": "perks.did", "params": {"kind": "inquiry"}}
    assert people.names(shop, rule) == {"bob", "cy"}
    with pytest.raises(ValidationError) as missing:
        compile_rules(shop, {"condition": "perks.did", "params": {}})
    assert "rules.params" in str(missing.value) and "'kind' is a required property" in str(
        missing.value
    )
    with pytest.raises(ValidationError) as extra:
        compile_rules(shop, {"condition": "perks.did", "params": {"kind": "x", "size": 3}})
    assert "size" in str(extra.value)


def test_an_unknown_condition_lists_the_known_ones(shop: CRM) -> None:
    with pytest.raises(ValidationError) as error:
        compile_rules(shop, {"all": [{"condition": "sales.open_dael"}]})
    message = str(error.value)
    assert message.startswith("campaign.segment: field 'rules': rules.all[0]: ")
    assert "unknown condition 'sales.open_dael'" in message
    assert "known conditions: perks.did" in message


# -- combinations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"all": [field("tags", "has", "newsletter"), field("city", "eq", "Paris")]}, {"ada"}),
        ({"any": [field("city", "eq", "Lyon"), field("tags", "has", "vip")]},
         {"ada", "bob", "dee"}),
        ({"not": field("tags", "has", "newsletter")}, {"cy", "dee"}),
        ({"not": field("custom.tier", "eq", "bronze")}, {"ada", "cy", "dee"}),
        ({"not": field("city", "eq", "Paris")}, {"bob", "cy", "dee"}),
        ({"not": {"interaction": {"kind": "purchase"}}}, {"cy", "dee"}),
        (
            {"all": [
                field("city", "in", ["Paris", "Lyon", "paris"]),
                field("tags", "has", "newsletter"),
                {"interaction": {"kind": "purchase", "within_days": 90}},
                {"not": field("custom.tier", "eq", "bronze")},
            ]},
            {"ada"},
        ),
        (
            {"any": [
                {"all": [field("city", "isnull", True), field("tags", "has", "vip")]},
                {"not": {"any": [field("custom.score", "lt", 50), field("city", "eq", "Paris")]}},
            ]},
            {"cy", "dee"},
        ),
        ({"all": []}, {"ada", "bob", "cy", "dee"}),
    ],
)
def test_all_any_and_not_combine_rules(
    shop: CRM, people: People, rules: dict[str, Any], expected: set[str]
) -> None:
    assert people.names(shop, rules) == expected


# -- refused rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "words"),
    [
        ({"all": [field("citty", "eq", "Paris")]},
         ["rules.all[0]", "unknown contact field 'citty'", "known fields:", "city"]),
        (field("custom.colour", "eq", "red"), ["unknown custom field 'custom.colour'",
                                               "custom.tier"]),
        (field("city", "has", "Paris"), ["field 'city' takes op", "not 'has'"]),
        (field("tags", "eq", "vip"), ["list field 'tags' takes op 'has'"]),
        (field("custom", "eq", "x"), ["filter on custom.<key>"]),
        (field("custom.score", "contains", "5"), ["custom.score", "not 'contains'"]),
        (field("custom.score", "eq", "high"), ["holds integer values", "'high'"]),
        (field("custom.interests", "eq", "chess"), ["holds arrays"]),
        (field("birth_date", "lt", "last year"), ["holds date values (YYYY-MM-DD)"]),
        (field("city", "in", []), ["non-empty list"]),
        ({"field": "city", "op": "eq"}, ["give a value", "isnull"]),
        (field("city", "isnull", "yes"), ["isnull takes true or false"]),
        ({"any": []}, ["matches nobody"]),
        ({"all": "city"}, ["'all' takes a list of rules"]),
        ({"not": [field("city", "eq", "x")]}, ["rules.not", "a rule is an object"]),
        ({"field": "city", "value": "x", "all": []}, ["exactly one of"]),
        ({"colour": "red"}, ["exactly one of all, any, not, field, interaction, condition"]),
        ({"field": "city", "value": "x", "flag": 1}, ["unexpected key 'flag'"]),
        ({"interaction": {"kind": "purchase", "within_days": 0}},
         ["rules.interaction.within_days", "whole number of days"]),
        ({"interaction": {"channel": "pigeon"}}, ["unknown channel 'pigeon'", "email"]),
        ({"interaction": {"when": "today"}}, ["unexpected key 'when'", "within_days"]),
        ({"interaction": "purchase"}, ["rules.interaction", "takes an object"]),
    ],
)
def test_bad_rules_are_refused_naming_the_node_and_the_fix(
    shop: CRM, rules: dict[str, Any], words: Sequence[str]
) -> None:
    with pytest.raises(ValidationError) as error:
        compile_rules(shop, rules)
    assert error.value.entity == "campaign.segment"
    assert error.value.field == "rules"
    for word in words:
        assert word in str(error.value), str(error.value)


# -- the segments service ---------------------------------------------------------------


def _events(crm: CRM, name: str) -> list[dict[str, Any]]:
    with crm.unit_of_work() as uow:
        return [e.payload for e in uow.tx.read_events(names=[name])]


def test_a_dynamic_segment_follows_the_contacts_as_they_change(
    shop: CRM, people: People
) -> None:
    segments = Segments(shop)
    made = segments.create(
        "Paris newsletter",
        {"all": [field("city", "eq", "Paris"), field("tags", "has", "newsletter")]},
        description="Readers in Paris",
    )
    assert segments.get("Paris newsletter") == made == segments.get(made.id)
    assert segments.preview("Paris newsletter").count == 1
    shop.contacts.update(people.ids["bob"], city="Paris")
    preview = segments.preview(made.id)
    assert preview.count == 2
    assert [c.last_name for c in preview.sample] == ["Byte", "Lovelace"]
    assert _events(shop, "campaign.segment.created") == [
        {"segment_id": made.id, "name": "Paris newsletter", "kind": "dynamic"}
    ]


def test_preview_samples_the_first_members_by_name(shop: CRM, people: People) -> None:
    segments = Segments(shop)
    segments.create("everyone", {"all": []})
    preview = segments.preview("everyone", sample=2)
    assert preview.count == 4
    assert [c.last_name for c in preview.sample] == ["Byte", "Cable"]
    assert segments.preview("everyone", sample=0).sample == ()


def test_a_static_segment_keeps_its_snapshot_until_the_next(
    shop: CRM, people: People
) -> None:
    segments = Segments(shop)
    made = segments.create("vips", field("tags", "has", "vip"), kind="static")
    assert made.snapshot_at is not None
    assert segments.preview("vips").count == 2
    shop.contacts.add(first_name="Eve", email="eve@example.com", tags=["vip"])
    shop.contacts.update(people.ids["dee"], tags=[])
    assert {c.first_name for c in segments.preview("vips").sample} == {"Ada", "Dee"}

    done = segments.snapshot("vips")
    assert (done.members, done.added, done.removed) == (2, 1, 1)
    assert {c.first_name for c in segments.preview("vips").sample} == {"Ada", "Eve"}
    assert done.segment.snapshot_at is not None
    assert _events(shop, "campaign.segment.snapshot")[-1] == {
        "segment_id": made.id, "name": "vips", "members": 2, "added": 1, "removed": 1,
    }
    member_type = shop.entity_type("campaign.segment_member")
    with shop.backend.read() as reader:
        rows = reader.query(member_type, Query(Cond("segment_id", "eq", made.id)))
    assert sorted(r["key"] for r in rows) == sorted(f"{made.id}:{r['contact_id']}" for r in rows)


def test_member_ids_come_in_id_order_page_by_page(shop: CRM, people: People) -> None:
    segments = Segments(shop)
    made = segments.create("newsletter or vip", {"any": [
        field("tags", "has", "newsletter"), field("tags", "has", "vip"),
    ]})
    expected = sorted(people.ids[n] for n in ("ada", "bob", "dee"))
    with shop.backend.read() as reader:
        first = segments.member_ids(reader, made, limit=2)
        rest = segments.member_ids(reader, made, after_id=first[-1], limit=2)
        pages = list(segments.iter_member_ids(reader, made, page=1))
    assert first + rest == expected
    assert pages == [[i] for i in expected]


def test_snapshot_of_a_dynamic_segment_is_refused(shop: CRM, people: People) -> None:
    Segments(shop).create("parisians", field("city", "eq", "Paris"))
    with pytest.raises(ValidationError, match=r"dynamic.*--static"):
        Segments(shop).snapshot("parisians")


def test_bad_segments_are_refused_and_nothing_is_written(shop: CRM, people: People) -> None:
    segments = Segments(shop)
    segments.create("parisians", field("city", "eq", "Paris"))
    with pytest.raises(DuplicateError, match="already exists"):
        segments.create("parisians", field("city", "eq", "Lyon"))
    with pytest.raises(ValidationError, match="unknown contact field"):
        segments.create("broken", field("town", "eq", "Paris"), kind="static")
    with pytest.raises(ValidationError, match="'kind'"):
        segments.create("frozen", field("city", "eq", "Paris"), kind="frozen")
    with pytest.raises(ValidationError, match="needs a name"):
        segments.create("  ", field("city", "eq", "Paris"))
    assert [s.name for s in segments.list()] == ["parisians"]
    with pytest.raises(NotFound):
        segments.get("broken")


# -- with crmkit-sales ------------------------------------------------------------------


def test_sales_open_deal_condition_selects_contacts_with_an_open_deal(
    crm_with_sales: CRM,
) -> None:
    from crmkit_sales.deals import Deals

    crm = crm_with_sales
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com", city="Paris")
    bob = crm.contacts.add(first_name="Bob", email="bob@example.com", city="Paris")
    crm.contacts.add(first_name="Cy", email="cy@example.com", city="Lyon")
    Deals(crm).add(title="Engine", amount="12500", contact=ada.id)
    assert "sales.open_deal" in crm.segment_conditions()

    segments = Segments(crm)
    segments.create("parisians without a deal", {"all": [
        {"field": "city", "value": "Paris"},
        {"not": {"condition": "sales.open_deal"}},
    ]})
    segments.create("in the pipeline", {"condition": "sales.open_deal", "params": {}})
    assert [c.id for c in segments.preview("in the pipeline").sample] == [ada.id]
    assert [c.id for c in segments.preview("parisians without a deal").sample] == [bob.id]


def test_preview_masks_what_the_actor_may_not_see(crm_factory: CrmFactory) -> None:
    from crmkit.privacy import Masked

    crm = crm_factory(
        ["campaign"],
        url="sqlite",
        privacy={
            "roles": {"marketer": {"actions": ["read"], "see": []}},
            "actors": {"mia": ["marketer"]},
        },
    )
    crm.contacts.add(first_name="Ada", email="ada@example.com", city="Paris")
    Segments(crm).create("parisians", {"field": "city", "value": "Paris"})
    as_admin = Segments(crm).preview("parisians")
    as_mia = Segments(crm).preview("parisians", actor="mia")
    assert as_admin.sample[0].email == "ada@example.com"
    assert as_mia.count == 1
    assert isinstance(as_mia.sample[0].email, Masked)
    assert "ada@example.com" not in str(as_mia.sample[0].email)
