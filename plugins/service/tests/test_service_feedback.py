"""CSAT and NPS answers on resolved tickets (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from crmkit_service.feedback import Feedback
from crmkit_service.tickets import Tickets

from crmkit.crm import CRM
from crmkit.errors import NotFound, ValidationError
from crmkit.testing.clock import Clock


@pytest.fixture
def desk(crm: CRM, crmkit_clock: Clock) -> tuple[Tickets, Feedback, str]:
    """Tickets, feedback and the id of Ada, who opened T-1."""
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    tickets = Tickets(crm)
    tickets.add("Broken login", contact=ada.id)
    return tickets, Feedback(crm), ada.id


def test_feedback_is_refused_before_resolution_naming_the_status(desk: Any) -> None:
    tickets, feedback, _ = desk
    with pytest.raises(ValidationError, match="T-1 is new; feedback is taken once it is resolved"):
        feedback.record("T-1", csat=5)
    tickets.set_status("T-1", "open")
    with pytest.raises(ValidationError, match="T-1 is open"):
        feedback.record("T-1", csat=5)
    assert feedback.get("T-1") is None


def test_a_resolved_ticket_is_rated_once_and_the_answer_is_on_the_timeline(
    crm: CRM, desk: Any
) -> None:
    tickets, feedback, ada_id = desk
    tickets.set_status("T-1", "resolved")
    answer = feedback.record("T-1", csat=4, nps=9, comment="  Quick fix  ")
    assert (answer.csat, answer.nps, answer.comment, answer.contact_id) == (
        4,
        9,
        "Quick fix",
        ada_id,
    )
    assert feedback.get("t-1") == answer
    [event] = [e for e in crm.events.read() if e.name == "service.csat.recorded"]
    assert (event.payload["key"], event.payload["csat"], event.payload["nps"]) == ("T-1", 4, 9)
    assert event.subject_id == ada_id
    [entry] = [i for i in crm.interactions.timeline(ada_id) if i.kind == "csat.recorded"]
    assert entry.summary == "Feedback on T-1: CSAT 4/5, NPS 9/10"
    assert entry.direction == "inbound"

    with pytest.raises(ValidationError, match=f"T-1 already has feedback {answer.id}"):
        feedback.record("T-1", csat=1)
    assert feedback.get("T-1") == answer


def test_a_closed_ticket_can_be_rated_with_nps_alone(desk: Any) -> None:
    tickets, feedback, _ = desk
    tickets.set_status("T-1", "resolved")
    tickets.set_status("T-1", "closed")
    answer = feedback.record("T-1", nps=0)
    assert (answer.csat, answer.nps) == (None, 0)


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ({"csat": 0}, "csat"),
        ({"csat": 6}, "csat"),
        ({"csat": True}, "csat"),
        ({"nps": -1}, "nps"),
        ({"nps": 11}, "nps"),
        ({"nps": 7.5}, "nps"),
        ({}, "csat"),
    ],
)
def test_scores_out_of_range_are_refused_and_nothing_is_written(
    crm: CRM, desk: Any, scores: dict[str, Any], field: str
) -> None:
    tickets, feedback, _ = desk
    tickets.set_status("T-1", "resolved")
    with pytest.raises(ValidationError) as refused:
        feedback.record("T-1", **scores)
    assert (refused.value.entity, refused.value.field) == ("service.csat", field)
    assert feedback.get("T-1") is None
    assert not [e for e in crm.events.read() if e.name == "service.csat.recorded"]


def test_an_unknown_ticket_is_not_found(desk: Any) -> None:
    _, feedback, _ = desk
    with pytest.raises(NotFound, match="T-7"):
        feedback.record("T-7", csat=3)


def test_the_database_refuses_a_second_answer_that_the_check_did_not_see(
    crm: CRM, desk: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two answers recorded at the same moment: the check of each sees no answer yet,
    and the unique ticket_id refuses the later one with the same clear error."""
    tickets, feedback, ada_id = desk
    tickets.set_status("T-1", "resolved")
    first = feedback.record("T-1", csat=5)
    monkeypatch.setattr("crmkit_service.feedback.refuse_second_answer", lambda *_: None)

    with pytest.raises(ValidationError) as refused:
        feedback.record("T-1", csat=1, comment="Too slow")

    assert type(refused.value) is ValidationError
    assert (refused.value.entity, refused.value.field) == ("service.csat", "ticket_id")
    assert f"T-1 already has feedback {first.id}" in str(refused.value)
    assert "one answer per ticket" in str(refused.value)
    assert feedback.get("T-1") == first
    recorded = [e for e in crm.events.read() if e.name == "service.csat.recorded"]
    assert [e.payload["feedback_id"] for e in recorded] == [first.id]
    assert len([i for i in crm.interactions.timeline(ada_id) if i.kind == "csat.recorded"]) == 1
