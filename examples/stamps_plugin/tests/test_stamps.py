"""Tests of crmkit-stamps, run against the installed plugin.

Run them with ``pytest`` in the plugin's folder. The fixtures ``crm_factory``,
``crmkit_project`` and ``crmkit_cli`` come with crmkit (its pytest plugin).
"""

from __future__ import annotations

import pytest

from crmkit import Event
from crmkit.crm import CRM
from crmkit.errors import NotFound, ValidationError
from crmkit.testing.fixtures import CliRunner, CrmFactory, CrmkitProject
from crmkit_stamps import add_record, records_of

NAME = "stamps"
# "ann" may read contacts but see no personal data: what the view masks for her.
PRIVACY = {"actors": {"ann": ["analyst"]}}


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, crm_factory: CrmFactory) -> CRM:
    """A CRM with only this plugin, in memory and on a migrated SQLite file."""
    return crm_factory(plugins=[NAME], url=request.param, privacy=PRIVACY)


def test_add_stores_the_record_and_raises_the_event(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    heard: list[Event] = []
    crm.events.subscribe(f"{NAME}.recorded", heard.append)
    record = add_record(crm, "ada@example.com", "Met at the fair")
    assert records_of(crm, ada.id) == [record]
    assert [(e.payload["record_id"], e.subject_id) for e in heard] == [(record.id, ada.id)]


def test_a_refused_add_writes_nothing(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    heard: list[Event] = []
    crm.events.subscribe(f"{NAME}.recorded", heard.append)
    with pytest.raises(ValidationError, match="note"):
        add_record(crm, ada.id, "   ")
    with pytest.raises(NotFound):
        add_record(crm, "nobody@example.com", "Met at the fair")
    assert records_of(crm, ada.id) == []
    assert heard == []


def test_view_section_masks_what_the_actor_may_not_see(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    add_record(crm, ada.id, "Met at the fair")
    (section,) = crm.view(ada.id).sections
    assert section.plugin == NAME
    assert [row["note"] for row in section.data] == ["Met at the fair"]
    (masked,) = crm.view(ada.id, actor="ann").sections
    assert [row["note"] for row in masked.data] == ["[masked: personal]"]


def test_erasing_the_contact_deletes_their_records(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    add_record(crm, ada.id, "Met at the fair")
    crm.privacy.erase(ada.id)
    with crm.unit_of_work() as uow:
        assert uow.tx.count(crm.entity_type(f"{NAME}.record")) == 0


def test_command_adds_a_record_shown_in_the_view(
    crmkit_project: CrmkitProject, crmkit_cli: CliRunner
) -> None:
    crmkit_project.with_plugins(NAME)
    for args in (["db", "upgrade"], ["contacts", "add", "--email", "ada@example.com"]):
        result = crmkit_cli(*args)
        assert result.exit_code == 0, result
    added = crmkit_cli(NAME, "add", "ada@example.com", "--note", "Met at the fair")
    assert added.exit_code == 0, added
    assert added.stdout.startswith("Added record")
    shown = crmkit_cli("view", "ada@example.com")
    assert f"[{NAME}]" in shown.stdout
    assert "Met at the fair" in shown.stdout
    unknown = crmkit_cli(NAME, "add", "nobody@example.com", "--note", "Met at the fair")
    assert unknown.exit_code == 3, unknown
