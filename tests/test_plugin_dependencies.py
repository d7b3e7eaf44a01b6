"""Plugins that require other plugins: load order, and every way a requirement can fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.errors import PluginError
from crmkit.plugins.dependencies import dependency_order
from crmkit.plugins.manager import PluginInfo, collect
from crmkit.testing.plugin_site import COMPATIBLE, PluginSite

# Only the fake plugins each test installs count; the built-in ones are hidden.
pytestmark = pytest.mark.usefixtures("only_plugins_installed_here")

SALES = """
import crmkit

def crmkit_register_event_types():
    return [crmkit.EventType("sales.deal.won")]
"""
CAMPAIGN = """
import crmkit

def crmkit_register_event_types():
    return [crmkit.EventType("campaign.sent")]
"""
QUIET = "def crmkit_register_event_types():\n    return []\n"
NEEDS_SALES = [*COMPATIBLE, "crmkit-sales>=0.1,<0.2"]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginSite]:
    monkeypatch.delenv("CRMKIT_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("CRMKIT_DISABLE_PLUGINS", raising=False)
    with PluginSite(tmp_path / "site", monkeypatch) as plugins:
        yield plugins


def info(crm: CRM, name: str) -> PluginInfo:
    return next(p for p in crm.plugins if p.name == name)


def test_a_plugin_loads_after_the_plugin_it_requires(site: PluginSite) -> None:
    # "campaign" sorts before "sales"; the dependency still registers first.
    site.install("campaign", CAMPAIGN, requires=NEEDS_SALES)
    site.install("sales", SALES)
    with crmkit.open("memory://", plugins=["campaign", "sales"]) as crm:
        assert (info(crm, "campaign").status, info(crm, "sales").status) == ("loaded", "loaded")
        assert info(crm, "campaign").requires == ["crmkit-sales<0.2,>=0.1"]
        assert info(crm, "sales").requires == []
        registered = [name for name, _ in crm.pm.list_name_plugin()]
        assert registered.index("sales") < registered.index("campaign")
        # pluggy calls the last registered first: a plugin can override the one it builds on.
        called = [p for p, _ in collect(crm.pm, "crmkit_register_event_types")]
        assert called == ["campaign", "sales", "crmkit.core"]
        with crm.unit_of_work() as uow:
            uow.raise_event("campaign.sent", {})
            uow.raise_event("sales.deal.won", {})


def test_a_missing_required_plugin_fails_only_the_plugin_that_needs_it(
    site: PluginSite,
) -> None:
    module = site.install("campaign", CAMPAIGN, requires=NEEDS_SALES, version="0.1.4")
    site.install("alpha", QUIET)
    with crmkit.open("memory://", plugins=["campaign", "alpha"]) as crm:
        campaign = info(crm, "campaign")
        assert campaign.status == "failed"
        assert campaign.error is not None
        assert "crmkit-campaign 0.1.4 requires crmkit-sales<0.2,>=0.1" in campaign.error
        assert "not installed" in campaign.error
        assert campaign.fix == "pip install 'crmkit-sales<0.2,>=0.1'"
        assert info(crm, "alpha").status == "loaded"
        assert crm.contacts.add(first_name="Ada").first_name == "Ada"
    assert not site.imported(module), "a plugin whose requirements fail is never imported"
    with pytest.raises(PluginError, match="requires crmkit-sales"):
        crmkit.open("memory://", plugins=["campaign"], strict=True)


def test_a_required_plugin_of_the_wrong_version_is_named_with_its_version(
    site: PluginSite,
) -> None:
    site.install("campaign", CAMPAIGN, requires=NEEDS_SALES)
    site.install("sales", SALES, version="0.3.0")
    with crmkit.open("memory://", plugins=["campaign", "sales"]) as crm:
        campaign = info(crm, "campaign")
        assert campaign.status == "failed" and campaign.error is not None
        assert "but crmkit-sales 0.3.0 is installed" in campaign.error
        assert "pip install 'crmkit-sales<0.2,>=0.1'" in campaign.error
        assert info(crm, "sales").status == "loaded"


def test_a_required_plugin_that_is_not_enabled_says_how_to_enable_it(
    site: PluginSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.install("campaign", CAMPAIGN, requires=NEEDS_SALES)
    site.install("sales", SALES)
    with crmkit.open("memory://", plugins=["campaign"]) as crm:
        campaign = info(crm, "campaign")
        assert campaign.status == "failed" and campaign.error is not None
        assert "requires plugin sales" in campaign.error and "not enabled" in campaign.error
        assert campaign.fix == "enable it too: 'crmkit plugins enable sales'"
    monkeypatch.setenv("CRMKIT_DISABLE_PLUGINS", "sales")
    with crmkit.open("memory://") as crm:
        assert info(crm, "campaign").status == "failed"
        assert "remove sales from CRMKIT_DISABLE_PLUGINS" in str(info(crm, "campaign").fix)


def test_a_required_plugin_that_fails_fails_its_dependents(site: PluginSite) -> None:
    site.install("campaign", CAMPAIGN, requires=NEEDS_SALES)
    site.install("sales", "raise ImportError('no pipeline table')\n")
    with crmkit.open("memory://", plugins=["campaign", "sales"]) as crm:
        assert info(crm, "sales").status == "failed"
        campaign = info(crm, "campaign")
        assert campaign.status == "failed" and campaign.error is not None
        assert "requires plugin sales" in campaign.error and "did not load" in campaign.error


def test_plugins_that_require_each_other_do_not_load(site: PluginSite) -> None:
    site.install("campaign", CAMPAIGN, requires=NEEDS_SALES)
    site.install("sales", SALES, requires=[*COMPATIBLE, "crmkit-campaign>=0.1"])
    site.install("alpha", QUIET)
    with crmkit.open("memory://") as crm:
        for name in ("campaign", "sales"):
            about = info(crm, name)
            assert about.status == "failed" and about.error is not None
            assert "dependency cycle (campaign -> sales -> campaign)" in about.error
        assert info(crm, "alpha").status == "loaded"
    with pytest.raises(PluginError, match="cycle"):
        crmkit.open("memory://", plugins=["campaign", "sales"], strict=True)


def test_libraries_and_optional_requirements_are_not_plugin_dependencies(
    site: PluginSite,
) -> None:
    requires = [*COMPATIBLE, "attrs>=20", "crmkit-ghost>=1; extra == 'ghosts'"]
    site.install("alpha", QUIET, requires=requires)
    with crmkit.open("memory://", plugins=["alpha"]) as crm:
        assert (info(crm, "alpha").status, info(crm, "alpha").requires) == ("loaded", [])


def test_dependency_order_puts_requirements_first_and_finds_cycles() -> None:
    order, cycles = dependency_order(
        {"campaign": ["sales"], "sales": ["core-data"], "core-data": [], "alpha": ["gone"]}
    )
    assert order == ["alpha", "core-data", "sales", "campaign"]
    assert cycles == []
    order, cycles = dependency_order({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]})
    assert cycles == [["a", "b", "c", "a"]]
    assert sorted(order) == ["a", "b", "c", "d"]
