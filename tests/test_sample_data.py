"""Tests for the demo sample-data generator: reproducibility, counts and data validity."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict

import phonenumbers
import pytest
from email_validator import validate_email

from crmkit.demo.sample_data import (
    DEFAULT_NOW,
    HISTORY_WINDOW,
    SampleDataSet,
    generate,
)

CHANNELS = {"email", "phone", "chat", "social", "in_person", "partner", "web"}


@pytest.fixture(scope="module")
def data() -> SampleDataSet:
    """The data set the demo uses: default seed and sizes."""
    return generate()


def _plain(text: str) -> str:
    """Lowercase ASCII letters of a name, the way they show up in email addresses."""
    specials: dict[str, str | int | None] = {
        "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "ß": "ss", "\u0131": "i",
    }
    text = text.translate(str.maketrans(specials))
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def test_same_seed_gives_identical_data() -> None:
    assert generate(seed=3, contacts=60, organizations=10) == generate(
        seed=3, contacts=60, organizations=10
    )


def test_different_seed_gives_different_data() -> None:
    first = generate(seed=1, contacts=60, organizations=10)
    second = generate(seed=2, contacts=60, organizations=10)
    assert [c.email for c in first.contacts] != [c.email for c in second.contacts]
    assert [o.name for o in first.organizations] != [o.name for o in second.organizations]


def test_output_does_not_depend_on_the_clock(data: SampleDataSet) -> None:
    assert generate(now=DEFAULT_NOW) == data


def test_default_counts(data: SampleDataSet) -> None:
    assert len(data.organizations) == 80
    assert len(data.contacts) == 500
    per_contact: defaultdict[str, int] = defaultdict(int)
    for interaction in data.interactions:
        per_contact[interaction.contact_key] += 1
    assert all(2 <= per_contact[c.key] <= 14 for c in data.contacts)


@pytest.mark.parametrize(
    ("contacts", "organizations", "bounds"),
    [(37, 5, (1, 3)), (12, 0, (0, 0)), (0, 4, (2, 14)), (25, 30, (5, 5))],
)
def test_requested_counts_are_honoured(
    contacts: int, organizations: int, bounds: tuple[int, int]
) -> None:
    result = generate(
        seed=11, contacts=contacts, organizations=organizations, interactions_per_contact=bounds
    )
    assert len(result.contacts) == contacts
    assert len(result.organizations) == organizations
    per_contact: defaultdict[str, int] = defaultdict(int)
    for interaction in result.interactions:
        per_contact[interaction.contact_key] += 1
    assert all(bounds[0] <= per_contact[c.key] <= bounds[1] for c in result.contacts)
    if organizations == 0:
        assert all(c.organization_key is None for c in result.contacts)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"contacts": -1},
        {"organizations": -1},
        {"interactions_per_contact": (5, 2)},
        {"interactions_per_contact": (-1, 2)},
        {"now": dt.datetime(2026, 1, 1, 12, 0)},  # naive
    ],
)
def test_invalid_arguments_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        generate(**kwargs)  # type: ignore[arg-type]


def test_keys_are_unique_and_stable(data: SampleDataSet) -> None:
    assert [o.key for o in data.organizations[:2]] == ["org-001", "org-002"]
    assert [c.key for c in data.contacts[:2]] == ["contact-0001", "contact-0002"]
    assert len({o.key for o in data.organizations}) == len(data.organizations)
    assert len({c.key for c in data.contacts}) == len(data.contacts)


def test_organizations_have_unique_names_and_example_domains(data: SampleDataSet) -> None:
    assert len({o.name for o in data.organizations}) == len(data.organizations)
    assert len({o.domain for o in data.organizations}) == len(data.organizations)
    for org in data.organizations:
        assert org.domain.endswith(".example")
        assert org.domain.isascii() and org.domain == org.domain.lower()
        assert org.size > 0


@pytest.mark.parametrize("seed", [7, 1, 2])
def test_emails_are_valid_and_unique(seed: int) -> None:
    result = generate(seed=seed)
    emails = [c.email for c in result.contacts]
    assert len(set(emails)) == len(emails)
    for email in emails:
        assert email.isascii() and email == email.lower()
        validate_email(email, check_deliverability=False)


def test_emails_match_names_and_organizations(data: SampleDataSet) -> None:
    domains = {o.key: o.domain for o in data.organizations}
    for contact in data.contacts:
        local, domain = contact.email.split("@")
        if contact.organization_key is not None:
            assert domain == domains[contact.organization_key]
        else:
            assert domain.endswith(".example")
            assert domain not in domains.values()
        first, last = _plain(contact.first_name), _plain(contact.last_name)
        squashed = local.replace(".", "").replace("_", "").replace("-", "")
        assert last in squashed or squashed.startswith(first), contact


@pytest.mark.parametrize("seed", [7, 1, 2, 3])
def test_phones_are_valid_for_the_contact_country(seed: int) -> None:
    for contact in generate(seed=seed).contacts:
        number = phonenumbers.parse(contact.phone, contact.country)
        assert phonenumbers.is_valid_number(number), contact
        assert phonenumbers.region_code_for_number(number) == contact.country, contact


def test_places_are_consistent(data: SampleDataSet) -> None:
    """A city name always comes with the same region and country."""
    places: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for org in data.organizations:
        places[org.city].add((org.region, org.country))
    for contact in data.contacts:
        places[contact.city].add((contact.region, contact.country))
    assert all(len(found) == 1 for found in places.values())
    assert len({c.country for c in data.contacts}) >= 10


def test_names_are_international(data: SampleDataSet) -> None:
    names = {f"{c.first_name} {c.last_name}" for c in data.contacts}
    assert any(not name.isascii() for name in names)
    assert len(names) > 400


def test_organization_links(data: SampleDataSet) -> None:
    org_keys = {o.key for o in data.organizations}
    linked = [c for c in data.contacts if c.organization_key is not None]
    assert all(c.organization_key in org_keys for c in linked)
    assert 0.65 <= len(linked) / len(data.contacts) <= 0.85
    assert all(c.role for c in linked)
    assert all(c.role is None for c in data.contacts if c.organization_key is None)


def test_contact_details(data: SampleDataSet) -> None:
    for contact in data.contacts:
        assert contact.tags == tuple(sorted(set(contact.tags)))
        assert contact.owner
        assert contact.source
        assert contact.job_title
        if contact.birth_date is not None:
            age = (DEFAULT_NOW.date() - contact.birth_date).days / 365.25
            assert 18 <= age <= 75


def test_interactions_are_sorted_and_within_two_years(data: SampleDataSet) -> None:
    contact_keys = [c.key for c in data.contacts]
    by_contact: dict[str, list[dt.datetime]] = defaultdict(list)
    for interaction in data.interactions:
        by_contact[interaction.contact_key].append(interaction.occurred_at)
        assert interaction.occurred_at.utcoffset() == dt.timedelta(0)
        assert DEFAULT_NOW - HISTORY_WINDOW <= interaction.occurred_at < DEFAULT_NOW
    assert set(by_contact) <= set(contact_keys)
    for moments in by_contact.values():
        assert moments == sorted(moments)
    # Grouped by contact in contact order.
    order = list(dict.fromkeys(i.contact_key for i in data.interactions))
    assert order == [key for key in contact_keys if key in by_contact]


def test_interactions_follow_a_custom_now() -> None:
    now = dt.datetime(2031, 6, 15, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    result = generate(seed=5, contacts=40, organizations=6, now=now)
    assert result.interactions
    for interaction in result.interactions:
        assert now - HISTORY_WINDOW <= interaction.occurred_at < now
        assert interaction.occurred_at.tzinfo == dt.UTC


def test_interaction_fields(data: SampleDataSet) -> None:
    assert {i.channel for i in data.interactions} == CHANNELS
    for interaction in data.interactions:
        assert interaction.direction in {"inbound", "outbound"}
        assert interaction.kind
        assert interaction.summary and interaction.summary.endswith(".")
        assert "{" not in interaction.summary
        assert interaction.payload
        assert all(isinstance(v, str | int) for v in interaction.payload.values())
        if interaction.channel == "email":
            assert interaction.payload["subject"]
        if interaction.channel == "phone":
            assert isinstance(interaction.payload["duration_s"], int)
