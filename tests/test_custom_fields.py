"""Custom fields: user-defined fields checked against JSON Schema on every write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.errors import ConfigError, ValidationError
from crmkit.project import CONFIG_FILE, write_project

LOYALTY = {
    "properties": {
        "tier": {"type": "string", "enum": ["bronze", "silver", "gold"]},
        "points": {"type": "integer", "minimum": 0},
    }
}


@pytest.fixture
def crm(any_url: str) -> Iterator[CRM]:
    """A CRM whose contacts carry the loyalty custom fields."""
    with crmkit.open(any_url, plugins=[], custom_fields={"contact": LOYALTY}) as opened:
        yield opened


def test_valid_custom_fields_are_stored(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", custom={"tier": "gold", "points": 120})
    assert crm.contacts.get(ada.id).custom == {"tier": "gold", "points": 120}
    assert crm.custom_fields("contact").knows("tier")


@pytest.mark.parametrize(
    ("custom", "field", "rule"),
    [
        ({"tier": "platinum"}, "tier", "enum"),
        ({"points": -5}, "points", "minimum"),
        ({"points": "many"}, "points", "type"),
    ],
)
def test_invalid_custom_fields_are_refused_naming_entity_field_and_rule(
    custom: dict[str, Any], field: str, rule: str
) -> None:
    with crmkit.open("memory://", plugins=[], custom_fields={"contact": LOYALTY}) as crm:
        with pytest.raises(ValidationError) as caught:
            crm.contacts.add(first_name="Ada", custom=custom)
        assert (caught.value.entity, caught.value.field) == ("contact", field)
        assert f"rule: {rule}" in str(caught.value)
        assert str(caught.value).startswith(f"contact: field '{field}'")
        assert crm.contacts.count() == 0


def test_unknown_custom_fields_are_refused(crm: CRM) -> None:
    with pytest.raises(ValidationError, match="unknown custom field") as caught:
        crm.contacts.add(first_name="Ada", custom={"shoe_size": 42})
    assert caught.value.field == "shoe_size"
    with pytest.raises(ValidationError, match=r"custom_fields\.organization") as caught:
        crm.organizations.add(name="Acme", custom={"tier": "gold"})
    assert (caught.value.entity, caught.value.field) == ("organization", "tier")


def test_update_merges_custom_fields_and_checks_them(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", custom={"tier": "silver", "points": 10})
    assert crm.contacts.update(ada.id, custom={"points": 20}).custom == {
        "tier": "silver", "points": 20,
    }
    assert crm.contacts.update(ada.id, custom={"tier": None}).custom == {"points": 20}
    with pytest.raises(ValidationError) as caught:
        crm.contacts.update(ada.id, custom={"tier": "tin"})
    assert caught.value.record == ada.id and caught.value.field == "tier"
    assert crm.contacts.get(ada.id).custom == {"points": 20}


def test_custom_fields_from_the_project_file(tmp_path: Path, any_url: str) -> None:
    project = tmp_path / "acme"
    write_project(project, database=any_url)
    with (project / CONFIG_FILE).open("a", encoding="utf-8") as config:
        config.write(
            "\n[custom_fields.contact.properties.shirt_size]\n"
            'type = "string"\nenum = ["S", "M", "L"]\n'
        )
    with crmkit.open(project) as crm:
        ada = crm.contacts.add(first_name="Ada", custom={"shirt_size": "M"})
        assert crm.contacts.get(ada.id).custom == {"shirt_size": "M"}
        with pytest.raises(ValidationError, match="rule: enum") as caught:
            crm.contacts.add(first_name="Bob", custom={"shirt_size": "XXL"})
        assert (caught.value.entity, caught.value.field) == ("contact", "shirt_size")


@pytest.mark.parametrize(
    ("custom_fields", "message"),
    [
        ({"contact": {"properties": {"email": {"type": "string"}}}}, "clashes with a built-in"),
        ({"ticket": LOYALTY}, "unknown entity type"),
        ({"contact": {"properties": {"x": {"type": "strin"}}}}, "not a valid JSON Schema"),
        ({"contact": {"type": "object"}}, "'properties'"),
        ({"interaction": LOYALTY}, "no 'custom' field"),
    ],
)
def test_bad_custom_field_definitions_stop_the_crm_opening(
    custom_fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        crmkit.open("memory://", plugins=[], custom_fields=custom_fields)
