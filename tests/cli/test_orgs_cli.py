"""``crmkit orgs``: organizations named by id or exact name."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.cli.conftest import Cli


def test_add_show_update_by_name_and_id(any_cli: Cli) -> None:
    added = any_cli("orgs", "add", "Analytical Engines", "--domain", "Engines.Example",
                    "--industry", "Computing", "--size", "12", "--city", "London", "--json")
    assert added.code == 0, added.err
    org = added.json()
    assert {"id", "name", "domain"} <= set(org)
    assert org["domain"] == "engines.example" and org["size"] == 12

    by_name = any_cli("orgs", "show", "Analytical Engines", "--json").json()
    by_id = any_cli("orgs", "show", org["id"], "--json").json()
    assert by_name == by_id == org

    renamed = any_cli("orgs", "update", "Analytical Engines", "--name", "Engines Ltd",
                      "--unset", "city", "--json")
    assert renamed.code == 0, renamed.err
    assert renamed.json()["name"] == "Engines Ltd" and renamed.json()["city"] is None
    assert "Computing" in any_cli("orgs", "show", org["id"]).out


def test_list_search_and_members(cli: Cli) -> None:
    cli("orgs", "add", "Zeta Corp", "--industry", "Retail", "--city", "Paris")
    cli("orgs", "add", "Alpha Ltd", "--industry", "Computing", "--city", "London")
    assert [o["name"] for o in cli("orgs", "list", "--json").json()] == ["Alpha Ltd", "Zeta Corp"]
    assert [o["name"] for o in cli("orgs", "list", "--sort", "-name", "--json").json()] == [
        "Zeta Corp", "Alpha Ltd"
    ]
    assert [o["name"] for o in cli("orgs", "list", "--industry", "Retail", "--json").json()] == [
        "Zeta Corp"
    ]
    assert "Alpha Ltd" in cli("orgs", "list").out
    assert [o["name"] for o in cli("orgs", "search", "comput", "--json").json()] == ["Alpha Ltd"]

    cli("contacts", "add", "--email", "ada@example.com", "--first-name", "Ada",
        "--org", "Alpha Ltd", "--role", "CTO")
    members = cli("orgs", "members", "Alpha Ltd")
    assert "ada@example.com" in members.out and "CTO" in members.out
    assert "no contacts" in cli("orgs", "members", "Zeta Corp").out


def test_custom_fields_on_organizations(cli: Cli) -> None:
    cli.add_custom_fields("""
        [custom_fields.organization.properties.segment]
        type = "string"
        enum = ["smb", "enterprise"]
    """)
    ok = cli("orgs", "add", "Alpha Ltd", "--set", "segment=smb", "--json")
    assert ok.json()["custom"] == {"segment": "smb"}
    refused = cli("orgs", "update", "Alpha Ltd", "--set", "segment=galactic")
    assert refused.code == 4 and "'segment'" in refused.err
    unknown = cli("orgs", "add", "Beta", "--set", "color=red")
    assert unknown.code == 4 and "[custom_fields.organization.properties.color]" in unknown.err


def test_invalid_size_and_missing_org(cli: Cli) -> None:
    bad = cli("orgs", "add", "Alpha Ltd", "--size", "a dozen")
    assert bad.code == 4 and "'size'" in bad.err
    missing = cli("orgs", "show", "Nowhere Ltd")
    assert missing.code == 3 and "Nowhere Ltd" in missing.err
    assert missing.err.count("\n") == 1 and "Traceback" not in missing.err


def test_ambiguous_name_asks_for_the_id(cli: Cli) -> None:
    cli("orgs", "add", "Acme")
    cli("orgs", "add", "Acme")
    result = cli("orgs", "show", "Acme")
    assert result.code == 4 and "use its id" in result.err


def test_delete_keeps_the_contacts(cli: Cli) -> None:
    cli("orgs", "add", "Alpha Ltd")
    cli("contacts", "add", "--email", "ada@example.com", "--org", "Alpha Ltd")
    refused = cli("orgs", "delete", "Alpha Ltd")
    assert refused.code == 1 and "--yes" in refused.err
    asked = cli("orgs", "delete", "Alpha Ltd", input="y\n")
    assert asked.code == 0 and "1 contact link" in asked.err
    assert cli("orgs", "show", "Alpha Ltd").code == 3
    assert cli("contacts", "show", "ada@example.com").code == 0
