"""Canned replies and the knowledge base (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from crmkit_service.knowledge import PLACEHOLDERS, Knowledge, placeholders
from crmkit_service.tickets import Tickets

from crmkit.crm import CRM
from crmkit.errors import NotFound, ValidationError
from crmkit.testing.clock import Clock

THANKS = "Hi {contact.first_name}, {ticket.key} ({ticket.subject}) is fixed. -- {agent}"


@pytest.fixture
def knowledge(crm: CRM, crmkit_clock: Clock) -> Knowledge:
    return Knowledge(crm)


@pytest.fixture
def ada_ticket(crm: CRM, knowledge: Knowledge) -> str:
    ada = crm.contacts.add(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    return Tickets(crm).add("Printer jammed", contact=ada.id).key


# -- canned replies -----------------------------------------------------------------------


def test_a_canned_reply_is_filled_from_the_ticket(knowledge: Knowledge, ada_ticket: str) -> None:
    knowledge.add_canned("Thanks", THANKS)
    assert [r.name for r in knowledge.list_canned()] == ["thanks"]
    text = knowledge.render("thanks", ada_ticket, agent="ana")
    assert text == "Hi Ada, T-1 (Printer jammed) is fixed. -- ana"
    assert knowledge.get_canned("THANKS").body == THANKS


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("Dear {contact.email}", "unknown placeholder {contact.email}"),
        ("Dear {}", "unknown placeholder {}"),
        ("Ticket {ticket.key!r}", "{ticket.key} takes no conversion or format"),
        ("Ticket {ticket.key:>10}", "{ticket.key} takes no conversion or format"),
        ("Ticket {ticket.key", "literal braces"),
        ("Ticket } done", "literal braces"),
    ],
)
def test_a_bad_placeholder_is_refused_when_the_reply_is_added(
    knowledge: Knowledge, body: str, complaint: str
) -> None:
    with pytest.raises(ValidationError, match=r"service\.canned_reply") as refused:
        knowledge.add_canned("bad", body)
    assert complaint in str(refused.value)
    assert knowledge.list_canned() == []


def test_literal_braces_and_every_placeholder_are_accepted() -> None:
    body = "{{not a placeholder}} " + " ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    assert placeholders(body) == list(PLACEHOLDERS)


def test_a_missing_value_is_an_error_naming_the_placeholder(crm: CRM, knowledge: Knowledge) -> None:
    knowledge.add_canned("thanks", THANKS)
    no_contact = Tickets(crm).add("Anonymous question").key
    with pytest.raises(ValidationError, match=r"\{contact\.first_name\} has no value for T-1"):
        knowledge.render("thanks", no_contact, agent="ana")
    bob = crm.contacts.add(email="bob@example.com")  # no first name
    bobs = Tickets(crm).add("Bob's question", contact=bob.id).key
    with pytest.raises(ValidationError, match=r"\{contact\.first_name\} has no value for T-2"):
        knowledge.reply_with(bobs, "thanks", agent="ana")
    knowledge.add_canned("sig", "-- {agent}")
    with pytest.raises(ValidationError, match=r"\{agent\} has no value"):
        knowledge.render("sig", bobs, agent=" ")
    assert Tickets(crm).show(bobs).messages == ()


def test_reply_with_sends_the_filled_reply_on_the_thread(
    crm: CRM, knowledge: Knowledge, ada_ticket: str
) -> None:
    knowledge.add_canned("thanks", THANKS)
    message = knowledge.reply_with(ada_ticket, "thanks", agent="ana")
    assert (message.direction, message.author) == ("outbound", "ana")
    view = Tickets(crm).show(ada_ticket)
    assert [m.body for m in view.messages] == ["Hi Ada, T-1 (Printer jammed) is fixed. -- ana"]
    assert view.ticket.first_responded_at is not None and view.ticket.status == "open"


def test_names_are_unique_and_removed_replies_are_gone(knowledge: Knowledge) -> None:
    knowledge.add_canned("thanks", THANKS)
    with pytest.raises(ValidationError, match="'thanks' already exists"):
        knowledge.add_canned("thanks", "Other text")
    with pytest.raises(ValidationError, match="not a valid name"):
        knowledge.add_canned("two words", "Text")
    assert knowledge.remove_canned("thanks").name == "thanks"
    with pytest.raises(NotFound, match="thanks"):
        knowledge.get_canned("thanks")
    with pytest.raises(NotFound):
        knowledge.remove_canned("thanks")


# -- articles -----------------------------------------------------------------------------


@pytest.fixture
def articles(knowledge: Knowledge) -> Knowledge:
    knowledge.add_article(
        "reset-password", "Reset your password", "Open Settings, then Security.", tags=["Login"]
    )
    knowledge.add_article("printer-jam", "Clear a printer jam", "Open the tray and pull gently.")
    knowledge.add_article("vpn", "Connect to the VPN", "Install the client, then sign in.")
    return knowledge


def test_search_finds_every_word_in_title_or_body_in_any_case(articles: Knowledge) -> None:
    assert [a.slug for a in articles.search("OPEN")] == ["printer-jam", "reset-password"]
    assert [a.slug for a in articles.search("open security")] == ["reset-password"]
    assert [a.slug for a in articles.search("sign vpn")] == ["vpn"]
    assert articles.search("password vpn") == []
    with pytest.raises(ValidationError, match="at least one word"):
        articles.search("   ")


def test_articles_are_listed_updated_and_unique(articles: Knowledge) -> None:
    assert [a.slug for a in articles.list_articles(tag="login")] == ["reset-password"]
    updated = articles.update_article("vpn", title="Use the VPN", tags=["network"])
    assert (updated.title, updated.tags, updated.body) == (
        "Use the VPN",
        ["network"],
        "Install the client, then sign in.",
    )
    assert articles.get_article("vpn").title == "Use the VPN"
    with pytest.raises(ValidationError, match="'vpn' already exists"):
        articles.add_article("vpn", "Again", "Text")
    with pytest.raises(ValidationError, match="title cannot be empty"):
        articles.update_article("vpn", title=" ")
    with pytest.raises(NotFound, match="nope"):
        articles.update_article("nope", title="x")


def test_linking_an_article_raises_an_event_once_and_shows_on_the_ticket(
    crm: CRM, articles: Knowledge, ada_ticket: str
) -> None:
    assert articles.link(ada_ticket, "printer-jam") is True
    assert articles.link(ada_ticket, "printer-jam") is False
    articles.link(ada_ticket, "vpn")
    assert [a.slug for a in articles.linked(ada_ticket)] == ["printer-jam", "vpn"]
    assert [a.slug for a in Tickets(crm).show(ada_ticket).articles] == ["printer-jam", "vpn"]
    linked = [e.payload["slug"] for e in crm.events.read() if e.name == "service.article.linked"]
    assert linked == ["printer-jam", "vpn"]
    ada = crm.contacts.get("ada@example.com")
    assert "article.linked" in [i.kind for i in crm.interactions.timeline(ada.id)]
    with pytest.raises(NotFound, match="no-such"):
        articles.link(ada_ticket, "no-such")
    with pytest.raises(NotFound, match="T-99"):
        articles.link("T-99", "vpn")
