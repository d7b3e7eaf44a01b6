"""Property: whatever happens to a person, contact needs a current opt-in, and erasure is final.

Hypothesis plays random sequences of grants, withdrawals (per channel and for
the purpose as a whole), restrictions, lifts and erasures against a real
database, and after every step compares the policy's answer for each purpose
and channel with a small model of what the ledger says.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit.crm import CRM
from crmkit.errors import PolicyDenied

PURPOSES = ("marketing", "service")
CHANNELS = ("email", "sms", "any")
STEP = st.one_of(
    st.tuples(
        st.sampled_from(["grant", "withdraw"]), st.sampled_from(PURPOSES), st.sampled_from(CHANNELS)
    ),
    st.tuples(st.sampled_from(["restrict", "lift", "erase"])),
)


class Model:
    """What the rules promise, written from the issue's words, not from the code."""

    def __init__(self) -> None:
        self.latest: dict[tuple[str, str], str] = {}
        self.restricted = False
        self.erased = False

    def state(self, purpose: str, channel: str) -> str | None:
        whole = self.latest.get((purpose, "any"))
        own = self.latest.get((purpose, channel))
        if whole == "withdrawn":
            return "withdrawn"
        return own or whole

    def may_contact(self, purpose: str, channel: str) -> bool:
        if self.erased or self.restricted:
            return False
        state = self.state(purpose, channel)
        if purpose == "marketing":
            return state == "granted"
        return state != "withdrawn"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_crm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CRM]:
    """One database for all examples; every example works on a new contact."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('props') / 'crm.db'}"
        with crmkit.open(url, plugins=[]) as crm:
            yield crm
        return
    import os

    from crmkit.testing.postgres import temporary_schema

    base = os.environ.get("CRMKIT_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("set CRMKIT_TEST_POSTGRES_URL to run the PostgreSQL tests")
    with temporary_schema(base) as url, crmkit.open(url, plugins=[]) as crm:
        yield crm


def _apply(crm: CRM, model: Model, contact_id: str, step: tuple[str, ...]) -> None:
    kind = step[0]
    try:
        if kind == "grant":
            crm.privacy.consent.grant(contact_id, purpose=step[1], channel=step[2])
        elif kind == "withdraw":
            crm.privacy.consent.withdraw(contact_id, purpose=step[1], channel=step[2])
        elif kind == "restrict":
            crm.privacy.restrict(contact_id, reason="contested")
        elif kind == "lift":
            crm.privacy.lift_restriction(contact_id)
        else:
            crm.privacy.erase(contact_id)
    except PolicyDenied:
        # Only an erased person's consent may be refused here; nothing changed.
        assert model.erased, f"{step} was refused for a person who was not erased"
        return
    if kind in ("grant", "withdraw") and not model.erased:
        model.latest[(step[1], step[2])] = "granted" if kind == "grant" else "withdrawn"
    elif kind == "restrict":
        model.restricted = True
    elif kind == "lift":
        model.restricted = False
    elif kind == "erase":
        model.erased = True


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=8))
def test_no_contact_without_a_current_opt_in_and_never_after_erasure(
    shared_crm: CRM, steps: list[tuple[str, ...]]
) -> None:
    crm = shared_crm
    person = crm.contacts.add(first_name="Pat", email=None)
    model = Model()
    for step in steps:
        _apply(crm, model, person.id, step)
        for purpose in PURPOSES:
            for channel in ("email", "sms"):
                decision = crm.privacy.may_contact(person.id, purpose, channel)
                assert decision.allowed == model.may_contact(purpose, channel), (
                    f"after {steps}: {purpose}/{channel} -> {decision}"
                )
                if decision.allowed and purpose == "marketing":
                    assert model.state(purpose, channel) == "granted"
                if model.erased:
                    assert not decision.allowed
