"""Micro-benchmark: exact fast normalisation vs the plain library calls.

Generates a fixed-seed set of realistic contact values (50,000 emails and
50,000 phone numbers by default) in the formats people actually type, e.g.
``ada.lovelace@example.com``, ``Ada.Lovelace@Example.COM``,
``+44 20 7946 0958``, ``(415) 555-0123`` (region US), ``020 7946 0958``
(region GB), with a small share of unusual (Unicode, extensions, vanity
letters) and invalid values.  It then times, in the same run:

* ``crmkit.normalize.reference_email`` / ``reference_phone`` - the plain
  email-validator / phonenumbers calls that define the semantics;
* ``crmkit.normalize.normalize_email`` / ``normalize_phone`` - the fast paths.

Each function is run over the whole data set several times with
``time.perf_counter``; the report gives the first (cold cache) pass and the
median of the remaining passes in microseconds per value, the speed-up, and
the number of values on which the two functions disagree (must be 0).

Run with ``python bench/bench_normalize.py [--count N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence

from crmkit.normalize import (
    NormalizationError,
    normalize_email,
    normalize_phone,
    reference_email,
    reference_phone,
)

SEED = 20240611

FIRST_NAMES = [
    "ada", "alan", "grace", "edsger", "barbara", "donald", "margaret", "linus", "guido",
    "katherine", "john", "mary", "sophie", "li", "amir", "olga", "jean", "hannah", "pedro",
    "chloe", "noah", "emma", "lucas", "mia", "oliver", "zoe",
]
LAST_NAMES = [
    "lovelace", "turing", "hopper", "dijkstra", "liskov", "knuth", "hamilton", "torvalds",
    "rossum", "johnson", "smith", "brown", "martin", "wang", "khan", "ivanova", "dupont",
    "schmidt", "garcia", "lefebvre", "miller", "rossi", "okafor", "nguyen", "kowalski",
]
DOMAINS = [
    "example.com", "example.org", "gmail.com", "outlook.com", "yahoo.co.uk", "acme-corp.com",
    "mail.example.net", "uni-heidelberg.de", "orange.fr", "libero.it", "company.io",
    "sub.division.bigcorp.com", "startup.ai", "posteo.de", "example.co.in",
]


def make_emails(rng: random.Random, count: int) -> list[str]:
    """Realistic email inputs: mostly plain, some mixed case or padded, a few odd or bad."""
    emails = []
    for _ in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        domain = rng.choice(DOMAINS)
        roll = rng.random()
        if roll < 0.40:
            email = f"{first}.{last}@{domain}"
        elif roll < 0.55:
            email = f"{first.title()}.{last.title()}@{domain.title()}"
        elif roll < 0.65:
            email = f"{first[0]}{last}{rng.randrange(100)}@{domain}"
        elif roll < 0.75:
            email = f"{first}+{rng.choice(['news', 'crm', 'shop'])}@{domain}"
        elif roll < 0.83:
            email = f"{first}_{last}@{domain.upper()}"
        elif roll < 0.90:
            email = f"  {first}.{last}@{domain} "
        elif roll < 0.93:
            email = rng.choice(["info", "Sales", "SUPPORT"]) + "@" + domain
        elif roll < 0.96:
            email = f"{first}.{last}@{rng.randrange(10**6)}.{domain}"  # many distinct domains
        elif roll < 0.98:
            email = rng.choice(["josé", "zoë", "søren", "jürgen"]) + f".{last}@{domain}"
        else:
            email = rng.choice(
                [f"{first}.{last}@example", f"{first}..{last}@{domain}", f"{first}@{domain}.",
                 f"{first} {last}@{domain}", f"{first}@localhost", f"{first}@{last}.invalid"]
            )
        emails.append(email)
    return emails


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def make_phones(rng: random.Random, count: int) -> list[tuple[str, str | None]]:
    """Realistic (value, default region) pairs across GB, US, DE, FR, IT and IN."""
    phones: list[tuple[str, str | None]] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.14:
            local = _digits(rng, 4)
            phones.append((f"+44 20 7946 {local}", rng.choice(["GB", "US", None])))
        elif roll < 0.26:
            phones.append((f"020 7946 {_digits(rng, 4)}", "GB"))
        elif roll < 0.34:
            phones.append((f"07{rng.choice(['400', '780', '957', '812'])} {_digits(rng, 6)}",
                           "GB"))
        elif roll < 0.48:
            area = rng.choice(["212", "415", "617", "312", "646", "303"])
            exchange = rng.choice("23456789") + rng.choice("023456789") + rng.choice("0123456789")
            phones.append((f"({area}) {exchange}-{_digits(rng, 4)}", "US"))
        elif roll < 0.56:
            phones.append((f"+1 415 555 {_digits(rng, 4)}", "US"))
        elif roll < 0.60:
            phones.append((f"1-415-555-{_digits(rng, 4)}", "US"))
        elif roll < 0.64:
            phones.append((f"415.555.{_digits(rng, 4)}", "US"))
        elif roll < 0.72:
            phones.append((f"+4420794{_digits(rng, 5)}", None))  # canonical E.164
        elif roll < 0.78:
            phones.append((f"030 {_digits(rng, 7)}", "DE"))
        elif roll < 0.84:
            phones.append((f"06 {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)} "
                           f"{_digits(rng, 2)}", "FR"))
        elif roll < 0.89:
            phones.append((f"06 {_digits(rng, 4)} {_digits(rng, 4)}", "IT"))
        elif roll < 0.94:
            phones.append((f"9{_digits(rng, 4)} {_digits(rng, 5)}", "IN"))
        elif roll < 0.96:
            phones.append((f"+44 20 7946 {_digits(rng, 4)} ext. {_digits(rng, 3)}", "GB"))
        elif roll < 0.97:
            phones.append(("1-800-FLOWERS", "US"))
        else:
            phones.append((rng.choice(["12345", "020 7946 095", "+999 123", "n/a", "0"]), "GB"))
    return phones


def _safe(func: Callable[..., str | None], *args: str | None) -> str | None:
    try:
        return func(*args)
    except NormalizationError as exc:
        return f"!{exc}"


def time_passes(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Seconds for the first pass and the median of the following passes."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:])


def bench_emails(emails: Sequence[str], repeats: int) -> None:
    def run_with(func: Callable[[str | None], str | None]) -> Callable[[], object]:
        return lambda: [_safe(func, email) for email in emails]

    reference_first, reference = time_passes(run_with(reference_email), repeats)
    fast_first, fast = time_passes(run_with(normalize_email), repeats)
    mismatches = sum(
        _safe(normalize_email, email) != _safe(reference_email, email) for email in emails
    )
    invalid = sum(str(_safe(reference_email, email)).startswith("!") for email in emails)
    _report("email", len(emails), invalid, reference_first, reference, fast_first, fast,
            mismatches)


def bench_phones(phones: Sequence[tuple[str, str | None]], repeats: int) -> None:
    def run_with(func: Callable[[str | None, str | None], str | None]) -> Callable[[], object]:
        return lambda: [_safe(func, value, region) for value, region in phones]

    reference_first, reference = time_passes(run_with(reference_phone), repeats)
    fast_first, fast = time_passes(run_with(normalize_phone), repeats)
    mismatches = sum(
        _safe(normalize_phone, value, region) != _safe(reference_phone, value, region)
        for value, region in phones
    )
    invalid = sum(
        str(_safe(reference_phone, value, region)).startswith("!") for value, region in phones
    )
    _report("phone", len(phones), invalid, reference_first, reference, fast_first, fast,
            mismatches)


def _report(
    kind: str,
    count: int,
    invalid: int,
    reference_first: float,
    reference: float,
    fast_first: float,
    fast: float,
    mismatches: int,
) -> None:
    def per_value(seconds: float) -> float:
        return seconds / count * 1e6

    print(f"{kind}: {count} values ({invalid} invalid)")
    print(f"  reference  first pass {per_value(reference_first):7.2f} us/value, "
          f"median {per_value(reference):7.2f} us/value")
    print(f"  fast       first pass {per_value(fast_first):7.2f} us/value, "
          f"median {per_value(fast):7.2f} us/value")
    print(f"  speed-up   {reference / fast:6.1f}x (median), "
          f"{reference_first / fast_first:6.1f}x (first pass)")
    print(f"  mismatches {mismatches}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=50_000, help="values of each kind")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes after the first")
    args = parser.parse_args()
    rng = random.Random(SEED)
    emails = make_emails(rng, args.count)
    phones = make_phones(rng, args.count)
    bench_emails(emails, args.repeats)
    bench_phones(phones, args.repeats)


if __name__ == "__main__":
    main()
