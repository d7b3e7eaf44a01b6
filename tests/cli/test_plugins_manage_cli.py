"""``crmkit plugins list / info / enable / disable / doctor`` on installed fake distributions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from crmkit.project import CONFIG_FILE, load_settings, write_plugin_list
from crmkit.testing.plugin_site import COMPATIBLE, PluginSite

if TYPE_CHECKING:
    from tests.cli.conftest import Cli

# Only the fake plugins each test installs count; the built-in ones are hidden.
pytestmark = pytest.mark.usefixtures("only_plugins_installed_here")

GOOD = "def crmkit_register_event_types():\n    return []\n"
NEEDS_SALES = [*COMPATIBLE, "crmkit-sales>=0.1,<0.2"]

STAMPCARD = '''
from pathlib import Path

import attrs
import click
import crmkit
from crmkit.migrations.runner import MigrationBranch
from crmkit.privacy import Channel, Purpose


@crmkit.entity("stampcard.card")
@attrs.define(kw_only=True)
class StampCard(crmkit.Entity):
    contact_id: str = crmkit.field(ref="contact", privacy="personal", erase="delete")
    points: int = crmkit.field(default=0, privacy="none", erase="keep")


@click.group("stampcard")
def stampcard_group():
    """Stamp cards."""


def crmkit_register_entity_types():
    return [StampCard]


def crmkit_register_event_types():
    return [crmkit.EventType("stampcard.stamped", version=2)]


def crmkit_register_commands():
    return [stampcard_group]


def crmkit_consent_purposes():
    return [Purpose("rewards", "Telling members about their stamps.")]


def crmkit_consent_channels():
    return [Channel("till_receipt", "Printed on the receipt.")]


def crmkit_settings_schema():
    return {"type": "object", "properties": {"stamps_per_reward": {"type": "integer"}}}


def crmkit_migrations():
    return [MigrationBranch("stampcard", str(Path(__file__).with_name("stampcard_migrations")))]
'''

STAMPCARD_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "stampcard_0001"
down_revision = None
branch_labels = ("stampcard",)
depends_on = "crmkit_0001"


def upgrade():
    op.create_table(
        "stampcard_card",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("contact_id", sa.String(36), nullable=False, index=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
    )


def downgrade():
    op.drop_table("stampcard_card")
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginSite]:
    with PluginSite(tmp_path / "site", monkeypatch) as plugins:
        yield plugins


def install_stampcard(site: PluginSite) -> None:
    folder = site.root / "stampcard_migrations"
    folder.mkdir()
    (folder / "stampcard_0001_cards.py").write_text(STAMPCARD_REVISION, encoding="utf-8")
    site.install("stampcard", STAMPCARD, version="1.4.0")


def config(cli: Cli) -> Path:
    assert cli.project is not None
    return cli.project / CONFIG_FILE


def enabled(cli: Cli) -> tuple[str, ...] | None:
    assert cli.project is not None
    return load_settings(cli.project).plugins


def with_comments(cli: Cli) -> None:
    """Give the project's crmkit.toml comments that an edit must keep."""
    path = config(cli)
    text = path.read_text().replace("plugins = []", "# chosen by the team\nplugins = []  # keep")
    path.write_text(text + "\n[plugins.stampcard]  # loyalty settings\nstamps_per_reward = 10\n")


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


# -- every way a plugin can be broken, shown by both list and doctor ---------------------


def _signature(site: PluginSite) -> list[str]:
    site.install("argue", "def crmkit_storage_backend(uri):\n    return None\n")
    return ["argue"]


def _misspelled(site: PluginSite) -> list[str]:
    site.install("typo", "def crmkit_register_entity_type():\n    return []\n")
    return ["typo"]


def _import(site: PluginSite) -> list[str]:
    site.install("broken", "raise RuntimeError('the licence server is down')\n")
    return ["broken"]


def _version(site: PluginSite) -> list[str]:
    site.install("future", GOOD, requires=["crmkit>=9"])
    return ["future"]


def _missing_dependency(site: PluginSite) -> list[str]:
    site.install("campaign", GOOD, requires=NEEDS_SALES)
    return ["campaign"]


def _cycle(site: PluginSite) -> list[str]:
    site.install("campaign", GOOD, requires=NEEDS_SALES)
    site.install("sales", GOOD, requires=[*COMPATIBLE, "crmkit-campaign>=0.1"])
    return ["campaign", "sales"]


BROKEN: dict[str, tuple[Callable[[PluginSite], list[str]], str]] = {
    "wrong hook signature": (_signature, "only arguments named url"),
    "misspelled hook": (_misspelled, "rename it to crmkit_register_entity_types"),
    "import error": (_import, "CRMKIT_DISABLE_PLUGINS=broken"),
    "crmkit version": (_version, "upgrade the plugin"),
    "missing dependency": (_missing_dependency, "pip install 'crmkit-sales<0.2,>=0.1'"),
    "dependency cycle": (_cycle, "do not require each other"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_plugin_is_named_with_its_fix_and_the_rest_keeps_working(
    case: str, site: PluginSite, cli: Cli
) -> None:
    setup, fix = BROKEN[case]
    bad = setup(site)
    site.install("good", GOOD)
    assert cli.project is not None
    write_plugin_list(cli.project, [*bad, "good"])

    listed = cli("plugins", "list", "--json")
    assert listed.code == 0, listed.err
    rows = by_name(listed.json())
    assert rows["good"]["status"] == "loaded"
    for name in bad:
        assert rows[name]["status"] in ("failed", "incompatible")
        assert name in rows[name]["error"] and fix in rows[name]["error"]
        assert fix in rows[name]["fix"]
    table = cli("plugins", "list")
    assert f"{bad[0]}: " in table.out and fix in table.out

    doctor = cli("plugins", "doctor", "--json")
    assert doctor.code == 6
    report = doctor.json()
    assert report["healthy"] is False
    problems = {p["plugin"]: p for p in report["problems"]}
    assert set(problems) == set(bad)
    assert all(fix in problems[name]["fix"] for name in bad)
    text = cli("plugins", "doctor")
    assert text.code == 6
    assert f"{bad[0]}: " in text.out and "fix: " in text.out and fix in text.out

    assert cli("contacts", "add", "--first-name", "Ada").code == 0
    assert cli("contacts", "list", "--json").json()[0]["first_name"] == "Ada"


# -- list ------------------------------------------------------------------------------


def test_list_shows_the_projects_plugins_and_all_shows_every_installed_one(
    site: PluginSite, cli: Cli
) -> None:
    site.install("good", GOOD)
    site.install("other", GOOD)
    assert cli.project is not None
    write_plugin_list(cli.project, ["good", "ghost"])
    rows = by_name(cli("plugins", "list", "--json").json())
    assert set(rows) == {"good", "ghost"}
    assert rows["ghost"]["status"] == "missing"
    assert "crmkit plugins disable ghost" in rows["ghost"]["reason"]
    table = cli("plugins", "list")
    assert "other" not in table.out.split("\n\n")[0]
    assert "1 more installed; 'crmkit plugins list --all' shows them." in table.out
    everything = by_name(cli("plugins", "list", "--all", "--json").json())
    assert {"good", "ghost", "other"} <= set(everything)
    assert everything["other"]["status"] == "disabled"
    assert "crmkit plugins enable other" in everything["other"]["reason"]


# -- info ------------------------------------------------------------------------------


def test_info_shows_what_a_plugin_brings_without_enabling_it(site: PluginSite, cli: Cli) -> None:
    install_stampcard(site)
    result = cli("plugins", "info", "stampcard", "--json")
    assert result.code == 0, result.err
    about = result.json()
    assert (about["version"], about["distribution"], about["status"]) == (
        "1.4.0",
        "crmkit-stampcard",
        "loaded",
    )
    assert about["enabled"] is False and about["requires_crmkit"] == "<0.2,>=0.1"
    [card] = about["entity_types"]
    fields = {f["name"]: f for f in card["fields"]}
    assert (card["name"], card["table"]) == ("stampcard.card", "stampcard_card")
    assert (fields["contact_id"]["privacy"], fields["contact_id"]["erase"]) == (
        "personal",
        "delete",
    )
    assert fields["contact_id"]["ref"] == "contact"
    assert (fields["points"]["privacy"], fields["points"]["erase"]) == ("none", "keep")
    assert about["event_types"] == [{"name": "stampcard.stamped", "version": 2, "description": ""}]
    assert [c["name"] for c in about["commands"]] == ["stampcard"]
    assert [p["name"] for p in about["purposes"]] == ["rewards"]
    assert [c["name"] for c in about["channels"]] == ["till_receipt"]
    assert [m["branch"] for m in about["migrations"]] == ["stampcard"]
    assert about["settings"] == ["stamps_per_reward"]
    assert "crmkit_migrations" in about["hooks"] and about["problems"] == []

    text = cli("plugins", "info", "stampcard").out
    assert "stampcard 1.4.0" in text
    assert "contact_id: str, privacy personal, erase delete -> contact" in text
    assert "stampcard.stamped v2" in text and "branch stampcard" in text


def test_info_names_the_plugins_required_and_requiring(site: PluginSite, cli: Cli) -> None:
    site.install("campaign", GOOD, requires=NEEDS_SALES)
    site.install("sales", GOOD, version="0.1.2")
    campaign = cli("plugins", "info", "campaign", "--json").json()
    assert campaign["status"] == "loaded"
    assert campaign["requires"] == [
        {
            "requirement": "crmkit-sales<0.2,>=0.1",
            "plugins": ["sales"],
            "installed": "0.1.2",
            "met": True,
        }
    ]
    assert cli("plugins", "info", "sales", "--json").json()["required_by"] == ["campaign"]
    assert (
        "requires:     crmkit-sales<0.2,>=0.1 (installed 0.1.2)"
        in cli("plugins", "info", "campaign").out
    )
    unknown = cli("plugins", "info", "ghost")
    assert unknown.code == 6 and "installed: campaign, sales" in unknown.err


# -- enable and disable ----------------------------------------------------------------


def test_enable_edits_crmkit_toml_and_applies_the_migrations(
    site: PluginSite, any_cli: Cli
) -> None:
    install_stampcard(site)
    with_comments(any_cli)
    assert any_cli("plugins", "doctor").code == 0

    result = any_cli("plugins", "enable", "stampcard")
    assert result.code == 0, result.err
    assert result.out == "Enabled stampcard.\nMigrated stampcard to stampcard_0001\n"
    assert enabled(any_cli) == ("stampcard",)
    text = config(any_cli).read_text()
    assert "# chosen by the team\n" in text and "  # keep" in text
    assert "[plugins.stampcard]  # loyalty settings" in text
    branches = {s["branch"]: s for s in any_cli("db", "current", "--json").json()}
    assert branches["stampcard"]["current"] == "stampcard_0001"
    assert branches["stampcard"]["up_to_date"] is True
    assert any_cli("plugins", "doctor").code == 0

    again = any_cli("plugins", "enable", "stampcard")
    assert (again.code, again.out) == (0, "stampcard is already enabled in this project.\n")
    assert config(any_cli).read_text() == text

    assert any_cli("plugins", "disable", "stampcard").code == 0
    assert enabled(any_cli) == ()
    back = any_cli("plugins", "enable", "stampcard")
    assert back.out == (
        "Enabled stampcard.\nThe database already has the migrations of stampcard.\n"
    )


def test_plugins_that_require_each_other_are_disabled_together(site: PluginSite, cli: Cli) -> None:
    _cycle(site)
    assert cli.project is not None
    write_plugin_list(cli.project, ["campaign", "sales"])
    fix = cli("plugins", "list", "--json").json()[0]["fix"]
    assert "'crmkit plugins disable campaign sales'" in fix
    assert cli("plugins", "disable", "campaign").code == 6
    result = cli("plugins", "disable", "campaign", "sales")
    assert result.code == 0, result.err
    assert enabled(cli) == ()
    assert cli("plugins", "doctor").code == 0


def test_enable_also_enables_what_a_plugin_requires(site: PluginSite, cli: Cli) -> None:
    site.install("campaign", GOOD, requires=NEEDS_SALES)
    site.install("sales", GOOD)
    result = cli("plugins", "enable", "campaign")
    assert result.code == 0, result.err
    assert result.out == "Enabled campaign and sales, which it requires.\n"
    assert enabled(cli) == ("sales", "campaign")
    rows = by_name(cli("plugins", "list", "--json").json())
    assert rows["campaign"]["status"] == rows["sales"]["status"] == "loaded"


def test_enable_refuses_what_cannot_load_and_changes_nothing(site: PluginSite, cli: Cli) -> None:
    site.install("campaign", GOOD, requires=NEEDS_SALES)
    site.install("future", GOOD, requires=["crmkit>=9"])
    before = config(cli).read_text()

    missing = cli("plugins", "enable", "campaign")
    assert missing.code == 6
    assert "cannot enable campaign" in missing.err
    assert "pip install 'crmkit-sales<0.2,>=0.1'" in missing.err
    future = cli("plugins", "enable", "future")
    assert future.code == 6 and "supports crmkit >=9" in future.err
    unknown = cli("plugins", "enable", "ghost")
    assert unknown.code == 6
    assert "'ghost' is not installed" in unknown.err and "campaign, future" in unknown.err
    assert config(cli).read_text() == before


def test_disable_refuses_while_another_plugin_requires_it(site: PluginSite, cli: Cli) -> None:
    site.install("campaign", GOOD, requires=NEEDS_SALES)
    site.install("sales", GOOD)
    with_comments(cli)
    assert cli("plugins", "enable", "campaign").code == 0

    refused = cli("plugins", "disable", "sales")
    assert refused.code == 6
    assert "cannot disable sales: campaign requires it" in refused.err
    assert "'crmkit plugins disable campaign sales'" in refused.err
    assert enabled(cli) == ("sales", "campaign")

    result = cli("plugins", "disable", "campaign")
    assert result.code == 0, result.err
    assert result.out.startswith("Disabled campaign. Its tables and data stay")
    assert enabled(cli) == ("sales",)
    assert "# chosen by the team\n" in config(cli).read_text()
    again = cli("plugins", "disable", "campaign")
    assert (again.code, again.out) == (0, "campaign is not enabled in this project.\n")
    unknown = cli("plugins", "disable", "ghost")
    assert unknown.code == 6 and "'ghost' is not installed" in unknown.err


def test_a_listed_plugin_that_is_not_installed_can_be_disabled(cli: Cli) -> None:
    assert cli.project is not None
    write_plugin_list(cli.project, ["ghost"])
    doctor = cli("plugins", "doctor", "--json")
    assert doctor.code == 6
    [problem] = doctor.json()["problems"]
    assert problem["plugin"] == "ghost" and "not installed" in problem["problem"]
    assert "'crmkit plugins disable ghost'" in problem["fix"]
    assert cli("plugins", "disable", "ghost").code == 0
    assert enabled(cli) == ()
    assert cli("plugins", "doctor").out == "Checked 0 plugins: no problems found.\n"


# -- doctor ----------------------------------------------------------------------------


def test_doctor_reports_pending_migrations_without_applying_them(
    site: PluginSite, any_cli: Cli
) -> None:
    install_stampcard(site)
    assert any_cli.project is not None
    write_plugin_list(any_cli.project, ["stampcard"])

    result = any_cli("plugins", "doctor", "--json")
    assert result.code == 6
    [problem] = result.json()["problems"]
    assert problem["plugin"] == "stampcard"
    assert "has not had the migrations of stampcard" in problem["problem"]
    assert problem["fix"] == "apply them: 'crmkit db upgrade'"
    branches = {s["branch"]: s for s in any_cli("db", "current", "--json").json()}
    assert branches["stampcard"]["current"] is None, "the doctor writes nothing"

    assert any_cli("db", "upgrade").code == 0
    healthy = any_cli("plugins", "doctor")
    assert (healthy.code, healthy.out) == (0, "Checked 1 plugin: no problems found.\n")


def test_doctor_outside_a_project_checks_every_installed_plugin(
    site: PluginSite, outside: Cli
) -> None:
    site.install("good", GOOD)
    assert outside("plugins", "doctor").code == 0
    site.install("broken", "raise RuntimeError('the licence server is down')\n")
    result = outside("plugins", "doctor", "--json")
    assert result.code == 6
    assert [p["plugin"] for p in result.json()["problems"]] == ["broken"]
    assert "good" in result.json()["checked"]


def test_enable_names_the_required_plugin_that_is_broken(site: PluginSite, cli: Cli) -> None:
    site.install("campaign", GOOD, requires=NEEDS_SALES)
    site.install("sales", "raise RuntimeError('no pipeline table')\n")
    result = cli("plugins", "enable", "campaign")
    assert result.code == 6
    assert "cannot enable campaign: plugin crmkit-sales 0.1.0 failed to import" in result.err
    assert "no pipeline table" in result.err
    assert enabled(cli) == ()
