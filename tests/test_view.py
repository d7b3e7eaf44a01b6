"""The single customer view: profile, organizations, latest interactions, plugin sections."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.entities import Contact
from crmkit.errors import NotFound, PluginError
from crmkit.view import ViewSection


class VipDesk:
    """An application's own plugin: marks big spenders in the customer view."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def crmkit_customer_view(self, crm: CRM, contact: Contact, actor: str | None) -> ViewSection:
        self.calls.append((contact.id, actor))
        orders = len(crm.interactions.timeline(contact.id, limit=None))
        return ViewSection("VIP", {"vip": "vip" in contact.tags, "touchpoints": orders})


class QuietDesk:
    """A plugin with nothing to say about this contact."""

    def crmkit_customer_view(self, contact: Contact) -> ViewSection | None:
        return None


@pytest.fixture
def vip() -> VipDesk:
    return VipDesk()


@pytest.fixture
def vip_crm(any_url: str, vip: VipDesk) -> Iterator[CRM]:
    plugins = [("vip", vip), ("quiet", QuietDesk())]
    with crmkit.open(any_url, plugins=["vip", "quiet"], extra_plugins=plugins) as crm:
        yield crm


def test_the_view_shows_profile_organizations_and_latest_interactions(crm: CRM) -> None:
    org = crm.organizations.add(name="Analytical Engines")
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com", org=org.id, role="CTO")
    for day in (2, 5, 1, 4, 3):
        crm.interactions.log(
            ada.id, channel="email", summary=f"day {day}",
            occurred_at=dt.datetime(2024, 5, day, tzinfo=dt.UTC),
        )
    view = crm.view("ADA@example.com", interactions=3)
    assert view.contact == ada
    assert [(m.organization.name, m.role) for m in view.organizations] == [
        ("Analytical Engines", "CTO")
    ]
    assert [i.summary for i in view.interactions] == ["day 5", "day 4", "day 3"]
    assert view.sections == ()
    data = json.loads(json.dumps(view.as_dict()))
    assert data["contact"]["email"] == "ada@example.com"
    assert data["interactions"][0]["occurred_at"].startswith("2024-05-05")
    with pytest.raises(NotFound):
        crm.view("nobody@example.com")


def test_plugins_add_their_sections(vip_crm: CRM, vip: VipDesk) -> None:
    ada = vip_crm.contacts.add(first_name="Ada", tags=["vip"])
    vip_crm.interactions.log(ada.id, channel="web", kind="purchase")
    view = vip_crm.view(ada.id, actor="alice")
    assert view.sections == (ViewSection("VIP", {"vip": True, "touchpoints": 1}, "vip"),)
    assert vip.calls == [(ada.id, "alice")]
    assert view.as_dict()["sections"] == [
        {"title": "VIP", "plugin": "vip", "data": {"vip": True, "touchpoints": 1}}
    ]


def test_a_section_that_is_not_a_view_section_is_a_plugin_error() -> None:
    class Sloppy:
        def crmkit_customer_view(self) -> dict[str, str]:
            return {"title": "oops"}

    with crmkit.open("memory://", plugins=["sloppy"], extra_plugins=[("sloppy", Sloppy())]) as crm:
        ada = crm.contacts.add(first_name="Ada")
        with pytest.raises(PluginError, match=r"sloppy: .*ViewSection"):
            crm.view(ada.id)


def test_the_view_shows_consent_and_restriction_once_something_is_recorded(crm: CRM) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    assert [s.title for s in crm.view(ada.id).sections] == []
    crm.privacy.consent.grant(ada.id, purpose="marketing", channel="email", evidence="form v2")
    crm.privacy.consent.withdraw(ada.id, purpose="service", channel="sms")
    [section] = crm.view(ada.id).sections
    assert (section.title, section.plugin) == ("Consent", "crmkit")
    assert [(r["purpose"], r["channel"], r["status"]) for r in section.data] == [
        ("marketing", "email", "granted"),
        ("service", "sms", "withdrawn"),
    ]
    assert "form v2" not in repr(section.data)  # evidence stays in the ledger
    crm.privacy.restrict(ada.id, reason="accuracy contested")
    [section] = crm.view(ada.id).sections
    assert section.title == "Consent (processing restricted: accuracy contested)"
