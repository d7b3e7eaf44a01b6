"""The pytest fixtures crmkit ships: available to any test suite once crmkit is installed."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.project import load_settings
from crmkit.testing.clock import Clock
from crmkit.testing.crm_factory import CrmFactory
from crmkit.testing.fixtures import CliRunner, CrmkitProject, Samples
from crmkit.testing.plugin_site import PluginSite

pytest_plugins = ["pytester"]

NOTES = '''
import attrs
import click

import crmkit


@crmkit.entity("notes.note")
@attrs.define(kw_only=True)
class Note(crmkit.Entity):
    contact_id: str = crmkit.field(ref="contact", privacy="personal", erase="delete")


def crmkit_register_entity_types():
    return [Note]


@click.command("notes")
def notes_command():
    """Say hello."""
    click.echo("notes here")


def crmkit_register_commands():
    return [notes_command]
'''
OTHER = "def crmkit_register_event_types():\n    return []\n"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginSite]:
    """Two installed plugins, ``notes`` and ``other``."""
    for name in ("CRMKIT_LOAD_PLUGINS", "CRMKIT_DISABLE_PLUGINS", "CRMKIT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with PluginSite(tmp_path / "site", monkeypatch) as plugins:
        plugins.install("notes", NOTES)
        plugins.install("other", OTHER)
        yield plugins


def loaded(crm: CRM) -> list[str]:
    return [p.name for p in crm.plugins if p.status == "loaded"]


# -- Through the pytest11 entry point, in a project of its own -------------------------


def test_a_test_suite_gets_the_fixtures_without_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_uses_fixtures="""
        import datetime as dt

        import crmkit.crm

        closed = []
        original_close = crmkit.crm.CRM.close

        def recording_close(self):
            closed.append(self)
            original_close(self)

        crmkit.crm.CRM.close = recording_close
        opened = []

        def test_factory(crm_factory, crmkit_samples):
            opened.append(crm_factory([]))
            opened.append(crm_factory([], url="sqlite"))
            ada = opened[1].contacts.add(**crmkit_samples.contact())
            assert opened[1].contacts.get(ada.id).email == ada.email
            assert closed == []

        def test_every_crm_was_closed():
            assert closed[::-1] == opened and len(opened) == 2

        def test_cli_in_a_project(crmkit_project, crmkit_cli, crmkit_clock):
            crmkit_clock.set(dt.datetime(2030, 5, 1, tzinfo=dt.timezone.utc))
            added = crmkit_cli("contacts", "add", "--first-name", "Ada", "--email", "a@example.com")
            assert added.exit_code == 0, added.output
            shown = crmkit_cli("contacts", "show", "a@example.com", "--json").json()
            assert shown["created_at"] == "2030-05-01T00:00:00+00:00"
            assert (crmkit_project.path / "crm.db").is_file()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


# -- crm_factory ----------------------------------------------------------------------


def test_crm_factory_opens_exactly_the_chosen_plugins(
    crm_factory: CrmFactory, site: PluginSite
) -> None:
    assert loaded(crm_factory(["notes"])) == ["notes"]
    assert loaded(crm_factory()) == []
    assert loaded(crm_factory(["notes", "other"])) == ["notes", "other"]
    assert crm_factory().settings.database_url == "memory://"


def test_crm_factory_puts_sqlite_crms_in_files_of_their_own(crm_factory: CrmFactory) -> None:
    first, second = crm_factory(url="sqlite"), crm_factory(url="sqlite")
    first.contacts.add(first_name="Ada")
    assert [c.first_name for c in second.contacts.list()] == []
    paths = [Path(c.settings.database_url.removeprefix("sqlite:///")) for c in (first, second)]
    assert all(p.is_file() for p in paths) and paths[0] != paths[1]


def test_crm_factory_opens_on_postgresql_when_a_server_is_given(
    crm_factory: CrmFactory, pg_url: str
) -> None:
    crm = crm_factory(url="postgresql")
    assert crm.settings.database_url.startswith(os.environ["CRMKIT_TEST_POSTGRES_URL"])
    crm.contacts.add(first_name="Ada")
    assert len(crm.contacts.list()) == 1


def test_crm_factory_refuses_a_plugin_that_is_not_installed(crm_factory: CrmFactory) -> None:
    from crmkit.errors import PluginError

    with pytest.raises(PluginError, match="'absent' is not installed"):
        crm_factory(["absent"])


def test_crm_factory_closes_every_crm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[CRM] = []
    original = CRM.close

    def recording_close(self: CRM) -> None:
        closed.append(self)
        original(self)

    monkeypatch.setattr(CRM, "close", recording_close)
    factory = CrmFactory(tmp_path)
    opened = [factory([]), factory([], url="sqlite")]
    factory.close()
    assert closed == opened[::-1]


# -- crmkit_project and crmkit_cli ----------------------------------------------------


def test_crmkit_project_starts_without_plugins(crmkit_project: CrmkitProject) -> None:
    settings = load_settings(crmkit_project.path)
    assert settings.plugins == ()
    assert settings.database_url == f"sqlite:///{crmkit_project.path.resolve() / 'crm.db'}"


def test_crmkit_project_with_plugins_sets_the_list(
    crmkit_project: CrmkitProject, site: PluginSite
) -> None:
    assert crmkit_project.with_plugins("notes") is crmkit_project
    assert load_settings(crmkit_project.path).plugins == ("notes",)
    with crmkit.open(crmkit_project) as crm:
        assert loaded(crm) == ["notes"]


def test_crmkit_cli_runs_commands_in_the_project(
    crmkit_cli: CliRunner,
    crmkit_project: CrmkitProject,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    added = crmkit_cli("contacts", "add", "--first-name", "Ada", "--email", "ada@example.com")
    assert (added.exit_code, added.stderr) == (0, "")
    assert added.output.startswith("Added contact Ada <ada@example.com>")
    shown = crmkit_cli("contacts", "show", "ada@example.com", "--json")
    assert shown.json()["first_name"] == "Ada"
    with crmkit.open(crmkit_project) as crm:
        assert [c.email for c in crm.contacts.list()] == ["ada@example.com"]


def test_crmkit_cli_reports_errors_with_exit_codes(crmkit_cli: CliRunner) -> None:
    missing = crmkit_cli("contacts", "show", "nobody@example.com")
    assert missing.exit_code == 3
    assert missing.stdout == ""
    assert missing.output.startswith("Error: contact 'nobody@example.com' not found")
    with pytest.raises(AssertionError, match="did not print JSON"):
        missing.json()


def test_crmkit_cli_runs_the_commands_of_the_project_plugins(
    crmkit_cli: CliRunner, crmkit_project: CrmkitProject, site: PluginSite
) -> None:
    assert crmkit_cli("notes").exit_code == 2
    crmkit_project.with_plugins("notes")
    result = crmkit_cli("notes")
    assert (result.exit_code, result.output) == (0, "notes here\n")


# -- crmkit_clock ---------------------------------------------------------------------


def test_crmkit_clock_stamps_records_and_events(crmkit_clock: Clock, crm: CRM) -> None:
    start = dt.datetime(2030, 3, 1, 9, 30, tzinfo=dt.UTC)
    crmkit_clock.set(start)
    ada = crm.contacts.add(first_name="Ada")
    assert (ada.created_at, ada.updated_at) == (start, start)
    assert crm.contacts.get(ada.id).created_at == start
    later = crmkit_clock.advance(days=2, hours=1)
    assert later == start + dt.timedelta(days=2, hours=1)
    changed = crm.contacts.update(ada.id, last_name="Lovelace")
    assert (changed.created_at, changed.updated_at) == (start, later)
    events = crm.events.read(names=["contact.created", "contact.updated"])
    assert [e.occurred_at for e in events] == [start, later]


def test_crmkit_clock_stands_still_and_keeps_utc(crmkit_clock: Clock) -> None:
    assert dt.datetime.now(dt.UTC) == crmkit_clock.now == dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    assert dt.datetime.now(dt.UTC) == crmkit_clock.now
    paris = dt.timezone(dt.timedelta(hours=2))
    assert crmkit_clock.set(dt.datetime(2030, 1, 1, 12, tzinfo=paris)).hour == 10
    with pytest.raises(ValueError, match="timezone-aware"):
        crmkit_clock.set(dt.datetime(2030, 1, 1))


def test_the_clock_runs_again_after_the_block() -> None:
    with Clock(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)):
        assert dt.datetime.now(dt.UTC).year == 2000
    assert dt.datetime.now(dt.UTC).year > 2000


# -- crmkit_samples -------------------------------------------------------------------


def test_crmkit_samples_are_valid_unique_contacts(crmkit_samples: Samples, crm: CRM) -> None:
    values = crmkit_samples.contacts(60)
    assert len({v["email"] for v in values}) == 60
    for v in values:
        contact = crm.contacts.add(**v)
        assert (contact.email, contact.phone) == (v["email"], v["phone"])
    org = crm.organizations.add(**crmkit_samples.organization())
    assert org.name and org.domain


def test_crmkit_samples_are_seeded_and_take_overrides(crmkit_samples: Samples) -> None:
    assert Samples(seed=7).contacts(3) == crmkit_samples.contacts(3)
    assert Samples(seed=8).contact() != Samples(seed=7).contact()
    assert crmkit_samples.contact(first_name="Ada", owner="bob")["first_name"] == "Ada"
    names = [o["name"] for o in Samples().organizations(30)]
    assert len(set(names)) == 30


def test_the_testing_how_to_example_passes(pytester: pytest.Pytester) -> None:
    """docs/howto/test-a-plugin.md shows a test file using every fixture; it must pass."""
    page = Path(__file__).resolve().parents[1] / "docs" / "howto" / "test-a-plugin.md"
    text = page.read_text(encoding="utf-8")
    marker = '```python title="tests/test_with_fixtures.py"\n'
    assert marker in text, f"{page.name} lost its example test file"
    body = text.split(marker, 1)[1].split("\n```", 1)[0]
    pytester.makepyfile(test_with_fixtures=body)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
