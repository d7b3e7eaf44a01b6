"""Tests for crmkit.normalize: concrete cases and fast-vs-reference equivalence.

The fast functions must give exactly what the library calls give (the
reference functions): the same normalised value, or an error in both.  The
property tests feed both with generated input; the exhaustive test runs every
example number phonenumbers ships, in several formats and with mutations.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator

import idna
import phonenumbers
import pytest
from email_validator import rfc_constants
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

import crmkit.normalize as normalize
from crmkit.normalize import (
    NormalizationError,
    normalize_email,
    normalize_phone,
    reference_email,
    reference_phone,
)


def outcome(func: Callable[..., str | None], *args: str | None) -> tuple[str, str | None]:
    """Result of a call as ("ok", value) or ("error", message)."""
    try:
        return ("ok", func(*args))
    except NormalizationError as exc:
        return ("error", str(exc))


def assert_email_agrees(value: str | None) -> None:
    assert outcome(normalize_email, value) == outcome(reference_email, value), value


def assert_phone_agrees(value: str | None, region: str | None) -> None:
    fast = outcome(normalize_phone, value, region)
    reference = outcome(reference_phone, value, region)
    assert fast == reference, (value, region)


PROPERTY_SETTINGS = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture
def library_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any use of the slow library path fail, to prove a fast path ran."""

    def forbidden(*args: object) -> str:
        raise AssertionError(f"library path used for {args!r}")

    monkeypatch.setattr(normalize, "_library_email", forbidden)
    monkeypatch.setattr(normalize, "_library_phone", forbidden)


# ---------------------------------------------------------------------------
# Email: concrete cases.
# ---------------------------------------------------------------------------

VALID_EMAILS = [
    ("ada.lovelace@example.com", "ada.lovelace@example.com"),
    ("  Ada.Lovelace@Example.COM \n", "Ada.Lovelace@example.com"),  # only the domain is folded
    ("first.last+tag@gmail.com", "first.last+tag@gmail.com"),
    ("o'brien@sub.example.co.uk", "o'brien@sub.example.co.uk"),
    ("x!#$%&'*+-/=?^_`{|}~@example.org", "x!#$%&'*+-/=?^_`{|}~@example.org"),
    ("POSTMASTER@Example.com", "postmaster@example.com"),  # RFC 2142 role names
    ("Info@example.com", "info@example.com"),
    ("Infos@example.com", "Infos@example.com"),
    ("a@xn--bcher-kva.de", "a@bücher.de"),  # IDNA domain comes back in Unicode
    ("a@BÜCHER.de", "a@bücher.de"),
    ("ü@example.com", "ü@example.com"),
    ("a" * 65 + "@example.com", "a" * 65 + "@example.com"),  # 64 only enforced when strict
    ("a@b.c0m", "a@b.c0m"),
]

INVALID_EMAILS = [
    ("a@example.invalid", "special-use or reserved name"),
    ("a@mail.localhost", "special-use or reserved name"),
    ("a@localhost", "It should have a period"),
    ("plainaddress", "must have an @-sign"),
    ("@example.com", "something before the @-sign"),
    ("a@", "something after the @-sign"),
    ("a..b@example.com", "two periods in a row"),
    (".a@example.com", "cannot start with a period"),
    ("a@-example.com", "hyphen"),
    ("a@example.com.", "cannot end with a period"),
    ("a@ex_ample.com", "invalid characters"),
    ("x@[192.0.2.1]", "bracketed IP address"),
    ('"ada"@example.com', "Quoting"),
    ("Ada <ada@example.com>", "display name"),
    ("a b@example.com", "invalid characters"),
    ("a" * 64 + "@" + ("b" * 63 + ".") * 3 + "com", "too long"),
]


@pytest.mark.parametrize("func", [normalize_email, reference_email])
@pytest.mark.parametrize(("value", "expected"), VALID_EMAILS)
def test_valid_emails(func: Callable[[str], str | None], value: str, expected: str) -> None:
    assert func(value) == expected


@pytest.mark.parametrize("func", [normalize_email, reference_email])
@pytest.mark.parametrize(("value", "reason"), INVALID_EMAILS)
def test_invalid_emails(func: Callable[[str], str | None], value: str, reason: str) -> None:
    with pytest.raises(NormalizationError, match=r"^not a valid email address: ") as info:
        func(value)
    assert reason in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_blank_email_is_no_value(value: str | None) -> None:
    assert normalize_email(value) is None
    assert reference_email(value) is None


@pytest.mark.parametrize("value", [v for v, _ in VALID_EMAILS + INVALID_EMAILS])
def test_email_cases_agree(value: str) -> None:
    assert_email_agrees(value)


def test_domain_errors_are_cached_with_the_library_message() -> None:
    first = outcome(normalize_email, "a@example.invalid")
    second = outcome(normalize_email, "b.c@example.invalid")
    assert first == outcome(reference_email, "a@example.invalid")
    assert second == outcome(reference_email, "b.c@example.invalid")


def test_common_emails_use_the_fast_path(library_forbidden: None) -> None:
    assert normalize_email("Ada.Lovelace@Example.COM") == "Ada.Lovelace@example.com"
    assert normalize_email("sales@example.com") == "sales@example.com"
    with pytest.raises(NormalizationError, match="special-use"):
        normalize_email("a@example.invalid")


def test_fast_local_part_charset_is_the_library_atext() -> None:
    for code in range(128):
        char = chr(code)
        ours = normalize._DOT_ATOM.fullmatch(char) is not None
        theirs = rfc_constants.DOT_ATOM_TEXT.match(char) is not None
        assert ours == theirs, repr(char)


def test_email_settings_disable_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    import email_validator

    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", True)
    assert_email_agrees("a@example.test")
    assert normalize_email("a@example.test") == "a@example.test"


# ---------------------------------------------------------------------------
# Email: properties.
# ---------------------------------------------------------------------------

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
atoms = st.text(ATEXT, min_size=1, max_size=12)
local_parts = st.one_of(
    st.lists(atoms, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["Postmaster", "INFO", "sales", "WebMaster", "noc", "news", "ftp", "infos"]),
    st.integers(60, 70).map(lambda n: "l" * n),
)
labels = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,14}[A-Za-z0-9])?", fullmatch=True)
tlds = st.sampled_from(
    ["com", "COM", "org", "co.uk", "de", "museum", "invalid", "local", "localhost", "test",
     "onion", "arpa", "example", "xn--p1ai", "xn--bcher-kva", "xn--abc", "c0m", "1", "a", ""]
)


def _idna_label(text: str) -> str:
    try:
        return idna.encode(text).decode("ascii")
    except idna.IDNAError:
        return "xn--invalid"


idn_labels = st.text(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1, max_size=25
).map(_idna_label)
domains = st.builds(
    lambda parts, tld: ".".join([*parts, tld]),
    st.lists(st.one_of(labels, idn_labels), max_size=3),
    tlds,
)
plausible_emails = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)


def _long_email(local_length: int, label_count: int, last_label: int, idn: str) -> str:
    domain = ".".join(["d" * 63] * label_count + ["e" * last_label, idn, "com"])
    return "l" * local_length + "@" + domain


# Addresses whose original, normalised or IDNA form is near 254 octets.
long_emails = st.builds(
    _long_email,
    st.integers(1, 70),
    st.integers(0, 3),
    st.integers(1, 63),
    idn_labels,
)

noise = st.sampled_from([*' "<>[]()\\,;:@.\t\n\x00-\u00fc\uff20', "xn--", "..", "@@"])


@st.composite
def mutated_emails(draw: st.DrawFn) -> str:
    email = draw(plausible_emails)
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(email)))
        email = email[:position] + draw(noise) + email[position:]
    return email


random_emails = st.one_of(
    st.text(max_size=40),
    st.builds(lambda a, b: f"{a}@{b}", st.text(max_size=15), st.text(max_size=25)),
    st.text(string.printable, max_size=40),
)
padded_emails = st.builds(
    lambda pad, email, pad2: pad + email + pad2,
    st.sampled_from(["", " ", "\t", "\u00a0"]),
    plausible_emails,
    st.sampled_from(["", " ", "\n"]),
)


@PROPERTY_SETTINGS
@given(st.one_of(plausible_emails, long_emails, mutated_emails(), random_emails, padded_emails))
def test_email_fast_path_matches_reference(value: str) -> None:
    assert_email_agrees(value)


# ---------------------------------------------------------------------------
# Phone: concrete cases.
# ---------------------------------------------------------------------------

VALID_PHONES = [
    ("+44 20 7946 0958", "GB", "+442079460958"),
    ("+442079460958", None, "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("07911 123456", "GB", "+447911123456"),
    ("+44 (0)20 7946 0958", "GB", "+442079460958"),
    ("(0)20 7946 0958", "GB", "+442079460958"),
    ("0044 20 7946 0958", "GB", "+442079460958"),  # international prefix
    ("(415) 555-0123", "US", "+14155550123"),
    ("415.555.0123", "US", "+14155550123"),
    ("1 415 555 0123", "US", "+14155550123"),  # country code without '+'
    ("+1 (415) 555-0123", "GB", "+14155550123"),  # region other than the default
    ("+1-415-555-0123 ext. 42", "US", "+14155550123"),  # extensions are not in E.164
    ("(415) 555-0123 x123", "US", "+14155550123"),
    ("1-800-FLOWERS", "US", "+18003569377"),  # vanity letters
    ("tel:+44-20-7946-0958", None, "+442079460958"),
    ("030 1234567", "DE", "+49301234567"),
    ("+49 (0)30 1234567", "DE", "+49301234567"),
    ("06 1234 5678", "IT", "+390612345678"),  # Italian leading zero is kept
    ("+39 06 1234 5678", None, "+390612345678"),
    ("+39 06 698 12345", None, "+390669812345"),
    ("3123456789", "IT", "+393123456789"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("98765 43210", "IN", "+919876543210"),
    ("+7 701 123 4567", None, "+77011234567"),  # Kazakhstan shares +7 with Russia
    ("+800 1234 5678", None, "+80012345678"),  # non-geographic
    (" +44 20 7946 0958 ", "GB", "+442079460958"),
]

INVALID_PHONES = [
    ("020 7946 0958", None, "without a default region: Missing or invalid default region"),
    ("020 7946 0958", "gb", "Missing or invalid default region"),
    ("12345", "GB", "not a valid phone number for region GB"),
    ("+44 20 7946 095", "GB", "not a valid phone number for region GB"),
    ("555-0123", "US", "not a valid phone number for region US"),
    ("not a phone", "GB", "did not seem to be a phone number"),
    ("+999 123 456", None, "Could not interpret numbers after plus-sign"),
    ("+44", None, "not a valid phone number"),
    ("0", "FR", "not a valid phone number"),
]


@pytest.mark.parametrize("func", [normalize_phone, reference_phone])
@pytest.mark.parametrize(("value", "region", "expected"), VALID_PHONES)
def test_valid_phones(
    func: Callable[[str, str | None], str | None], value: str, region: str | None, expected: str
) -> None:
    assert func(value, region) == expected


@pytest.mark.parametrize("func", [normalize_phone, reference_phone])
@pytest.mark.parametrize(("value", "region", "reason"), INVALID_PHONES)
def test_invalid_phones(
    func: Callable[[str, str | None], str | None], value: str, region: str | None, reason: str
) -> None:
    with pytest.raises(NormalizationError, match=r"^not a valid phone number") as info:
        func(value, region)
    assert reason in str(info.value)


@pytest.mark.parametrize("value", [None, "", "  ", "\n"])
@pytest.mark.parametrize("region", ["GB", None])
def test_blank_phone_is_no_value(value: str | None, region: str | None) -> None:
    assert normalize_phone(value, region) is None
    assert reference_phone(value, region) is None


@pytest.mark.parametrize(
    ("value", "region"),
    [(v, r) for v, r, _ in VALID_PHONES] + [(v, r) for v, r, _ in INVALID_PHONES],
)
def test_phone_cases_agree(value: str, region: str | None) -> None:
    assert_phone_agrees(value, region)


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("+44 20 7946 0958", "GB", "+442079460958"),
        ("+442079460958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", "GB", "+442079460958"),
        ("(415) 555-0123", "US", "+14155550123"),
        ("415.555.0123", "US", "+14155550123"),
        ("1 415 555 0123", "US", "+14155550123"),
        ("+1 415 555 0123", "DE", "+14155550123"),
        ("030 1234567", "DE", "+49301234567"),
        ("06 1234 5678", "IT", "+390612345678"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("98765 43210", "IN", "+919876543210"),
        ("+7 701 123 4567", None, "+77011234567"),
    ],
)
def test_common_phones_use_the_fast_path(
    library_forbidden: None, value: str, region: str | None, expected: str
) -> None:
    assert normalize_phone(value, region) == expected


@pytest.mark.parametrize(
    ("value", "region"),
    [("020 7946 095", "GB"), ("+44 20 7946 095", None), ("(415) 155-0123", "US")],
)
def test_invalid_phones_are_rejected_on_the_fast_path(
    library_forbidden: None, value: str, region: str | None
) -> None:
    with pytest.raises(NormalizationError, match=r"^not a valid phone number "):
        normalize_phone(value, region)


# ---------------------------------------------------------------------------
# Phone: every example number of the library, formatted and mutated.
# ---------------------------------------------------------------------------

TEST_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
NUMBER_TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]
FORMATS = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL]


def _example_numbers() -> list[tuple[str, str]]:
    examples: list[tuple[str, str]] = []
    for region in TEST_REGIONS:
        for number_type in NUMBER_TYPES:
            number = phonenumbers.example_number_for_type(region, number_type)
            if number is not None:
                examples.extend(
                    (str(phonenumbers.format_number(number, fmt)), region) for fmt in FORMATS
                )
    for country_code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(country_code)
        if number is not None:
            examples.append((str(phonenumbers.format_number(number, 0)), "001"))
    return examples


EXAMPLE_NUMBERS = _example_numbers()


def _variants(rng: random.Random) -> Iterator[tuple[str, str | None]]:
    for text, region in EXAMPLE_NUMBERS:
        yield text, region
        yield text, None
        yield text, rng.choice(TEST_REGIONS)
        for _ in range(2):
            yield (
                "".join(
                    rng.choice(string.digits) if c.isdigit() and rng.random() < 0.15 else c
                    for c in text
                ),
                region,
            )
        cut = rng.randrange(len(text))
        yield text[:cut] + text[cut + 1 :], region
        yield text[:cut] + rng.choice(string.digits) + text[cut:], region


def test_all_example_numbers_agree() -> None:
    """Every example number in the metadata, in three formats, with the right,
    no and a random default region, and mutated (changed, dropped and added
    digits): the fast function agrees with the reference on all of them."""
    rng = random.Random(20240611)
    mismatches = []
    checked = 0
    for value, region in _variants(rng):
        checked += 1
        fast = outcome(normalize_phone, value, region)
        reference = outcome(reference_phone, value, region)
        if fast != reference:
            mismatches.append((value, region, fast, reference))
    assert checked > 10_000
    assert mismatches == []


# ---------------------------------------------------------------------------
# Phone: properties.
# ---------------------------------------------------------------------------

regions = st.sampled_from(
    ["GB", "US", "DE", "IT", "FR", "IN", None, "GG", "JE", "IM", "CA", "AG", "AR", "BR", "MX",
     "JP", "AU", "CX", "RU", "KZ", "NO", "SJ", "VA", "CN", "001", "gb", "ZZ"]
)
digit_groups = st.lists(st.text(string.digits, min_size=1, max_size=5), min_size=1, max_size=5)
separators = st.sampled_from([" ", "-", ".", "", "(", ")", " (", ") ", "  ", "/"])
prefixes = st.sampled_from(
    ["", "", "+", "+", "(", "(+", "00", "011", "+0", "0", "1", "+1 ", "+44 ", "+44 (0)",
     "+39 0", "+7 ", "tel:+", "+ ", "++", "0044 ", "1-", "Tel: "]
)
suffixes = st.sampled_from(["", "", "", " x12", " ext. 123", "#", ";ext=5", " ", "-", ")", "a"])


@st.composite
def shaped_phones(draw: st.DrawFn) -> str:
    groups = draw(digit_groups)
    body = groups[0]
    for group in groups[1:]:
        body += draw(separators) + group
    return draw(prefixes) + body + draw(suffixes)


@st.composite
def mutated_examples(draw: st.DrawFn) -> tuple[str, str | None]:
    text, region = draw(st.sampled_from(EXAMPLE_NUMBERS))
    chars = list(text)
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(chars)))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        char = draw(st.sampled_from(list(string.digits + " -+().")))
        if action == "insert":
            chars.insert(position, char)
        elif position < len(chars):
            if action == "replace":
                chars[position] = char
            else:
                del chars[position]
    return "".join(chars), draw(st.one_of(st.just(region), regions))


random_phones = st.text(
    st.sampled_from(list("0123456789+-() .xX#;,/ext:\u0660\uff10\uff0b\u00a0")), max_size=25
)


@PROPERTY_SETTINGS
@given(st.one_of(shaped_phones(), random_phones), regions)
def test_phone_fast_path_matches_reference(value: str, region: str | None) -> None:
    assert_phone_agrees(value, region)


@PROPERTY_SETTINGS
@given(mutated_examples())
def test_phone_mutated_examples_match_reference(case: tuple[str, str | None]) -> None:
    assert_phone_agrees(*case)


def _phone_number(country_code: int, nsn: str) -> phonenumbers.PhoneNumber:
    """A PhoneNumber whose national significant number is exactly ``nsn``."""
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn))
    zeros = len(nsn) - len(nsn.lstrip("0"))
    if len(nsn) > 1 and zeros:
        number.italian_leading_zero = True
        zeros = min(zeros, len(nsn) - 1)
        if zeros > 1:
            number.number_of_leading_zeros = zeros
    return number


def test_validity_test_matches_is_valid_number() -> None:
    """The precompiled validity test against ``is_valid_number`` directly, for
    every country code: example numbers with random tails of every length."""
    rng = random.Random(7)
    seeds: dict[int, list[str]] = {}
    for text, region in EXAMPLE_NUMBERS:
        number = phonenumbers.parse(text, region)
        nsn = phonenumbers.national_significant_number(number)
        assert number.country_code is not None
        seeds.setdefault(number.country_code, []).append(nsn)
    mismatches = []
    for country_code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        valid = normalize._validity(country_code)
        assert valid is not None
        for seed in [*seeds.get(country_code, ["0"]), "1", "2", "5", "7", "9"]:
            for length in range(2, 18):
                keep = rng.randrange(min(len(seed), length) + 1)
                nsn = seed[:keep] + "".join(rng.choice(string.digits) for _ in range(length - keep))
                expected = phonenumbers.is_valid_number(_phone_number(country_code, nsn))
                if valid(nsn) != expected:
                    mismatches.append((country_code, nsn, expected))
    assert mismatches == []


def test_concurrent_use_gives_the_same_results() -> None:
    """The caches are shared between threads; results must not depend on it."""
    from concurrent.futures import ThreadPoolExecutor

    emails = [f"user{i}@Host{i % 7}.Example.com" for i in range(300)] + ["a@b.invalid"] * 20
    phones = [(f"020 7946 {i:04d}", "GB") for i in range(300)] + [("+44 20 7946 095", None)]

    def run(_: int) -> list[tuple[str, str | None]]:
        return [outcome(normalize_email, e) for e in emails] + [
            outcome(normalize_phone, v, r) for v, r in phones
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(8)))
    expected = [outcome(reference_email, e) for e in emails] + [
        outcome(reference_phone, v, r) for v, r in phones
    ]
    assert all(result == expected for result in results)


def test_installed_libraries_are_a_verified_series() -> None:
    # If this fails after an upgrade, the fast paths are off (imports get slower,
    # results do not change): run these equivalence tests against the new release
    # and add its series to VERIFIED_* once they pass.
    import email_validator
    import phonenumbers

    from crmkit import normalize

    assert normalize._series(email_validator.__version__) in normalize.VERIFIED_EMAIL_VALIDATOR
    assert normalize._series(phonenumbers.__version__) in normalize.VERIFIED_PHONENUMBERS


def test_unverified_releases_send_every_value_to_the_libraries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crmkit import normalize

    calls: list[str] = []
    real_email, real_phone = normalize._library_email, normalize._library_phone

    def spy_email(value: str) -> str:
        calls.append(value)
        return real_email(value)

    def spy_phone(value: str, region: str | None) -> str:
        calls.append(value)
        return real_phone(value, region)

    monkeypatch.setattr(normalize, "_EMAIL_FAST", False)
    monkeypatch.setattr(normalize, "_PHONE_FAST", False)
    monkeypatch.setattr(normalize, "_library_email", spy_email)
    monkeypatch.setattr(normalize, "_library_phone", spy_phone)
    assert normalize.normalize_email("Ada@Example.COM") == "Ada@example.com"
    assert normalize.normalize_phone("020 7946 0958", "GB") == "+442079460958"
    assert calls == ["Ada@Example.COM", "020 7946 0958"]
