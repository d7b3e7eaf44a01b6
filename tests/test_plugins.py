"""Plugin loading through real entry points of (throwaway) installed distributions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.errors import ConfigError, PluginError
from crmkit.plugins.manager import PluginInfo
from crmkit.project import CONFIG_FILE, write_project
from crmkit.storage.memory import MemoryBackend
from crmkit.testing.plugin_site import PluginSite

STAMPCARD = '''
import attrs
import crmkit
from crmkit.view import ViewSection
from crmkit.storage.query import Cond, Query

HEARD = []


@crmkit.entity("stampcard.card")
@attrs.define(kw_only=True)
class StampCard(crmkit.Entity):
    contact_id: str = crmkit.field(ref="contact", privacy="personal", erase="delete")
    points: int = crmkit.field(default=0, privacy="none", erase="delete")


def crmkit_register_entity_types():
    return [StampCard]


def crmkit_register_event_types():
    return [crmkit.EventType("stampcard.stamped")]


def crmkit_register_subscribers():
    return [("contact.created", HEARD.append)]


def crmkit_customer_view(crm, contact):
    with crm.unit_of_work() as uow:
        rows = uow.tx.query(
            crm.entity_type("stampcard.card"), Query(Cond("contact_id", "eq", contact.id))
        )
    return ViewSection("Stamp card", {"points": sum(r["points"] for r in rows)})
'''

QUIET = "def crmkit_register_event_types():\n    return []\n"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginSite]:
    monkeypatch.delenv("CRMKIT_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("CRMKIT_DISABLE_PLUGINS", raising=False)
    with PluginSite(tmp_path / "site", monkeypatch) as plugins:
        yield plugins


def info(crm: CRM, name: str) -> PluginInfo:
    return next(p for p in crm.plugins if p.name == name)


def loaded(crm: CRM, site: PluginSite) -> list[str]:
    """The plugins of this test's site that loaded (other installed plugins are ignored)."""
    return sorted(p.name for p in crm.plugins if p.status == "loaded" and p.name in site.names)


def test_an_installed_plugin_loads_and_everything_it_brings_works(site: PluginSite) -> None:
    module = site.install("stampcard", STAMPCARD, version="1.2.0")
    with crmkit.open("memory://") as crm:
        about = info(crm, "stampcard")
        assert (about.status, about.distribution, about.version) == (
            "loaded", "crmkit-stampcard", "1.2.0",
        )
        assert about.requires_crmkit == "<0.2,>=0.1"
        assert "crmkit_register_entity_types" in about.hooks
        assert crm.entity_type("stampcard.card").plugin == "stampcard"

        ada = crm.contacts.add(first_name="Ada")
        assert [e.subject_id for e in site.module(module).HEARD] == [ada.id]
        account = crm.entity_type("stampcard.card")
        with crm.unit_of_work() as uow:
            uow.tx.add(account, account.to_row(account.cls(contact_id=ada.id, points=30)))
            uow.raise_event("stampcard.stamped", {"points": 30}, subject_id=ada.id)
        [section] = [s for s in crm.view(ada.id).sections if s.plugin == "stampcard"]
        assert (section.title, section.data) == ("Stamp card", {"points": 30})
        assert crm.events.read(names=["stampcard.stamped"])[0].payload == {"points": 30}


def test_load_and_disable_lists_choose_installed_plugins(
    site: PluginSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.install("alpha", QUIET)
    site.install("beta", QUIET)
    with crmkit.open("memory://") as crm:
        assert loaded(crm, site) == ["alpha", "beta"]
    monkeypatch.setenv("CRMKIT_LOAD_PLUGINS", "beta")
    with crmkit.open("memory://") as crm:
        assert loaded(crm, site) == ["beta"]
        assert (info(crm, "alpha").status, info(crm, "alpha").enabled) == ("disabled", False)
    monkeypatch.setenv("CRMKIT_LOAD_PLUGINS", "")
    with crmkit.open("memory://") as crm:
        assert loaded(crm, site) == []
    monkeypatch.delenv("CRMKIT_LOAD_PLUGINS")
    monkeypatch.setenv("CRMKIT_DISABLE_PLUGINS", "alpha, gamma")
    with crmkit.open("memory://") as crm:
        assert loaded(crm, site) == ["beta"]


def test_the_plugins_argument_names_the_plugins_to_load(site: PluginSite) -> None:
    site.install("alpha", QUIET)
    site.install("beta", QUIET)
    with crmkit.open("memory://", plugins=["alpha"]) as crm:
        assert loaded(crm, site) == ["alpha"]
    with crmkit.open("memory://", plugins=[]) as crm:
        assert loaded(crm, site) == []
    with pytest.raises(PluginError, match="'gamma' is not installed") as caught:
        crmkit.open("memory://", plugins=["alpha", "gamma"])
    assert "installed: " in str(caught.value) and "alpha, beta" in str(caught.value)


def test_a_plugin_that_fails_to_import_is_reported_and_skipped(site: PluginSite) -> None:
    site.install("broken", "raise RuntimeError('missing licence key')\n", version="0.3.1")
    site.install("alpha", QUIET)
    with crmkit.open("memory://") as crm:
        broken = info(crm, "broken")
        assert broken.status == "failed"
        assert broken.error is not None
        assert "crmkit-broken 0.3.1" in broken.error
        assert "RuntimeError: missing licence key" in broken.error
        assert "CRMKIT_DISABLE_PLUGINS=broken" in broken.error
        assert loaded(crm, site) == ["alpha"]
        assert crm.contacts.add(first_name="Ada").first_name == "Ada"
    with pytest.raises(PluginError, match=re.escape("crmkit-broken 0.3.1 failed to import")):
        crmkit.open("memory://", plugins=["alpha", "broken"], strict=True)


def test_a_plugin_for_another_crmkit_version_is_refused(site: PluginSite) -> None:
    module = site.install("future", QUIET, version="5.0.0", requires=["crmkit>=9"])
    with crmkit.open("memory://") as crm:
        future = info(crm, "future")
        assert future.status == "incompatible"
        assert future.error is not None
        assert "crmkit-future 5.0.0 supports crmkit >=9" in future.error
        assert f"this is crmkit {crmkit.__version__}" in future.error
    assert not site.imported(module), "an incompatible plugin is never imported"
    with pytest.raises(PluginError, match="supports crmkit >=9"):
        crmkit.open("memory://", plugins=["future"], strict=True)


def test_a_misspelled_hook_fails_the_plugin_naming_the_hook(site: PluginSite) -> None:
    site.install("typo", "def crmkit_register_entity_type():\n    return []\n")
    with crmkit.open("memory://") as crm:
        typo = info(crm, "typo")
        assert typo.status == "failed"
        assert typo.error is not None and "crmkit_register_entity_type" in typo.error
        assert "hook" in typo.error
    with pytest.raises(PluginError, match="crmkit_register_entity_type"):
        crmkit.open("memory://", plugins=["typo"], strict=True)


def test_a_hook_with_a_wrong_argument_name_fails_the_plugin(site: PluginSite) -> None:
    site.install("argue", "def crmkit_storage_backend(uri):\n    return None\n")
    with crmkit.open("memory://") as crm:
        argue = info(crm, "argue")
        assert argue.status == "failed"
        assert argue.error is not None
        assert "crmkit_storage_backend" in argue.error and "uri" in argue.error
        assert isinstance(crm.backend, MemoryBackend)


def test_two_plugins_with_the_same_entity_type_are_an_error_naming_both(
    site: PluginSite,
) -> None:
    thing = '''
import attrs
import crmkit


@crmkit.entity("shared.thing")
@attrs.define(kw_only=True)
class Thing(crmkit.Entity):
    label: str = crmkit.field(default="", privacy="none", erase="keep")


def crmkit_register_entity_types():
    return [Thing]
'''
    site.install("alpha", thing)
    site.install("beta", thing)
    with pytest.raises(PluginError, match=re.escape("'shared.thing'")) as caught:
        crmkit.open("memory://", plugins=["alpha", "beta"])
    assert "alpha" in str(caught.value) and "beta" in str(caught.value)


def test_plugin_settings_are_checked_against_the_plugins_schema(
    site: PluginSite, tmp_path: Path
) -> None:
    site.install(
        "alerts",
        '''
def crmkit_settings_schema():
    return {
        "type": "object",
        "properties": {"threshold": {"type": "integer", "minimum": 1}},
        "additionalProperties": False,
    }
''',
    )
    good, bad = tmp_path / "good", tmp_path / "bad"
    for folder, value in ((good, "5"), (bad, '"high"')):
        write_project(folder, database="memory://", plugins=["alerts"])
        with (folder / CONFIG_FILE).open("a", encoding="utf-8") as config:
            config.write(f"\n[plugins.alerts]\nthreshold = {value}\n")
    with crmkit.open(good) as crm:
        assert crm.settings.plugin("alerts") == {"threshold": 5}
    with pytest.raises(ConfigError, match=r"\[plugins\.alerts\] threshold") as caught:
        crmkit.open(bad)
    assert "'high' is not of type 'integer'" in str(caught.value)


def test_a_plugin_can_supply_the_storage_for_its_own_url_scheme(site: PluginSite) -> None:
    site.install(
        "scratch",
        '''
from crmkit.storage.memory import MemoryBackend


def crmkit_storage_backend(url):
    return MemoryBackend(url) if url.startswith("scratch://") else None
''',
    )
    with crmkit.open("scratch://notes", plugins=["scratch"]) as crm:
        assert isinstance(crm.backend, MemoryBackend) and crm.backend.url == "scratch://notes"
        assert crm.contacts.add(first_name="Ada").first_name == "Ada"
    with crmkit.open("memory://", plugins=["scratch"]) as crm:
        assert crm.backend.url == "memory://"
    with pytest.raises(ConfigError, match="no storage backend handles scratch://"):
        crmkit.open("scratch://notes", plugins=[])


def test_hook_contract_errors_say_what_the_plugin_must_change(site: PluginSite) -> None:
    site.install("typo", "def crmkit_register_entity_type():\n    return []\n")
    site.install("argue", "def crmkit_storage_backend(uri, url):\n    return None\n")
    site.install("alpha", QUIET)
    with crmkit.open("memory://") as crm:
        typo, argue = info(crm, "typo"), info(crm, "argue")
        assert typo.fix is not None and argue.fix is not None
        assert "crmkit_register_entity_type is not a crmkit hook" in str(typo.error)
        assert "rename it to crmkit_register_entity_types" in typo.fix
        assert "crmkit_storage_backend takes uri, which the hook does not pass" in str(argue.error)
        assert "only arguments named url" in argue.fix
        for fix in (typo.fix, argue.fix):
            assert "CRMKIT_DISABLE_PLUGINS=" in fix
        assert loaded(crm, site) == ["alpha"]
