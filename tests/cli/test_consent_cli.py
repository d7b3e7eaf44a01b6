"""``crmkit consent``: grant, withdraw, show, history, double opt-in, --json and exit codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.cli.conftest import Cli, Result

ADA = "ada@example.com"
MARKETING_EMAIL = ("--purpose", "marketing", "--channel", "email")


@pytest.fixture
def ada(cli: Cli) -> str:
    result = cli("contacts", "add", "--first-name", "Ada", "--email", ADA, "--json")
    assert result.code == 0, result.err
    contact_id: str = result.json()["id"]
    return contact_id


def assert_one_line_error(result: Result, code: int, *words: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert result.err.startswith("Error: ")
    assert result.err.strip().count("\n") == 0
    assert "Traceback" not in result.err
    for word in words:
        assert word in result.err


def history(cli: Cli) -> list[dict[str, object]]:
    result = cli("consent", "history", ADA, "--json")
    assert result.code == 0, result.err
    entries: list[dict[str, object]] = result.json()
    return entries


def test_grant_withdraw_show_and_history_round_trip(any_cli: Cli) -> None:
    added = any_cli("contacts", "add", "--email", ADA, "--json").json()
    granted = any_cli(
        "consent",
        "grant",
        ADA,
        *MARKETING_EMAIL,
        "--evidence",
        "signup form",
        "--source",
        "web-form",
        "--form-version",
        "v3",
        "--ip",
        "192.0.2.7",
        "--json",
    )
    assert granted.code == 0, granted.err
    record = granted.json()
    assert record["contact_id"] == added["id"]
    assert {k: record[k] for k in ("status", "purpose", "channel", "lawful_basis")} == {
        "status": "granted",
        "purpose": "marketing",
        "channel": "email",
        "lawful_basis": "consent",
    }
    assert (record["evidence"], record["ip_address"], record["form_version"]) == (
        "signup form",
        "192.0.2.7",
        "v3",
    )

    shown = any_cli("consent", "show", str(added["id"]), "--json")
    assert shown.code == 0
    assert shown.json() == [
        {
            "purpose": "marketing",
            "channel": "email",
            "status": "granted",
            "since": record["created_at"],
            "lawful_basis": "consent",
            "source": "web-form",
            "record_id": record["id"],
            "decided_on": "email",
        }
    ]

    withdrawn = any_cli("consent", "withdraw", ADA, *MARKETING_EMAIL, "--source", "unsubscribe")
    assert withdrawn.code == 0 and "Withdrew marketing on email" in withdrawn.out
    assert [s["status"] for s in any_cli("consent", "show", ADA, "--json").json()] == ["withdrawn"]
    assert [e["status"] for e in history(any_cli)] == ["granted", "withdrawn"]


def test_human_output_is_a_table(cli: Cli, ada: str) -> None:
    line = cli("consent", "grant", ADA, *MARKETING_EMAIL, "--source", "web-form")
    assert line.code == 0 and line.out.startswith("Granted marketing on email for ada@example.com")
    cli("consent", "withdraw", ADA, "--purpose", "marketing", "--channel", "any")

    table = cli("consent", "show", ADA).out.splitlines()
    assert table[0].split() == [
        "PURPOSE",
        "CHANNEL",
        "STATUS",
        "SINCE",
        "(UTC)",
        "LAWFUL",
        "BASIS",
        "SOURCE",
    ]
    assert table[2].split()[:3] == ["marketing", "any", "withdrawn"]
    assert table[3].split()[:5] == ["marketing", "email", "withdrawn", "(on", "any)"]

    log = cli("consent", "history", ADA).out.splitlines()
    assert log[0].split()[:3] == ["ID", "WHEN", "(UTC)"]
    assert "web-form" in log[2] and "granted" in log[2] and "withdrawn" in log[3]


def test_a_grant_outranked_by_a_withdrawal_on_any_says_so(cli: Cli, ada: str) -> None:
    cli("consent", "withdraw", ADA, "--purpose", "marketing", "--channel", "any")
    result = cli("consent", "grant", ADA, *MARKETING_EMAIL)
    assert result.code == 0
    assert "outranks this grant" in result.err


def test_show_and_history_filter_by_purpose_and_channel(cli: Cli, ada: str) -> None:
    cli("consent", "grant", ADA, *MARKETING_EMAIL)
    cli("consent", "grant", ADA, "--purpose", "marketing", "--channel", "any")
    cli("consent", "grant", ADA, "--purpose", "sales", "--channel", "phone")

    email = cli("consent", "show", ADA, "--channel", "email", "--json").json()
    assert sorted(s["channel"] for s in email) == ["any", "email"]
    sales = cli("consent", "show", ADA, "--purpose", "sales", "--json").json()
    assert [(s["purpose"], s["channel"]) for s in sales] == [("sales", "phone")]
    phone = cli("consent", "history", ADA, "--channel", "phone", "--json").json()
    assert [e["purpose"] for e in phone] == ["sales"]

    none = cli("consent", "show", ADA, "--purpose", "service")
    assert none.code == 0 and "No consent recorded" in none.out


def test_empty_show_says_how_to_record_consent(cli: Cli, ada: str) -> None:
    result = cli("consent", "show", ADA)
    assert result.code == 0 and "crmkit consent grant" in result.out
    assert cli("consent", "show", ADA, "--json").json() == []
    assert cli("consent", "history", ADA, "--json").json() == []


def test_double_opt_in_through_the_command_line(any_cli: Cli) -> None:
    any_cli("contacts", "add", "--email", ADA)
    requested = any_cli("consent", "request", ADA, *MARKETING_EMAIL)
    assert requested.code == 0, requested.err
    token = requested.out.strip()
    assert token.startswith("c1.") and "\n" not in token
    assert "crmkit consent confirm" in requested.err
    assert any_cli("consent", "show", ADA, "--json").json() == []

    confirmed = any_cli("consent", "confirm", token, "--json")
    assert confirmed.code == 0, confirmed.err
    pending = history(any_cli)[0]
    assert (pending["status"], confirmed.json()["confirms"]) == ("pending", pending["id"])
    assert [s["status"] for s in any_cli("consent", "show", ADA, "--json").json()] == ["granted"]

    reused = any_cli("consent", "confirm", token)
    assert_one_line_error(reused, 4, "already used")
    assert len(history(any_cli)) == 2


def test_request_json_gives_the_token_and_the_pending_entry(cli: Cli, ada: str) -> None:
    result = cli("consent", "request", ADA, *MARKETING_EMAIL, "--form-version", "v2", "--json")
    assert result.code == 0
    body = result.json()
    assert set(body) == {"token", "record"}
    assert body["record"]["status"] == "pending" and body["record"]["expires_at"]
    assert body["token"].split(".")[1] == body["record"]["id"]
    confirmed = cli("consent", "confirm", body["token"])
    assert confirmed.code == 0 and "Confirmed marketing on email" in confirmed.out


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("nonsense", "malformed"),
        (
            "c1.01a20909-df51-7555-9cf8-b9fbf916f542.1795707171."
            "qdz5XSCItOZFmbcRSF3BuwfmhK4h5u3-jGgGCXLuH9k",
            "signature does not match",
        ),
    ],
)
def test_bad_tokens_exit_4_and_write_nothing(cli: Cli, ada: str, token: str, words: str) -> None:
    assert_one_line_error(cli("consent", "confirm", token), 4, "token", words)
    assert history(cli) == []


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (
            ("grant", ADA, "--purpose", "spam", "--channel", "email"),
            4,
            ("unknown purpose 'spam'", "marketing"),
        ),
        (
            ("grant", ADA, "--purpose", "marketing", "--channel", "fax"),
            4,
            ("unknown channel 'fax'", "sms"),
        ),
        (
            ("grant", ADA, *MARKETING_EMAIL, "--lawful-basis", "whim"),
            4,
            ("unknown lawful basis 'whim'", "legitimate_interests"),
        ),
        (
            ("withdraw", "nobody@example.com", *MARKETING_EMAIL),
            3,
            ("nobody@example.com", "crmkit contacts search"),
        ),
        (
            ("request", ADA, "--purpose", "marketing", "--channel", "pigeon", "--json"),
            4,
            ("unknown channel",),
        ),
        (("show", "nobody@example.com", "--json"), 3, ("not found",)),
    ],
)
def test_bad_input_exits_with_a_one_line_error(
    cli: Cli, ada: str, args: tuple[str, ...], code: int, words: tuple[str, ...]
) -> None:
    result = cli("consent", *args)
    assert_one_line_error(result, code, *words)
    assert result.out == ""
    assert history(cli) == []


def test_missing_purpose_is_a_usage_error(cli: Cli, ada: str) -> None:
    result = cli("consent", "grant", ADA, "--channel", "email")
    assert result.code == 2 and "--purpose" in result.err


def test_an_actor_without_the_consent_action_is_denied(cli: Cli, ada: str) -> None:
    cli.add_custom_fields('[privacy]\nactors = { bob = ["analyst"] }\n')
    denied = cli("--as", "bob", "consent", "grant", ADA, *MARKETING_EMAIL)
    assert_one_line_error(denied, 7, "'bob'", "may not consent")
    from_env = cli("consent", "withdraw", ADA, *MARKETING_EMAIL, env={"CRMKIT_ACTOR": "bob"})
    assert from_env.code == 7
    assert history(cli) == []
    allowed = cli("consent", "grant", ADA, *MARKETING_EMAIL, "--json")
    assert allowed.code == 0 and allowed.json()["actor"] == "system"
