"""``crmkit log``, ``crmkit timeline`` and ``crmkit view``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.cli.conftest import Cli

LOYALTY = """
    from crmkit.view import ViewSection

    def crmkit_customer_view(crm, contact, actor):
        return ViewSection("Loyalty", {"points": 120, "tier": "gold", "contact": contact.email})
"""


def test_log_then_timeline_newest_first(any_cli: Cli) -> None:
    any_cli("contacts", "add", "--first-name", "Ada", "--email", "ada@example.com")
    logged = any_cli("log", "ada@example.com", "--channel", "email", "--kind", "inquiry",
                     "--summary", "Asked for pricing", "--data", "plan=pro", "--data", "seats:=12",
                     "--json")
    assert logged.code == 0, logged.err
    item = logged.json()
    assert item["channel"] == "email" and item["payload"] == {"plan": "pro", "seats": 12}
    earlier = any_cli("log", "ada@example.com", "--channel", "phone", "--direction", "outbound",
                      "--kind", "call", "--summary", "Called back", "--at",
                      "2024-05-01T09:30:00+02:00")
    assert earlier.code == 0 and "Logged outbound phone call" in earlier.out

    timeline = any_cli("timeline", "ada@example.com", "--json").json()
    assert [i["summary"] for i in timeline] == ["Asked for pricing", "Called back"]
    assert timeline[1]["occurred_at"].startswith("2024-05-01T07:30:00")
    phone_only = any_cli("timeline", "ada@example.com", "--channel", "phone", "--json").json()
    assert [i["kind"] for i in phone_only] == ["call"]

    table = any_cli("timeline", "ada@example.com", "--limit", "1")
    assert "Asked for pricing" in table.out and "Called back" not in table.out


def test_log_refuses_bad_input(cli: Cli) -> None:
    cli("contacts", "add", "--email", "ada@example.com")
    bad_channel = cli("log", "ada@example.com", "--channel", "fax")
    assert bad_channel.code == 2 and "fax" in bad_channel.err
    bad_time = cli("log", "ada@example.com", "--channel", "email", "--at", "yesterday")
    assert bad_time.code == 4 and "ISO 8601" in bad_time.err
    bad_data = cli("log", "ada@example.com", "--channel", "email", "--data", "n:={oops")
    assert bad_data.code == 2 and "JSON" in bad_data.err
    nobody = cli("log", "nobody@example.com", "--channel", "email")
    assert nobody.code == 3 and "nobody@example.com" in nobody.err
    assert cli("timeline", "ada@example.com", "--json").json() == []


def test_empty_timeline_says_how_to_log(cli: Cli) -> None:
    cli("contacts", "add", "--email", "ada@example.com")
    assert "crmkit log ada@example.com" in cli("timeline", "ada@example.com").out


def test_view_shows_profile_orgs_timeline_and_plugin_sections(
    install_plugin: Callable[..., str], make_project: Callable[..., Cli]
) -> None:
    install_plugin("loyalty", LOYALTY)
    cli = make_project("--plugin", "loyalty")
    cli("orgs", "add", "Analytical Engines")
    cli("contacts", "add", "--first-name", "Ada", "--last-name", "Lovelace",
        "--email", "ada@example.com", "--org", "Analytical Engines", "--role", "CTO")
    for n in range(3):
        cli("log", "ada@example.com", "--channel", "email", "--summary", f"Mail {n}")

    view = cli("view", "ada@example.com", "--interactions", "2", "--json")
    assert view.code == 0, view.err
    data = view.json()
    assert data["contact"]["email"] == "ada@example.com"
    assert [(m["organization"]["name"], m["role"]) for m in data["organizations"]] == [
        ("Analytical Engines", "CTO")
    ]
    assert [i["summary"] for i in data["interactions"]] == ["Mail 2", "Mail 1"]
    assert data["sections"] == [
        {"title": "Loyalty", "plugin": "loyalty",
         "data": {"points": 120, "tier": "gold", "contact": "ada@example.com"}}
    ]

    human = cli("view", "ada@example.com").out
    blocks = human.split("\n\n")
    assert blocks[0].startswith("Ada Lovelace")
    assert "Analytical Engines — CTO" in human
    assert "Latest interactions (3)" in human and "Mail 0" in human
    assert "Loyalty [loyalty]" in human and "points" in human and "120" in human


def test_view_of_unknown_contact(cli: Cli) -> None:
    result = cli("view", "nobody@example.com")
    assert result.code == 3 and result.err.startswith("Error: contact 'nobody@example.com'")
