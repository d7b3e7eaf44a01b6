"""Normalisation of contact email addresses and phone numbers.

Every contact write normalises its email and phone, so the cost of doing so is
paid once per imported row.  The meaning of "normalised" is fixed by two
libraries and must not drift:

* email: ``email_validator.validate_email(value, check_deliverability=False).normalized``
* phone: ``phonenumbers.parse(value, region)``, rejected unless
  ``phonenumbers.is_valid_number``, then formatted as E.164.

Both libraries are slow for this use (tens of microseconds per value, more than
a whole SQLite insert), so this module puts an *exact* fast path in front of
each of them.  A fast path only ever answers for inputs whose handling by the
library it can reproduce step by step; every other input is handed to the
library itself.  The reference
implementations (:func:`reference_email`, :func:`reference_phone`) are the
plain library calls and the tests check the two against each other.

Email fast path
    For ASCII input whose part before the first ``@`` is an RFC 5322 dot-atom
    of at most 64 characters, email-validator leaves the local part unchanged
    (apart from lower-casing the RFC 2142 role names such as ``Postmaster``),
    and the rest of its work depends on the domain alone: it validates and
    normalises the domain with ``validate_email_domain_name`` and then checks
    that the three forms of the address fit in 254 octets.  The domain verdict
    (the normalised domain, or the library's rejection message) is therefore
    cached per domain string and the length limit is checked arithmetically.

Phone fast path
    For input made only of an optional leading ``(``, an optional ``+``, ASCII
    digits and the separators `` ().-`` (ending in a digit), none of the
    generic text handling of ``phonenumbers.parse`` applies: there is no
    extension, RFC 3966 syntax, letter or leading/trailing junk.  What remains
    is the region-specific digit logic (country code, international and
    national prefixes, possible lengths) and the validity test, which are
    re-done here from the library's own metadata with precompiled regular
    expressions: the validity test of a region is two patterns per number
    length (general description, and all number types joined into one
    alternation) instead of a dozen separate pattern look-ups.  A number
    parsed this way is accepted or rejected by that test (rejections use the
    same message as the library path).  Any branch of ``parse`` that needs
    more than the above (IDD prefixes such as ``00``, national prefix
    transform rules, too short or too long numbers, unknown country codes...)
    is left to the library.

Both fast paths mirror the logic of the library releases they were proved
against (the ``VERIFIED_*`` series below). With any other release installed
they stay off and every value goes to the library: slower, never different.
Widen a series only after the equivalence tests pass against it.

Caches are bounded ``functools.lru_cache`` instances, so the module is
thread-safe and its memory use is capped.  The email domain cache reads the
email-validator settings that influence it (``TEST_ENVIRONMENT``,
``GLOBALLY_DELIVERABLE``) on every call and is bypassed unless they have their
default values; ``email_validator.SPECIAL_USE_DOMAIN_NAMES`` is assumed not to
be edited after the first email has been normalised.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    SUPPORTED_REGIONS,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberFormat,
)

VERIFIED_EMAIL_VALIDATOR: Final = ("2.4",)
"""email-validator release series whose handling the email fast path reproduces."""
VERIFIED_PHONENUMBERS: Final = ("9.0",)
"""phonenumbers release series whose parsing the phone fast path reproduces."""


def _series(version: str) -> str:
    return ".".join(version.split(".")[:2])


_EMAIL_FAST: Final = _series(email_validator.__version__) in VERIFIED_EMAIL_VALIDATOR
_PHONE_FAST: Final = _series(phonenumbers.__version__) in VERIFIED_PHONENUMBERS

__all__ = [
    "NormalizationError",
    "normalize_email",
    "normalize_phone",
    "reference_email",
    "reference_phone",
]


class NormalizationError(ValueError):
    """A contact value could not be normalised because the library rejects it.

    The message is meant for people: it names the kind of value and, where the
    underlying library gives one, keeps the library's own reason.
    """


# ---------------------------------------------------------------------------
# Reference implementations: the plain library calls that define the meaning.
# ---------------------------------------------------------------------------


def _strip(value: str | None) -> str | None:
    """Strip surrounding whitespace; ``None`` for a missing or blank value."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def _library_email(value: str) -> str:
    """Normalise a stripped, non-empty email with email-validator."""
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise NormalizationError(f"not a valid email address: {exc}") from exc


def _region_text(region: str | None) -> str:
    return f"for region {region}" if region else "without a default region"


def _invalid_phone(region: str | None) -> NormalizationError:
    """The error for a number that parses but fails ``is_valid_number``."""
    return NormalizationError(f"not a valid phone number {_region_text(region)}")


def _library_phone(value: str, region: str | None) -> str:
    """Normalise a stripped, non-empty phone number with phonenumbers."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException as exc:
        reason = exc.args[0] if exc.args else str(exc)
        raise NormalizationError(
            f"not a valid phone number {_region_text(region)}: {reason}"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid_phone(region)
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def reference_email(value: str | None) -> str | None:
    """Normalise an email address with a plain email-validator call.

    This is the definition of email normalisation in crmkit: whitespace is
    stripped, a blank value means "no value" and anything email-validator
    rejects raises :class:`NormalizationError`.  It is kept as a separate
    function so that tests and benchmarks can compare :func:`normalize_email`
    with it.
    """
    stripped = _strip(value)
    return None if stripped is None else _library_email(stripped)


def reference_phone(value: str | None, region: str | None) -> str | None:
    """Normalise a phone number to E.164 with plain phonenumbers calls.

    ``region`` is the default region for numbers written without a country
    code (``None`` accepts only numbers that start with ``+``).  This is the
    definition of phone normalisation in crmkit and the yardstick for
    :func:`normalize_phone`.
    """
    stripped = _strip(value)
    return None if stripped is None else _library_phone(stripped, region)


# ---------------------------------------------------------------------------
# Email fast path.
# ---------------------------------------------------------------------------

# The library's own domain step and role-name list.  Should a future
# email-validator move them, the fast path switches itself off.
_validate_domain: Callable[..., Any] | None
try:
    from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
    from email_validator.syntax import validate_email_domain_name as _validate_domain
except ImportError:  # pragma: no cover - depends on the installed library
    _validate_domain = None
    CASE_INSENSITIVE_MAILBOX_NAMES = []

_ROLE_NAMES: Final = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_ROLE_NAME_MAX: Final = max((len(name) for name in _ROLE_NAMES), default=0)

# RFC 5322 atext, exactly the set of email_validator.rfc_constants.ATEXT.
_ATEXT: Final = "A-Za-z0-9_!#$%&'*+\\-/=?^`{|}~"
_DOT_ATOM: Final = re.compile(f"[{_ATEXT}]+(?:\\.[{_ATEXT}]+)*")

_EMAIL_MAX_LENGTH: Final = 254  # octets, RFC 5321 4.5.3.1.3 as enforced by the library
_LOCAL_PART_MAX_LENGTH: Final = 64  # only enforced in email-validator's strict mode


@dataclass(frozen=True, slots=True)
class _DomainVerdict:
    """What email-validator concludes about one domain part.

    ``domain`` is the domain as it appears in the normalised address (or
    ``None`` when rejected, with the library's message in ``error``);
    ``max_local`` is the longest ASCII local part for which the original, the
    normalised and the IDNA-ASCII forms of the address all fit in 254 octets.
    """

    domain: str | None
    max_local: int
    error: str | None


@lru_cache(maxsize=16384)
def _domain_verdict(domain: str) -> _DomainVerdict | None:
    """Run email-validator's domain step once per distinct domain string.

    The arguments are the ones ``validate_email`` passes with the default
    settings.  ``None`` means the library failed in an unexpected way; the
    caller then lets the full library call raise whatever it raises.
    """
    if _validate_domain is None:  # pragma: no cover - depends on the installed library
        return None
    try:
        info = _validate_domain(domain, test_environment=False, globally_deliverable=True)
    except EmailNotValidError as exc:
        return _DomainVerdict(None, 0, str(exc))
    except Exception:  # pragma: no cover - defensive; the library path reports it
        return None
    unicode_domain = str(info["domain"])
    ascii_domain = str(info["ascii_domain"])
    longest = max(len(domain), len(ascii_domain), len(unicode_domain.encode("utf-8")))
    return _DomainVerdict(unicode_domain, _EMAIL_MAX_LENGTH - 1 - longest, None)


def normalize_email(value: str | None) -> str | None:
    """Normalise an email address exactly as :func:`reference_email` does, but fast.

    Returns ``None`` for a missing or blank value and raises
    :class:`NormalizationError` for an invalid address.  Common addresses
    (ASCII, dot-atom local part) are answered from a per-domain cache of
    email-validator's domain verdict; everything else is passed to
    email-validator.  See the module docstring for why this is exact.
    """
    stripped = _strip(value)
    if stripped is None:
        return None
    if (
        _EMAIL_FAST
        and stripped.isascii()
        and not email_validator.TEST_ENVIRONMENT
        and email_validator.GLOBALLY_DELIVERABLE
    ):
        at = stripped.find("@")
        # The dot-atom local part contains no '@', '"' or '<', so the library
        # splits the address at this first '@' too and sees no display name
        # and no quoting.  Up to 64 characters, strict mode cannot object.
        if 0 < at <= _LOCAL_PART_MAX_LENGTH and _DOT_ATOM.fullmatch(stripped, 0, at):
            domain = stripped[at + 1 :]
            if domain and not (domain[0] == "[" and domain[-1] == "]"):
                verdict = _domain_verdict(domain)
                if verdict is not None:
                    if verdict.domain is None:
                        # The local part is valid, so the domain's rejection
                        # is the first error the library would raise.
                        raise NormalizationError(f"not a valid email address: {verdict.error}")
                    if at <= verdict.max_local:
                        local = stripped[:at]
                        if at <= _ROLE_NAME_MAX:
                            lowered = local.lower()
                            if lowered in _ROLE_NAMES:
                                local = lowered
                        return f"{local}@{verdict.domain}"
    return _library_email(stripped)


# ---------------------------------------------------------------------------
# Phone fast path.
# ---------------------------------------------------------------------------

_MIN_LENGTH_FOR_NSN: Final = 2  # phonenumberutil._MIN_LENGTH_FOR_NSN
_MAX_LENGTH_FOR_NSN: Final = 17  # phonenumberutil._MAX_LENGTH_FOR_NSN
_MAX_LENGTH_COUNTRY_CODE: Final = 3
_FAST_INPUT_MAX_LENGTH: Final = 64  # well under the library's 250 character limit

# An optional '(' (dropped by the library as leading junk), an optional '+',
# then ASCII digits and common separators, ending in a digit: no extension,
# RFC 3966 parameter, letter or trailing junk can be present.
_PHONE_SHAPE: Final = re.compile(r"\(?(\+?)([0-9][0-9 ().\-]*[0-9])")

# Results of phonenumberutil._test_number_length, by the same names.
_IS_POSSIBLE: Final = 0
_IS_POSSIBLE_LOCAL_ONLY: Final = 1
_TOO_SHORT: Final = 2
_INVALID_LENGTH: Final = 3
_TOO_LONG: Final = 4
_KEEPS_PREFIX: Final = frozenset((_TOO_SHORT, _IS_POSSIBLE_LOCAL_ONLY, _INVALID_LENGTH))

# Number types in the order phonenumberutil._number_type_helper tries them;
# "mobile" is tried last and only when it differs from "fixed_line".
_TYPE_DESCS: Final = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
)
# Constructs that would change meaning when patterns are joined with '|'.
_UNSAFE_TO_JOIN: Final = re.compile(r"\\[1-9]|\(\?P[=<]|\(\?[aiLmsux]")


class _Unsupported(Exception):
    """Internal signal: this input needs the library path."""


class _Pieces:
    """Parsing data of one region's metadata, compiled once.

    Mirrors the fields ``phonenumbers.parse`` reads: the country code, the
    international (IDD) and national prefixes, the general number pattern and
    the possible lengths.
    """

    __slots__ = (
        "country_code",
        "country_code_text",
        "general",
        "idd",
        "lengths",
        "local_lengths",
        "national_prefix",
        "tested_lengths",
        "transform_rule",
    )

    def __init__(self, metadata: PhoneMetadata) -> None:
        general_desc = metadata.general_desc
        if general_desc is None:
            raise _Unsupported
        if metadata.country_code is None:
            raise _Unsupported
        self.country_code: int = metadata.country_code
        self.country_code_text = str(metadata.country_code)
        pattern = general_desc.national_number_pattern
        self.general = re.compile(pattern) if pattern else None
        idd = metadata.international_prefix
        self.idd = re.compile("NonMatch" if idd is None else idd)  # as the library does
        prefix = metadata.national_prefix_for_parsing
        self.national_prefix = re.compile(prefix) if prefix else None
        self.transform_rule = metadata.national_prefix_transform_rule
        self.lengths = general_desc.possible_length
        self.local_lengths = general_desc.possible_length_local_only
        if not self.lengths:
            raise _Unsupported
        self.tested_lengths = tuple(
            self._test_length(length) for length in range(_FAST_INPUT_MAX_LENGTH + 1)
        )

    def matches_general(self, digits: str) -> bool:
        """phonenumberutil._match_national_number(digits, general_desc, False)."""
        return self.general is not None and self.general.fullmatch(digits) is not None

    def test_length(self, digits: str) -> int:
        """phonenumberutil._test_number_length(digits, metadata), which depends
        on the number of digits only (precomputed for short inputs)."""
        length = len(digits)
        if length <= _FAST_INPUT_MAX_LENGTH:
            return self.tested_lengths[length]
        return self._test_length(length)

    def _test_length(self, length: int) -> int:
        """phonenumberutil._test_number_length for a number type of UNKNOWN,
        line by line."""
        if length in self.local_lengths:
            return _IS_POSSIBLE_LOCAL_ONLY
        lengths = self.lengths
        if lengths[0] == length:
            return _IS_POSSIBLE
        if lengths[0] > length:
            return _TOO_SHORT
        if lengths[-1] < length:
            return _TOO_LONG
        return _IS_POSSIBLE if length in lengths[1:] else _INVALID_LENGTH

    def strip_national_prefix(self, digits: str) -> str:
        """phonenumberutil._maybe_strip_national_prefix_carrier_code, number only.

        Transform rules (used by a few regions) are left to the library.
        """
        if not digits or self.national_prefix is None:
            return digits
        match = self.national_prefix.match(digits)
        if not match:
            return digits
        viable = self.matches_general(digits)
        groups = match.groups()
        if self.transform_rule and (not groups or groups[-1] is not None):
            raise _Unsupported
        stripped = digits[match.end() :]
        if viable and not self.matches_general(stripped):
            return digits
        return stripped


@lru_cache(maxsize=1024)
def _pieces(country_code: int, region: str) -> _Pieces | None:
    """Parsing data for ``metadata_for_region_or_calling_code(country_code, region)``."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return None
    try:
        return _Pieces(metadata)
    except _Unsupported:
        return None


class _RegionValidity:
    """``_number_type_helper(nsn, metadata) != UNKNOWN`` as two regex tests.

    The library tests the general description and then each number type in
    turn; a number is valid when the general description and at least one
    type match, where a description matches when the length is one of its
    possible lengths (if it lists any) and its pattern matches the whole
    number.  For each length the type patterns that allow it are joined into
    one alternation, which matches the whole number exactly when one of them
    does.
    """

    __slots__ = ("by_length",)

    def __init__(self, metadata: PhoneMetadata) -> None:
        self.by_length: dict[int, tuple[re.Pattern[str], re.Pattern[str]]] = {}
        general = metadata.general_desc
        if general is None or not general.national_number_pattern:
            return
        general_re = re.compile(general.national_number_pattern)
        names: tuple[str, ...] = _TYPE_DESCS
        if not metadata.same_mobile_and_fixed_line_pattern:
            names = (*names, "mobile")
        descs = [getattr(metadata, name) for name in names]
        patterns = [general.national_number_pattern] + [
            d.national_number_pattern for d in descs if d is not None and d.national_number_pattern
        ]
        if any(_UNSAFE_TO_JOIN.search(p) for p in patterns):
            raise _Unsupported
        for length in range(_MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN + 1):
            if general.possible_length and length not in general.possible_length:
                continue
            alternatives = [
                f"(?:{d.national_number_pattern})"
                for d in descs
                if d is not None
                and d.national_number_pattern
                and (not d.possible_length or length in d.possible_length)
            ]
            if alternatives:
                try:
                    joined = re.compile("|".join(alternatives))
                except re.error as exc:  # pragma: no cover - not with current metadata
                    raise _Unsupported from exc
                self.by_length[length] = (general_re, joined)

    def __call__(self, nsn: str) -> bool:
        entry = self.by_length.get(len(nsn))
        return (
            entry is not None
            and entry[0].fullmatch(nsn) is not None
            and entry[1].fullmatch(nsn) is not None
        )


def _never_valid(nsn: str) -> bool:
    return False


@lru_cache(maxsize=1024)
def _region_validity(country_code: int, region: str) -> Callable[[str], bool]:
    """``is_valid_number_for_region`` for numbers with ``country_code``."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    if metadata is None:
        return _never_valid
    if (
        region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
        and metadata.country_code != country_code
    ):
        return _never_valid
    return _RegionValidity(metadata)


@lru_cache(maxsize=1024)
def _validity(country_code: int) -> Callable[[str], bool] | None:
    """``is_valid_number`` for numbers with this country code, or ``None`` if
    the library's data cannot be handled by :class:`_RegionValidity`."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return _never_valid
    try:
        if len(regions) == 1:
            return _region_validity(country_code, regions[0])
        # region_code_for_number: the first region whose leading digits match
        # the number or, lacking leading digits, for which the number is valid;
        # then is_valid_number_for_region with that region.
        candidates: list[
            tuple[re.Pattern[str] | None, Callable[[str], bool], Callable[[str], bool]]
        ] = []
        for region in regions:
            metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
            if metadata is None:
                continue
            leading = metadata.leading_digits
            final = _region_validity(country_code, region)
            same_metadata = (
                PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
                is metadata
            )
            # With the same metadata the two tests are the same: run it once.
            helper = (
                final
                if same_metadata and isinstance(final, _RegionValidity)
                else _RegionValidity(metadata)
            )
            candidates.append((None if leading is None else re.compile(leading), helper, final))
    except _Unsupported:
        return None

    def valid(nsn: str) -> bool:
        for leading, helper, final in candidates:
            if leading is not None:
                if leading.match(nsn):
                    return final(nsn)
            elif helper(nsn):
                return final is helper or final(nsn)
        return False

    return valid


def _finish(country_code: int, national: str, pieces: _Pieces) -> str | None:
    """The end of ``parse`` (national prefix, length limits), then
    ``is_valid_number`` and E.164 formatting; ``None`` for an invalid number.

    The national significant number of the parsed number is ``national``
    itself, leading zeros included, so E.164 is ``+``, country code, digits."""
    if len(national) < _MIN_LENGTH_FOR_NSN:
        raise _Unsupported
    potential = pieces.strip_national_prefix(national)
    if pieces.test_length(potential) not in _KEEPS_PREFIX:
        national = potential
    if not _MIN_LENGTH_FOR_NSN <= len(national) <= _MAX_LENGTH_FOR_NSN:
        raise _Unsupported
    valid = _validity(country_code)
    if valid is None:
        raise _Unsupported
    return f"+{country_code}{national}" if valid(national) else None


def _fast_international(digits: str) -> str | None:
    """``parse`` of '+' followed by ``digits`` (country code first)."""
    if len(digits) <= _MIN_LENGTH_FOR_NSN or digits[0] == "0":
        raise _Unsupported
    for size in range(1, min(len(digits), _MAX_LENGTH_COUNTRY_CODE) + 1):
        country_code = int(digits[:size])
        regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
        if regions is not None:
            pieces = _pieces(country_code, regions[0]) if regions else None
            if pieces is None:
                raise _Unsupported
            return _finish(country_code, digits[size:], pieces)
    raise _Unsupported


def _fast_national(digits: str, region: str) -> str | None:
    """``parse`` of ``digits`` written without '+' for a supported ``region``."""
    pieces = _pieces(0, region)
    if pieces is None or len(digits) < 3 or pieces.idd.match(digits):
        raise _Unsupported
    if digits.startswith(pieces.country_code_text):
        # The number may repeat the region's country code without '+'.
        country_code = pieces.country_code
        potential = pieces.strip_national_prefix(digits[len(pieces.country_code_text) :])
        if (
            not pieces.matches_general(digits) and pieces.matches_general(potential)
        ) or pieces.test_length(digits) == _TOO_LONG:
            regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
            main_region = regions[0] if regions else "ZZ"
            if main_region != region:
                main = _pieces(country_code, main_region)
                if main is None:
                    raise _Unsupported
                pieces = main
            return _finish(country_code, potential, pieces)
    return _finish(pieces.country_code, digits, pieces)


def normalize_phone(value: str | None, region: str | None) -> str | None:
    """Normalise a phone number to E.164 exactly as :func:`reference_phone` does, but fast.

    Returns ``None`` for a missing or blank value and raises
    :class:`NormalizationError` for an invalid number.  Numbers written with
    digits and the usual separators are parsed and validated from
    precompiled library metadata; everything else goes through phonenumbers.
    See the module docstring for why the two agree.
    """
    stripped = _strip(value)
    if stripped is None:
        return None
    if (
        _PHONE_FAST
        and len(stripped) <= _FAST_INPUT_MAX_LENGTH
        and (region is None or region in SUPPORTED_REGIONS)
    ):
        shape = _PHONE_SHAPE.fullmatch(stripped)
        if shape is not None:
            digits = shape.group(2)
            if not digits.isdigit():
                digits = (
                    digits.replace(" ", "")
                    .replace("-", "")
                    .replace(".", "")
                    .replace("(", "")
                    .replace(")", "")
                )
            try:
                if shape.group(1):
                    result = _fast_international(digits)
                elif region is not None:
                    result = _fast_national(digits, region)
                else:
                    raise _Unsupported
            except _Unsupported:
                pass
            else:
                if result is None:
                    raise _invalid_phone(region)
                return result
    return _library_phone(stripped, region)
