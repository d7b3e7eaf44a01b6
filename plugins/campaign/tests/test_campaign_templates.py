"""Templates: which placeholders a step may use, and how a message is filled in for a person."""

from __future__ import annotations

import pytest
from crmkit_campaign.templates import MissingField, fields_in, render
from hypothesis import given
from hypothesis import strategies as st

from crmkit.entities.core import Contact
from crmkit.errors import ValidationError

EXTRA = {"unsubscribe_url": "https://shop.example/unsubscribe?token=t", "campaign": "Spring"}


def ada(**changes: object) -> Contact:
    values: dict[str, object] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "custom": {"tier": "gold", "points": 120, "vip": True},
    }
    values.update(changes)
    return Contact(**values)  # type: ignore[arg-type]


def test_fields_in_lists_every_placeholder() -> None:
    text = "Hi {first_name} {last_name} <{email}>, {custom.tier} in {campaign}: {unsubscribe_url}"
    assert fields_in(text) == {
        "first_name", "last_name", "email", "custom.tier", "campaign", "unsubscribe_url",
    }
    assert fields_in("No placeholders, just {{braces}}") == set()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hi {name}", "unknown placeholder {name}"),
        ("Hi {}", "unknown placeholder {}"),
        ("Hi {0}", "unknown placeholder {0}"),
        ("Hi {first_name.__class__}", "unknown placeholder {first_name.__class__}"),
        ("Hi {custom[tier]}", "unknown placeholder {custom[tier]}"),
        ("Hi {custom.}", "unknown placeholder {custom.}"),
        ("Hi {first_name!r}", "takes no conversion or format"),
        ("Hi {first_name:>20}", "takes no conversion or format"),
        ("Hi {first_name", "braces do not match"),
        ("Hi first_name}", "braces do not match"),
    ],
)
def test_bad_placeholders_are_refused_naming_the_field(text: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        fields_in(text, field="subject")
    assert (caught.value.entity, caught.value.field) == ("campaign.step", "subject")
    assert words in str(caught.value)


def test_render_fills_in_contact_custom_and_extra_values() -> None:
    text = "Dear {first_name} {last_name} ({email}), {custom.tier}/{custom.points}/{custom.vip}"
    assert render(text, ada(), extra=EXTRA) == (
        "Dear Ada Lovelace (ada@example.com), gold/120/yes"
    )
    assert render("{campaign}: {unsubscribe_url} {{ok}}", ada(), extra=EXTRA) == (
        "Spring: https://shop.example/unsubscribe?token=t {ok}"
    )


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        (ada(first_name=None), "first_name"),
        (ada(first_name="   "), "first_name"),
        (ada(custom={}), "custom.tier"),
        (ada(custom={"tier": ["a", "b"]}), "custom.tier"),
    ],
)
def test_a_missing_value_names_the_contact_and_field(contact: Contact, field: str) -> None:
    text = "Hi {first_name}, your tier is {custom.tier}"
    with pytest.raises(MissingField) as caught:
        render(text, contact, extra=EXTRA)
    assert caught.value.contact_id == contact.id
    assert caught.value.field == field
    assert contact.id in str(caught.value) and "nothing was sent" in str(caught.value)


def test_render_without_an_extra_value_is_missing_not_blank() -> None:
    with pytest.raises(MissingField, match="unsubscribe_url"):
        render("Leave: {unsubscribe_url}", ada(), extra={})


literal = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60)


@given(literal)
def test_text_without_placeholders_renders_as_written(text: str) -> None:
    escaped = text.replace("{", "{{").replace("}", "}}")
    assert fields_in(escaped) == set()
    assert render(escaped, ada(), extra=EXTRA) == text


@given(st.lists(st.sampled_from(["first_name", "last_name", "email", "custom.tier"]), max_size=6),
       literal)
def test_every_placeholder_is_replaced_by_the_persons_value(names: list[str], gap: str) -> None:
    safe_gap = gap.replace("{", "{{").replace("}", "}}")
    text = safe_gap.join("{" + name + "}" for name in names)
    person = ada()
    values = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
              "custom.tier": "gold"}
    assert render(text, person, extra=EXTRA) == gap.join(values[name] for name in names)
    assert fields_in(text) == set(names)
