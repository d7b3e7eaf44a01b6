"""The conformance suite passes a plugin that keeps the contract and names every broken rule.

Each fake plugin is installed for real (a dist-info with an entry point) and
breaks one rule; the suite must fail exactly that check, naming the plugin,
the check and the fix.
"""

from __future__ import annotations

import os
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmkit.testing.conformance import (
    POSTGRES_ENV,
    Problem,
    check_names,
    check_plugin,
    conformance_suite,
    run_check,
)
from crmkit.testing.plugin_site import PluginSite

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]

FIELD = 'crmkit.field(default="", privacy="personal", erase="delete")'

PLUGIN = '''
import attrs
import click

import crmkit


@crmkit.entity("{name}.note")
@attrs.define(kw_only=True)
class Note(crmkit.Entity):
    contact_id: str = crmkit.field(ref="contact", privacy="personal", erase="delete")
    text: str = {field}


def crmkit_register_entity_types():
    return [Note]


def crmkit_migrations():
    return [crmkit.MigrationBranch("{name}", {migrations!r})]


def crmkit_register_event_types():
    return [crmkit.EventType({event!r}, subject={subject!r})]


@click.group({group!r})
def group():
    """Notes."""


def crmkit_register_commands():
    return [group]
'''

MIGRATION = """
import sqlalchemy as sa
from alembic import op

from crmkit.storage.sql.types import UTCDateTime

revision = "{name}_0001"
down_revision = None
branch_labels = ("{name}",)
depends_on = "crmkit_0001"


def upgrade():
    op.create_table(
        "{name}_note",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("contact_id", sa.String(36), nullable=False),
        {text_column}
    )
    op.create_index("ix_{name}_note_contact_id", "{name}_note", ["contact_id"])


def downgrade():
    {downgrade}
"""

TEXT_COLUMN = 'sa.Column("text", sa.Text(), nullable=False),'


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginSite]:
    for name in ("CRMKIT_LOAD_PLUGINS", "CRMKIT_DISABLE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    with PluginSite(tmp_path / "site", monkeypatch) as plugins:
        yield plugins


def install(
    site: PluginSite,
    name: str,
    *,
    field: str = FIELD,
    event: str | None = None,
    subject: str | None = "contact",
    group: str | None = None,
    text_column: str = TEXT_COLUMN,
    downgrade: str = 'op.drop_table("{name}_note")',
    extra: str = "",
) -> None:
    """Install a notes plugin called ``name``; the keywords break one rule each."""
    versions = site.root / f"{name}_migrations"
    versions.mkdir()
    (versions / f"{name}_0001_notes.py").write_text(
        MIGRATION.format(name=name, text_column=text_column, downgrade=downgrade.format(name=name)),
        encoding="utf-8",
    )
    source = PLUGIN.format(
        name=name,
        field=field,
        migrations=str(versions),
        event=event or f"{name}.noted",
        subject=subject,
        group=group or name,
    )
    site.install(name, source + textwrap.dedent(extra))


def checks_failed(problems: list[Problem]) -> set[str]:
    return {p.check for p in problems}


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


# -- A plugin that keeps the contract ------------------------------------------------


def test_a_plugin_keeping_the_contract_passes_every_check(site: PluginSite) -> None:
    install(site, "notes")
    assert check_plugin("notes", postgres_url=postgres_url()) == []


def test_the_checks_are_named_and_postgresql_runs_when_given() -> None:
    names = check_names(postgres_url="postgresql://server/db")
    assert names == [
        "hooks",
        "migrations-sqlite",
        "migrations-postgresql",
        "privacy",
        "events",
        "commands",
        "together",
    ]


# -- 1. hooks ------------------------------------------------------------------------


def test_a_misspelled_hook_fails_the_hooks_check(site: PluginSite) -> None:
    install(site, "typo", extra="def crmkit_register_entity_typs():\n    return []\n")
    (problem,) = run_check("typo", "hooks")
    assert (problem.plugin, problem.check) == ("typo", "hooks")
    assert "crmkit_register_entity_typs" in problem.problem
    assert "hooks reference" in problem.fix
    assert str(problem).startswith("plugin typo fails the hooks check: ")


def test_a_hook_asking_for_an_unknown_argument_fails_the_hooks_check(site: PluginSite) -> None:
    install(site, "args", extra="def crmkit_customer_view(crm, person):\n    return None\n")
    (problem,) = run_check("args", "hooks")
    assert "crmkit_customer_view" in problem.problem and "person" in problem.problem


def test_a_plugin_that_is_not_installed_fails_the_hooks_check(site: PluginSite) -> None:
    (problem,) = run_check("absent", "hooks")
    assert "not installed" in problem.problem and "pip install" in problem.fix


# -- 2. migrations -------------------------------------------------------------------


@pytest.fixture(params=["migrations-sqlite", "migrations-postgresql"])
def migrations_check(request: pytest.FixtureRequest) -> str:
    """The migrations check on each SQL backend."""
    if request.param == "migrations-postgresql" and postgres_url() is None:
        pytest.skip(f"set {POSTGRES_ENV} to run the PostgreSQL tests")
    return str(request.param)


def test_a_migration_that_does_not_downgrade_fails(site: PluginSite, migrations_check: str) -> None:
    install(site, "sticky", downgrade="pass")
    problems = run_check("sticky", migrations_check, postgres_url=postgres_url())
    assert {p.check for p in problems} == {migrations_check}
    left, again = problems
    assert "downgrading to base left tables behind: sticky_note" in left.problem
    assert "downgrade()" in left.fix
    assert "upgrading again after the downgrade failed" in again.problem


def test_a_migration_missing_a_column_fails(site: PluginSite, migrations_check: str) -> None:
    install(site, "short", text_column="")
    problems = run_check("short", migrations_check, postgres_url=postgres_url())
    assert [p.problem for p in problems] == [
        "the migrated tables differ from those its entity types describe: "
        "missing column short_note.text"
    ]


def test_entity_types_without_a_migration_branch_fail(site: PluginSite) -> None:
    install(site, "branchless", extra="def crmkit_migrations():\n    return []\n")
    (problem,) = run_check("branchless", "migrations-sqlite")
    assert "branchless.note have no migration branch" in problem.problem
    assert "crmkit_migrations" in problem.fix


# -- 3. privacy ----------------------------------------------------------------------


def test_a_field_without_privacy_declarations_fails_the_privacy_check(site: PluginSite) -> None:
    install(site, "private", field='crmkit.field(default="")')
    problems = run_check("private", "privacy")
    assert [p.problem for p in problems] == [
        'private.note.text (private): no privacy class; declare privacy="none", '
        '"personal" or "sensitive" in crmkit.field(...)',
        'private.note.text (private): no erasure strategy; declare erase="delete", '
        '"anonymise" or "keep" in crmkit.field(...)',
    ]
    assert checks_failed(check_plugin("private")) == {"privacy"}


# -- 4. events -----------------------------------------------------------------------


def test_an_undocumented_event_outside_the_namespace_fails(site: PluginSite) -> None:
    install(site, "loud", event="sales.shouted")
    (problem,) = run_check("loud", "events")
    assert "sales.shouted is outside the plugin's namespace loud.*" in problem.problem


def test_an_event_about_an_unknown_record_fails(site: PluginSite) -> None:
    install(site, "vague", subject="deal")
    (problem,) = run_check("vague", "events")
    assert "vague.noted is about 'deal', not an entity type" in problem.problem


# -- 5. commands ---------------------------------------------------------------------


def test_a_command_group_writing_a_file_at_import_fails(site: PluginSite) -> None:
    install(site, "noisy", extra='open("noisy.log", "w").write("imported")\n')
    (problem,) = run_check("noisy", "commands")
    assert "wrote noisy.log in the current folder" in problem.problem
    assert "never at import" in problem.fix


def test_opening_a_crm_at_import_fails(site: PluginSite) -> None:
    install(site, "eager", extra='CRM = crmkit.open("memory://", plugins=[])\n')
    (problem,) = run_check("eager", "commands")
    assert "opened a CRM on memory://" in problem.problem


def test_a_command_shadowing_a_core_command_fails(site: PluginSite) -> None:
    install(site, "shadow", group="contacts")
    (problem,) = run_check("shadow", "commands")
    assert "command 'contacts' shadows the core command" in problem.problem


def test_the_commands_check_leaves_the_imported_plugin_in_place(site: PluginSite) -> None:
    install(site, "notes")
    import crmkit

    with crmkit.open("memory://", plugins=["notes"]):
        before = site.module("crmkit_notes")
    assert run_check("notes", "commands") == []
    assert site.module("crmkit_notes") is before


# -- 6. together ---------------------------------------------------------------------


def test_a_plugin_clashing_with_another_installed_plugin_fails(site: PluginSite) -> None:
    install(site, "notes")
    site.install(
        "twin",
        """
        import crmkit

        def crmkit_register_event_types():
            return [crmkit.EventType("notes.noted", version=2)]
        """,
    )
    (problem,) = run_check("notes", "together")
    assert "did not open" in problem.problem and "notes.noted" in problem.problem


def test_a_customer_view_that_breaks_on_a_new_contact_fails(site: PluginSite) -> None:
    install(
        site,
        "fragile",
        extra="def crmkit_customer_view(crm, contact):\n    raise KeyError(contact.id)\n",
    )
    (problem,) = run_check("fragile", "together")
    assert "customer view of a new contact failed" in problem.problem
    assert "return None" in problem.fix


# -- The one-line suite --------------------------------------------------------------


def test_the_suite_is_one_parametrized_test_per_check(site: PluginSite) -> None:
    install(site, "private", field='crmkit.field(default="")')
    suite = conformance_suite("private")
    (mark,) = suite.pytestmark  # type: ignore[attr-defined]
    assert mark.args == ("check", check_names())
    suite("hooks")
    with pytest.raises(pytest.fail.Exception, match="plugin private fails the privacy check"):
        suite("privacy")


def test_a_plugin_runs_the_suite_with_one_line(site: PluginSite, pytester: pytest.Pytester) -> None:
    install(site, "notes")
    install(site, "noisy", extra='open("noisy.log", "w").write("imported")\n')
    pytester.makepyfile(
        test_one_line_conformance="""
        from crmkit.testing.conformance import conformance_suite

        test_notes = conformance_suite("notes")
        test_noisy = conformance_suite("noisy")
        """
    )
    result = pytester.runpytest_inprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2 * len(check_names()) - 1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_notes[[]hooks[]] PASSED*",
            "*test_noisy[[]commands[]] FAILED*",
            "*plugin noisy fails the commands check: importing it*wrote noisy.log*",
        ]
    )


def test_the_loyalty_example_runs_the_suite() -> None:
    text = (ROOT / "examples/loyalty_plugin/tests/test_conformance.py").read_text("utf-8")
    assert 'test_conformance = conformance_suite("loyalty")' in text


def test_every_builtin_plugin_runs_the_suite_and_passes_it() -> None:
    """CI installs every plugin of plugins/ next to crmkit; each must conform."""
    for project in sorted((ROOT / "plugins").glob("*/pyproject.toml")):
        tests = "".join(p.read_text("utf-8") for p in project.parent.glob("tests/*.py"))
        assert "conformance_suite(" in tests, f"{project.parent.name}: add the conformance test"
        meta = tomllib.loads(project.read_text("utf-8"))["project"]
        for name in meta["entry-points"]["crmkit.plugins"]:
            assert check_plugin(name, postgres_url=postgres_url()) == []
