"""Email intake with real .eml files (tests/messages), on SQLite and PostgreSQL.

New tickets, replies found by References and by a key in the subject, duplicates,
encoded names, HTML-only mail, and every kind of refused message: refused
messages are kept as rejected intake and nothing else is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from crmkit_service.intake import Intake, IntakeRejected, Sender, html_text, subject_key
from crmkit_service.tickets import Tickets
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.crm import CRM
from crmkit.errors import NotFound
from crmkit.storage.query import Query
from crmkit.testing.clock import Clock

MESSAGES = Path(__file__).parent / "messages"


def eml(name: str) -> bytes:
    return (MESSAGES / name).read_bytes()


def rows(crm: CRM, entity: str) -> list[dict[str, Any]]:
    with crm.backend.read() as reader:
        return reader.query(crm.entity_type(entity), Query())


def counts(crm: CRM) -> dict[str, int]:
    """How many tickets, messages and contacts are stored."""
    return {name: len(rows(crm, name)) for name in ("service.ticket", "service.message", "contact")}


def event_names(crm: CRM) -> list[str]:
    return [e.name for e in crm.events.read() if e.name.startswith("service.")]


@pytest.fixture
def intake(crm: CRM, crmkit_clock: Clock) -> Intake:
    return Intake(crm)


# -- new tickets ----------------------------------------------------------------------


def test_a_new_email_opens_a_ticket_for_a_new_contact(crm: CRM, intake: Intake) -> None:
    result = intake.receive_file(MESSAGES / "new_multipart.eml")

    assert (result.created, result.contact_created, result.duplicate) == (True, True, False)
    ticket = result.ticket
    assert (ticket.key, ticket.channel, ticket.status) == ("T-1", "email", "new")
    assert ticket.subject == "Printer on fire"
    assert ticket.message_id == "<new-1@mail.example.com>"
    assert ticket.description is not None
    assert ticket.description.startswith("Hello,\n\nThe printer on the second floor is on fire")
    assert ticket.sla_policy == "standard/normal"
    contact = crm.contacts.get("ada.lovelace@example.com")
    assert (contact.first_name, contact.last_name) == ("Ada", "Lovelace")
    assert ticket.contact_id == contact.id

    message = result.message
    assert (message.direction, message.ticket_id) == ("inbound", ticket.id)
    assert message.body == ticket.description
    assert message.message_id == "<new-1@mail.example.com>"
    assert message.author == "Ada Lovelace <Ada.Lovelace@Example.COM>"
    assert message.attachments == [
        {"filename": "invoice.pdf", "content_type": "application/pdf", "size": 59},
        {"filename": "printer.png", "content_type": "image/png", "size": 200},
    ]
    thread = Tickets(crm).show("T-1").messages
    assert [m.id for m in thread] == [message.id]
    assert "service.ticket.created" in event_names(crm)
    assert "service.message.received" in event_names(crm)


def test_the_sender_is_matched_to_an_existing_contact_by_normalised_email(
    crm: CRM, intake: Intake
) -> None:
    ada = crm.contacts.add(first_name="Augusta", last_name="King", email="ada.lovelace@example.com")

    result = intake.receive(eml("new_multipart.eml"))

    assert result.contact_created is False
    assert result.ticket.contact_id == ada.id
    assert crm.contacts.get(ada.id).first_name == "Augusta"
    assert counts(crm)["contact"] == 1


def test_the_ticket_and_message_show_on_the_contacts_timeline(crm: CRM, intake: Intake) -> None:
    result = intake.receive(eml("new_multipart.eml"))

    assert result.ticket.contact_id is not None
    timeline = crm.interactions.timeline(result.ticket.contact_id)
    kinds = {(i.kind, i.channel, i.direction) for i in timeline}
    assert ("message.received", "email", "inbound") in kinds
    assert any(i.kind == "ticket.created" for i in timeline)


def test_an_html_only_email_gives_the_text_without_tags(intake: Intake) -> None:
    result = intake.receive(eml("html_only.eml"), source="html_only.eml")

    body = result.message.body
    assert body == "Hello,\n\nInvoice #1042 says £1,200 & VAT twice.\nCould you check it?\n\nGrace"
    assert result.ticket.subject == "Invoice total looks wrong"
    assert result.message.attachments == []


def test_encoded_non_ascii_names_and_subject_are_decoded(crm: CRM, intake: Intake) -> None:
    result = intake.receive(eml("non_ascii.eml"))

    assert result.ticket.subject == "Ça ne marche pas \u2013 café"
    assert result.message.body == "Grüße aus München: die Kaffeemaschine ist kaputt."
    contact = crm.contacts.get("zoe@example.de")
    assert (contact.first_name, contact.last_name) == ("Zoë", "Brünhilde")


def test_a_new_ticket_goes_to_the_team_given(intake: Intake) -> None:
    result = intake.receive(eml("html_only.eml"), team="support")

    assert result.ticket.team == "support"
    assert result.ticket.assignee == "ana"


# -- replies --------------------------------------------------------------------------


def test_a_reply_is_threaded_by_its_references(crm: CRM, intake: Intake) -> None:
    first = intake.receive(eml("new_multipart.eml"))

    reply = intake.receive(eml("reply_references.eml"))

    assert (reply.created, reply.contact_created) == (False, False)
    assert reply.ticket.id == first.ticket.id
    assert reply.message.message_id == "<reply-1@mail.example.com>"
    # The quoted history is kept as the customer sent it.
    assert reply.message.body.endswith("wrote:\n> Please stay away from the printer.")
    thread = Tickets(crm).show("T-1").messages
    assert [m.message_id for m in thread] == [
        "<new-1@mail.example.com>",
        "<reply-1@mail.example.com>",
    ]
    assert counts(crm)["service.ticket"] == 1


def test_a_reply_to_a_reply_given_as_text_is_threaded_by_in_reply_to(
    crm: CRM, intake: Intake
) -> None:
    intake.receive(eml("new_multipart.eml"))
    intake.receive(eml("reply_references.eml"))
    answer = (
        "From: ada.lovelace@example.com\r\nSubject: smoke\r\n"
        "In-Reply-To: <reply-1@mail.example.com>\r\nMessage-ID: <reply-9@mail.example.com>\r\n"
        "\r\nThe smell is gone.\r\n"
    )

    result = intake.receive(answer)

    assert (result.created, result.ticket.key) == (False, "T-1")
    assert result.message.in_reply_to == "<reply-1@mail.example.com>"
    assert result.message.body == "The smell is gone."


def test_a_ticket_key_in_the_subject_makes_a_reply(crm: CRM, intake: Intake) -> None:
    intake.receive(eml("new_multipart.eml"))

    reply = intake.receive(eml("reply_subject_key.eml"))

    assert (reply.created, reply.ticket.key) == (False, "T-1")
    assert reply.message.body == "Any news on the printer?"
    assert len(Tickets(crm).show("T-1").messages) == 2


def test_a_reply_on_a_resolved_ticket_reopens_it(crm: CRM, intake: Intake) -> None:
    intake.receive(eml("new_multipart.eml"))
    Tickets(crm).set_status("T-1", "resolved")

    reply = intake.receive(eml("reply_references.eml"))

    ticket = Tickets(crm).get("T-1")
    assert reply.ticket.id == ticket.id
    assert (ticket.status, ticket.reopened_count, ticket.resolved_at) == ("reopened", 1, None)
    assert "service.ticket.reopened" in event_names(crm)


def test_a_duplicate_delivery_adds_nothing(crm: CRM, intake: Intake) -> None:
    first = intake.receive(eml("new_multipart.eml"))
    before = counts(crm)

    again = intake.receive(eml("new_multipart.eml"))

    assert (again.duplicate, again.created, again.contact_created) == (True, False, False)
    assert again.message.id == first.message.id
    assert again.ticket.id == first.ticket.id
    assert counts(crm) == before


# -- refused messages -----------------------------------------------------------------

REFUSED = [
    ("empty.eml", "raw", "empty"),
    ("malformed.eml", "raw", "no headers"),
    ("no_from.eml", "from", "no sender address"),
    ("bad_from.eml", "from", "not a valid email address"),
    ("no_subject_no_body.eml", "body", "neither a subject nor any text"),
]


@pytest.mark.parametrize(("name", "field", "reason"), REFUSED)
def test_a_bad_message_is_refused_and_kept(
    crm: CRM, intake: Intake, name: str, field: str, reason: str
) -> None:
    with pytest.raises(IntakeRejected) as refused:
        intake.receive_file(MESSAGES / name)

    error = refused.value
    assert error.field == field
    assert reason in error.cause
    assert "kept as rejected intake" in str(error)
    assert counts(crm) == {"service.ticket": 0, "service.message": 0, "contact": 0}
    [kept] = intake.rejected()
    assert kept.id == error.rejected_id
    assert reason in kept.reason
    assert kept.source == name
    assert kept.raw == eml(name).decode()
    assert event_names(crm) == ["service.intake.rejected"]


def test_an_unknown_ticket_key_is_refused_and_writes_nothing_else(crm: CRM, intake: Intake) -> None:
    with pytest.raises(IntakeRejected, match="unknown ticket key T-999") as refused:
        intake.receive(eml("unknown_key.eml"))

    assert (refused.value.entity, refused.value.field) == ("service.ticket", "key")
    assert counts(crm) == {"service.ticket": 0, "service.message": 0, "contact": 0}
    [kept] = intake.rejected()
    assert kept.subject == "Still waiting on T-999"
    assert kept.sender == "Ada Lovelace <ada.lovelace@example.com>"
    assert kept.source == "stdin"


def test_an_unknown_team_is_refused(crm: CRM, intake: Intake) -> None:
    with pytest.raises(IntakeRejected, match="team") as refused:
        intake.receive(eml("html_only.eml"), team="no-such-team")

    assert refused.value.field == "team"
    assert counts(crm)["service.ticket"] == 0
    assert len(intake.rejected()) == 1


def test_the_rejected_message_is_linked_to_a_known_sender(crm: CRM, intake: Intake) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada.lovelace@example.com")

    with pytest.raises(IntakeRejected):
        intake.receive(eml("unknown_key.eml"))

    assert intake.rejected()[0].contact_id == ada.id


def test_a_rejected_message_from_an_unknown_sender_is_linked_to_no_one(
    crm: CRM, intake: Intake
) -> None:
    with pytest.raises(IntakeRejected):
        intake.receive(eml("unknown_key.eml"))

    [kept] = intake.rejected()
    assert kept.contact_id is None
    assert counts(crm)["contact"] == 0


def test_erasing_the_sender_deletes_their_rejected_message(crm: CRM, intake: Intake) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada.lovelace@example.com")
    bob = crm.contacts.add(first_name="Bob", email="bob@example.com")
    with pytest.raises(IntakeRejected) as refused:
        intake.receive(eml("unknown_key.eml"))
    other = eml("unknown_key.eml").replace(b"ada.lovelace@example.com", b"bob@example.com")
    with pytest.raises(IntakeRejected):
        intake.receive(other)
    assert {r.contact_id for r in intake.rejected()} == {ada.id, bob.id}

    crm.privacy.erase(ada.id)

    [left] = intake.rejected()
    assert left.contact_id == bob.id
    assert refused.value.rejected_id not in {r.id for r in intake.rejected()}


def test_an_erased_persons_email_is_refused(crm: CRM, intake: Intake) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada.lovelace@example.com")
    crm.privacy.erase(ada.id)
    before = counts(crm)

    with pytest.raises(IntakeRejected, match="erased") as refused:
        intake.receive(eml("new_multipart.eml"))

    assert (refused.value.entity, refused.value.field) == ("contact", "email")
    assert counts(crm) == before
    assert "erased" in intake.rejected()[0].reason


# -- retrying -------------------------------------------------------------------------


def test_retry_takes_a_rejected_message_in_and_removes_it(crm: CRM, intake: Intake) -> None:
    with pytest.raises(IntakeRejected) as refused:
        intake.receive(eml("html_only.eml"), team="no-such-team")

    result = intake.retry(refused.value.rejected_id, team="support")

    assert result.created is True
    assert result.ticket.team == "support"
    assert result.ticket.subject == "Invoice total looks wrong"
    assert intake.rejected() == []


def test_retry_after_the_cause_is_fixed(crm: CRM, intake: Intake) -> None:
    with pytest.raises(IntakeRejected) as refused:
        intake.receive(eml("reply_subject_key.eml"))  # there is no T-1 yet
    intake.receive(eml("new_multipart.eml"))

    result = intake.retry(refused.value.rejected_id)

    assert (result.created, result.ticket.key) == (False, "T-1")
    assert intake.rejected() == []


def test_a_retry_refused_again_keeps_the_record_with_the_new_reason(
    crm: CRM, intake: Intake
) -> None:
    with pytest.raises(IntakeRejected) as refused:
        intake.receive(eml("unknown_key.eml"), team="no-such-team")
    assert refused.value.field == "team"

    with pytest.raises(IntakeRejected, match="T-999") as again:
        intake.retry(refused.value.rejected_id)

    assert again.value.rejected_id == refused.value.rejected_id
    [kept] = intake.rejected()
    assert "unknown ticket key T-999" in kept.reason
    assert counts(crm)["service.ticket"] == 0


def test_retry_of_an_unknown_record_is_not_found(intake: Intake) -> None:
    with pytest.raises(NotFound, match=r"service\.rejected_intake"):
        intake.retry("0190a0a0-0000-7000-8000-000000000000")


# -- reading pieces of a message (no database) ------------------------------------------


@pytest.mark.parametrize(
    ("display", "names"),
    [
        ("Ada Lovelace", ("Ada", "Lovelace")),
        ("Lovelace, Ada", ("Ada", "Lovelace")),
        ("Augusta Ada  King", ("Augusta Ada", "King")),
        ("Ada", ("Ada", None)),
        ("ada@example.com", (None, None)),
        (None, (None, None)),
    ],
)
def test_names_from_the_display_name(
    display: str | None, names: tuple[str | None, str | None]
) -> None:
    assert Sender("ada@example.com", display, "x").names() == names


def test_html_text_drops_scripts_styles_and_tags() -> None:
    html = "<style>b{}</style><ul><li>one &lt;two&gt;</li><li>three</li></ul><script>x()</script>"
    assert html_text(html) == "one <two>\nthree"


@settings(max_examples=60, deadline=None)
@given(
    number=st.integers(min_value=1, max_value=10**6),
    before=st.text(alphabet="abc xyz:[]()!", max_size=20),
    after=st.text(alphabet="abc xyz:[]()!", max_size=20),
    bracketed=st.booleans(),
)
def test_a_key_as_a_word_is_found_in_any_subject(
    number: int, before: str, after: str, bracketed: bool
) -> None:
    key = f"[T-{number}]" if bracketed else f"T-{number}"
    assert subject_key(f"{before} {key} {after}", "T") == f"T-{number}"


@pytest.mark.parametrize("subject", ["T-shirt order", "AT-42 is a model", "T-42b", "T-", None])
def test_no_key_is_found_inside_other_words(subject: str | None) -> None:
    assert subject_key(subject, "T") is None
