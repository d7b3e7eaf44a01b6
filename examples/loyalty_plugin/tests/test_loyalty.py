"""Tests of crmkit-loyalty, run against the installed plugin: pytest tests/"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import crmkit
from crmkit import Event
from crmkit.cli import cli
from crmkit.crm import CRM
from crmkit.errors import ConfigError


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[CRM]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    with crmkit.open(url, plugins=["loyalty"], strict=True) as opened:
        yield opened


def test_plugin_loads_with_its_hooks(crm: CRM) -> None:
    (info,) = [p for p in crm.plugins if p.name == "loyalty"]
    assert info.status == "loaded"
    assert "crmkit_customer_view" in info.hooks
    assert "loyalty.account" in crm.entity_types
    assert "loyalty.points_awarded" in crm.events.types


def test_award_opens_account_and_raises_event(crm: CRM) -> None:
    from crmkit_loyalty import account_of, award

    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    awarded: list[Event] = []
    crm.events.subscribe("loyalty.*", awarded.append)
    award(crm, "ada@example.com", 150, reason="welcome")
    account = account_of(crm, ada.id)
    assert account is not None
    assert (account.points, account.tier) == (150, "silver")
    assert [e.payload["balance"] for e in awarded] == [150]


def test_purchase_earns_points_and_announces_tier(
    crm: CRM, caplog: pytest.LogCaptureFixture
) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    caplog.set_level(logging.INFO, logger="crmkit_loyalty")
    for _ in range(10):
        crm.interactions.log(ada.id, channel="web", kind="purchase")
    section = crm.view(ada.id).sections[0]
    assert (section.title, section.plugin) == ("Loyalty", "loyalty")
    assert section.data == {"points": 100, "tier": "silver"}
    assert f"contact {ada.id} reached the silver tier" in caplog.text


def test_settings_are_validated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    with pytest.raises(ConfigError, match="points_per_purchase"):
        crmkit.open(url, plugins=["loyalty"],
                    plugin_settings={"loyalty": {"points_per_purchase": -1}})


def test_cli_group(tmp_path: Path) -> None:
    runner = CliRunner()
    project = str(tmp_path / "shop")
    assert runner.invoke(cli, ["init", project, "--plugin", "loyalty"]).exit_code == 0
    base = ["--project", project]
    added = runner.invoke(cli, [*base, "contacts", "add", "--email", "ada@example.com"])
    assert added.exit_code == 0, added.output
    result = runner.invoke(cli, [*base, "loyalty", "award", "ada@example.com", "600"])
    assert result.exit_code == 0, result.output
    assert "600 points, tier gold" in result.output
    shown = runner.invoke(cli, [*base, "loyalty", "show", "ada@example.com"])
    assert "gold" in shown.output
