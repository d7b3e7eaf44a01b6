"""``crmkit service canned`` and ``crmkit service kb`` as an agent types them."""

from __future__ import annotations

from typing import Any

import pytest

from crmkit.testing.clock import Clock


@pytest.fixture
def desk(service_project: Any, crmkit_clock: Clock) -> Any:
    """The project with Ada and her ticket T-1."""
    run = service_project.run
    added = run("contacts", "add", "--first-name", "Ada", "--email", "ada@example.com")
    assert added.exit_code == 0, added.output
    opened = run("service", "tickets", "add", "Printer jammed", "--contact", "ada@example.com")
    assert opened.exit_code == 0, opened.output
    return service_project


def test_canned_replies_from_add_to_use(desk: Any) -> None:
    run = desk.run
    body = "Hi {contact.first_name}, {ticket.key} is fixed. -- {agent}"
    assert run("service", "canned", "add", "fixed", "-m", body).exit_code == 0
    from_stdin = run("service", "canned", "add", "bye", input="Bye {contact.first_name}\n")
    assert from_stdin.exit_code == 0, from_stdin.output

    bad = run("service", "canned", "add", "bad", "-m", "Dear {contact.email}")
    assert bad.exit_code == 4
    assert "unknown placeholder {contact.email}" in bad.output

    listed = run("service", "canned", "list", "--json")
    assert [r["name"] for r in listed.json()] == ["bye", "fixed"]
    assert run("service", "canned", "show", "fixed").output.strip() == body

    preview = run("service", "canned", "use", "T-1", "fixed", "--agent", "ana", "--preview")
    assert preview.output.strip() == "Hi Ada, T-1 is fixed. -- ana"
    used = run("service", "canned", "use", "T-1", "fixed", "--agent", "ana")
    assert used.exit_code == 0, used.output
    thread = run("service", "tickets", "show", "T-1", "--json").json()["messages"]
    assert [m["body"] for m in thread] == ["Hi Ada, T-1 is fixed. -- ana"]

    assert run("service", "canned", "use", "T-9", "fixed").exit_code == 3
    assert run("service", "canned", "remove", "bye").exit_code == 0
    assert run("service", "canned", "show", "bye").exit_code == 3


def test_a_missing_value_refuses_the_reply(desk: Any) -> None:
    run = desk.run
    assert run("service", "tickets", "add", "No contact").exit_code == 0
    run("service", "canned", "add", "hello", "-m", "Hello {contact.first_name}")
    refused = run("service", "canned", "use", "T-2", "hello")
    assert refused.exit_code == 4
    assert "{contact.first_name} has no value for T-2" in refused.output
    assert run("service", "tickets", "show", "T-2", "--json").json()["messages"] == []


def test_knowledge_base_add_search_show_link(desk: Any) -> None:
    run = desk.run
    added = run(
        "service",
        "kb",
        "add",
        "printer-jam",
        "--title",
        "Clear a printer jam",
        "-m",
        "Open the tray and pull gently.",
        "--tag",
        "hardware",
    )
    assert added.exit_code == 0, added.output
    run("service", "kb", "add", "vpn", "--title", "Connect to the VPN", input="Install it.")

    found = run("service", "kb", "search", "tray", "OPEN", "--json")
    assert [a["slug"] for a in found.json()] == ["printer-jam"]
    assert "No article holds all of those words." in run("service", "kb", "search", "xyz").output
    listed = run("service", "kb", "list")
    assert "printer-jam" in listed.output and "vpn" in listed.output
    shown = run("service", "kb", "show", "vpn")
    assert "Connect to the VPN" in shown.output and "Install it." in shown.output

    linked = run("service", "kb", "link", "T-1", "printer-jam")
    assert linked.exit_code == 0 and "Linked printer-jam to T-1." in linked.output
    assert "already linked" in run("service", "kb", "link", "T-1", "printer-jam").output
    ticket = run("service", "tickets", "show", "T-1", "--json").json()
    assert [a["slug"] for a in ticket["articles"]] == ["printer-jam"]
    assert run("service", "kb", "link", "T-1", "nope").exit_code == 3
    assert run("service", "kb", "update", "vpn", "--title", "Use the VPN").exit_code == 0
    assert run("service", "kb", "show", "vpn", "--json").json()["title"] == "Use the VPN"
