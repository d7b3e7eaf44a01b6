"""``crmkit events``: the outbox feed, delivery failures and retries."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.cli.conftest import Cli

# A subscriber that fails while WELCOME_MAIL_DOWN is set, as when a mail server is down.
WELCOME = """
    import os

    def send_welcome(event):
        if os.environ.get("WELCOME_MAIL_DOWN"):
            raise ConnectionError("mail server down")

    def crmkit_register_subscribers():
        return [("contact.created", send_welcome)]
"""


def test_list_reads_the_feed_with_a_cursor_and_names(any_cli: Cli) -> None:
    any_cli("orgs", "add", "Engines")
    any_cli("contacts", "add", "--email", "ada@example.com", "--org", "Engines")
    any_cli("log", "ada@example.com", "--channel", "email")

    events = any_cli("events", "list", "--json").json()
    names = [e["name"] for e in events]
    assert names == ["organization.created", "contact.created", "contact.linked",
                     "interaction.logged"]
    assert {"id", "name", "payload", "occurred_at", "subject_id"} <= set(events[0])

    page = any_cli("events", "list", "--limit", "2", "--json")
    assert [e["id"] for e in page.json()] == [e["id"] for e in events[:2]]
    assert f"--after {events[1]['id']}" in page.err
    after = any_cli("events", "list", "--after", events[1]["id"], "--json").json()
    assert [e["id"] for e in after] == [e["id"] for e in events[2:]]

    contact_events = any_cli("events", "list", "--name", "contact.*", "--json").json()
    assert [e["name"] for e in contact_events] == ["contact.created", "contact.linked"]
    exact = any_cli("events", "list", "--name", "interaction.logged", "--json").json()
    assert [e["name"] for e in exact] == ["interaction.logged"]
    assert "contact.linked" in any_cli("events", "list").out


def test_failures_and_retry(
    install_plugin: Callable[..., str], make_project: Callable[..., Cli]
) -> None:
    install_plugin("welcome", WELCOME)
    cli = make_project("--plugin", "welcome")
    assert "No failed deliveries" in cli("events", "failures").out

    added = cli("contacts", "add", "--email", "ada@example.com",
                env={"WELCOME_MAIL_DOWN": "1"})
    assert added.code == 0, added.err
    failures = cli("events", "failures", "--json").json()
    assert len(failures) == 1
    assert failures[0]["event_name"] == "contact.created"
    assert "send_welcome" in failures[0]["subscriber"]
    assert "mail server down" in failures[0]["error"]
    assert failures[0]["state"] == "failing"
    assert "mail server down" in cli("events", "failures").out

    still = cli("events", "retry", env={"WELCOME_MAIL_DOWN": "1"})
    assert still.code == 1
    assert "0 succeeded, 1 still failing" in still.out and "crmkit events failures" in still.err

    fixed = cli("events", "retry", "--json")
    assert fixed.code == 0 and fixed.json() == {"succeeded": 1, "still_failing": 0}
    assert cli("events", "failures", "--json").json() == []
    history = cli("events", "failures", "--all", "--json").json()
    assert [(f["state"], f["attempts"]) for f in history] == [("resolved", 3)]
    assert "No failed deliveries to retry" in cli("events", "retry").out
