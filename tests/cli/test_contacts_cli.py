"""``crmkit contacts``: round trips, --json contracts, exit codes and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.cli.conftest import Cli, Result

TIER = """
[custom_fields.contact.properties.tier]
type = "string"
enum = ["bronze", "silver", "gold"]

[custom_fields.contact.properties.score]
type = "integer"
minimum = 0
"""


def add(cli: Cli, *args: str) -> dict[str, object]:
    result = cli("contacts", "add", *args, "--json")
    assert result.code == 0, result.err
    record: dict[str, object] = result.json()
    return record


def assert_one_line_error(result: Result, code: int, *words: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert result.err.startswith("Error: ")
    assert result.err.strip().count("\n") == 0
    assert "Traceback" not in result.err
    for word in words:
        assert word in result.err


def test_add_then_show_by_id_and_by_email(any_cli: Cli) -> None:
    added = add(any_cli, "--first-name", "Ada", "--last-name", "Lovelace",
                "--email", "ada@example.com", "--phone", "+44 20 7946 0958", "--tag", "vip")
    assert {"id", "first_name", "last_name", "email"} <= set(added)
    assert added["phone"] == "+442079460958"

    by_id = any_cli("contacts", "show", str(added["id"]), "--json")
    by_email = any_cli("contacts", "show", "ada@example.com", "--json")
    assert by_id.code == by_email.code == 0
    assert by_id.json() == by_email.json() == added

    human = any_cli("contacts", "show", "ada@example.com")
    assert "Lovelace" in human.out and "vip" in human.out


def test_add_prints_a_line_with_the_id(cli: Cli) -> None:
    result = cli("contacts", "add", "--first-name", "Ada", "--email", "ada@example.com")
    assert result.code == 0
    only = cli("contacts", "list", "--json").json()
    assert only[0]["id"] in result.out and "Ada" in result.out


def test_add_with_org_links_the_contact(cli: Cli) -> None:
    assert cli("orgs", "add", "Analytical Engines").code == 0
    ada = add(cli, "--email", "ada@example.com", "--org", "Analytical Engines", "--role", "CTO")
    members = cli("orgs", "members", "Analytical Engines", "--json").json()
    assert [(m["contact"]["id"], m["role"]) for m in members] == [(ada["id"], "CTO")]
    assert "Analytical Engines (CTO)" in cli("contacts", "show", "ada@example.com").out


def test_add_with_unknown_org_keeps_nothing(cli: Cli) -> None:
    result = cli("contacts", "add", "--email", "ada@example.com", "--org", "Nowhere Ltd")
    assert_one_line_error(result, 3, "Nowhere Ltd")
    assert cli("contacts", "list", "--json").json() == []


def test_list_pages_filters_and_sorts(cli: Cli) -> None:
    add(cli, "--first-name", "Ada", "--last-name", "Lovelace", "--email", "ada@example.com",
        "--city", "London", "--tag", "vip", "--tag", "math", "--owner", "alice")
    add(cli, "--first-name", "Charles", "--last-name", "Babbage", "--email", "cb@example.com",
        "--city", "London", "--tag", "math", "--owner", "bob")
    add(cli, "--first-name", "Mary", "--last-name", "Somerville", "--email", "ms@example.com",
        "--city", "Jedburgh", "--tag", "VIP")

    def names(*args: str) -> list[str]:
        result = cli("contacts", "list", *args, "--json")
        assert result.code == 0, result.err
        return [c["last_name"] for c in result.json()]

    assert names() == ["Babbage", "Lovelace", "Somerville"]
    first = cli("contacts", "list", "--limit", "2", "--json")
    assert len(first.json()) == 2 and "--offset 2" in first.err
    assert names("--limit", "2", "--offset", "2") == ["Somerville"]
    assert names("--city", "London") == ["Babbage", "Lovelace"]
    assert names("--owner", "alice") == ["Lovelace"]
    assert names("--tag", "vip") == ["Lovelace", "Somerville"]
    assert names("--tag", "vip", "--tag", "math") == ["Lovelace"]
    assert names("--tag", "vip", "--limit", "1", "--offset", "1") == ["Somerville"]
    assert names("--sort", "-last-name") == ["Somerville", "Lovelace", "Babbage"]
    assert names("--sort", "city,-first_name") == ["Somerville", "Babbage", "Lovelace"]

    table = cli("contacts", "list")
    assert table.out.splitlines()[0].split()[:3] == ["ID", "NAME", "EMAIL"]
    assert "Ada Lovelace" in table.out

    bad = cli("contacts", "list", "--sort", "shoe_size")
    assert_one_line_error(bad, 4, "shoe_size")


def test_empty_list_says_how_to_add(cli: Cli) -> None:
    result = cli("contacts", "list")
    assert result.code == 0 and "crmkit contacts add" in result.out


def test_update_changes_adds_tags_and_unsets(cli: Cli) -> None:
    add(cli, "--first-name", "Ada", "--email", "ada@example.com", "--phone", "+442079460958",
        "--tag", "math")
    result = cli("contacts", "update", "ada@example.com", "--city", "Paris", "--add-tag", "vip",
                 "--unset", "phone", "--set", "job_title=Analyst")
    assert result.code == 0, result.err
    assert "Updated contact Ada" in result.out
    shown = cli("contacts", "show", "ada@example.com", "--json").json()
    assert shown["city"] == "Paris"
    assert shown["tags"] == ["math", "vip"]
    assert shown["phone"] is None
    assert shown["job_title"] == "Analyst"

    removed = cli("contacts", "update", "ada@example.com", "--remove-tag", "MATH", "--json")
    assert removed.json()["tags"] == ["vip"]


def test_update_without_changes_is_a_usage_error(cli: Cli) -> None:
    add(cli, "--email", "ada@example.com")
    result = cli("contacts", "update", "ada@example.com")
    assert result.code == 2 and "nothing to change" in result.err


def test_custom_field_from_crmkit_toml(cli: Cli) -> None:
    cli.add_custom_fields(TIER)
    ada = add(cli, "--email", "ada@example.com", "--set", "tier=gold", "--set", "score=7")
    assert ada["custom"] == {"tier": "gold", "score": 7}

    refused = cli("contacts", "add", "--email", "bob@example.com", "--set", "tier=platinum")
    assert_one_line_error(refused, 4, "'tier'", "platinum")
    not_a_number = cli("contacts", "update", "ada@example.com", "--set", "score=many")
    assert_one_line_error(not_a_number, 4, "'score'")
    negative = cli("contacts", "update", "ada@example.com", "--set", "score=-1")
    assert_one_line_error(negative, 4, "'score'")

    cleared = cli("contacts", "update", "ada@example.com", "--unset", "tier", "--json")
    assert cleared.json()["custom"] == {"score": 7}
    assert "custom.score" in cli("contacts", "show", "ada@example.com").out


def test_unknown_field_is_named_with_how_to_define_it(cli: Cli) -> None:
    result = cli("contacts", "add", "--email", "ada@example.com", "--set", "nickname=Countess")
    assert_one_line_error(result, 4, "'nickname'", "[custom_fields.contact.properties.nickname]")
    malformed = cli("contacts", "add", "--email", "ada@example.com", "--set", "nickname")
    assert malformed.code == 2 and "FIELD=VALUE" in malformed.err


def test_unknown_contact_exits_3_with_one_line(cli: Cli) -> None:
    for command in (["show"], ["update", "--city", "Paris"], ["delete", "--yes"]):
        result = cli("contacts", command[0], "nobody@example.com", *command[1:])
        assert_one_line_error(result, 3, "nobody@example.com", "id or email")


def test_invalid_email_and_phone_exit_4(cli: Cli) -> None:
    assert_one_line_error(cli("contacts", "add", "--email", "ada@@example"), 4, "'email'")
    assert_one_line_error(
        cli("contacts", "add", "--email", "ada@example.com", "--phone", "12"), 4, "'phone'"
    )
    assert_one_line_error(
        cli("contacts", "add", "--email", "ada@example.com", "--birth-date", "1815-13-10"),
        4, "'birth_date'",
    )
    assert cli("contacts", "list", "--json").json() == []


def test_delete_asks_first(cli: Cli) -> None:
    add(cli, "--first-name", "Ada", "--email", "ada@example.com")

    declined = cli("contacts", "delete", "ada@example.com", input="n\n")
    assert declined.code == 1 and "Nothing deleted" in declined.err
    no_answer = cli("contacts", "delete", "ada@example.com", input="")
    assert no_answer.code == 1 and "--yes" in no_answer.err and "Traceback" not in no_answer.err
    assert cli("contacts", "show", "ada@example.com").code == 0

    accepted = cli("contacts", "delete", "ada@example.com", input="y\n")
    assert accepted.code == 0 and "Deleted contact Ada" in accepted.out
    assert cli("contacts", "show", "ada@example.com").code == 3


def test_delete_with_yes_removes_the_timeline_too(cli: Cli) -> None:
    ada = add(cli, "--email", "ada@example.com")
    assert cli("log", "ada@example.com", "--channel", "email").code == 0
    assert cli("contacts", "delete", str(ada["id"]), "--yes").code == 0
    assert cli("timeline", str(ada["id"])).code == 3


def test_search_finds_every_word(cli: Cli) -> None:
    add(cli, "--first-name", "Ada", "--last-name", "Lovelace", "--email", "ada@example.com",
        "--city", "London")
    add(cli, "--first-name", "Ada", "--last-name", "Byron", "--email", "byron@example.com")
    found = cli("contacts", "search", "ada", "london", "--json").json()
    assert [c["last_name"] for c in found] == ["Lovelace"]
    assert "Byron" in cli("contacts", "search", "ada").out
    assert "No contacts match" in cli("contacts", "search", "nobody").out


def test_link_and_unlink(cli: Cli) -> None:
    add(cli, "--email", "ada@example.com")
    cli("orgs", "add", "Engines")
    assert cli("contacts", "link", "ada@example.com", "Engines", "--role", "CTO").code == 0
    assert cli("orgs", "members", "Engines", "--json").json()[0]["role"] == "CTO"
    assert cli("contacts", "unlink", "ada@example.com", "Engines").code == 0
    assert cli("orgs", "members", "Engines", "--json").json() == []


def test_not_a_project_exits_5(outside: Cli) -> None:
    result = outside("contacts", "list")
    assert_one_line_error(result, 5, "not a crmkit project", "crmkit init")


def test_unreachable_database_exits_5(cli: Cli) -> None:
    result = cli(
        "contacts", "list", env={"CRMKIT_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}
    )
    assert_one_line_error(result, 5, "127.0.0.1")


def test_delete_without_terminal_refuses_as_a_real_process(cli: Cli) -> None:
    add(cli, "--email", "ada@example.com")
    env = {**os.environ, "CRMKIT_PROJECT": str(cli.project)}
    proc = subprocess.run(
        [sys.executable, "-m", "crmkit", "contacts", "delete", "ada@example.com"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 1
    assert "pass --yes" in proc.stderr and "Traceback" not in proc.stderr
    assert cli("contacts", "show", "ada@example.com").code == 0


def test_command_help_stays_light() -> None:
    code = (
        "import sys\n"
        "from crmkit.cli import main\n"
        "for group in ('contacts', 'orgs', 'log', 'timeline', 'view', 'plugins', 'events'):\n"
        "    main([group, '--help'])\n"
        "print('sqlalchemy' in sys.modules, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: crmkit contacts" in proc.stdout and "Usage: crmkit events" in proc.stdout
    assert proc.stderr.strip() == "False"
