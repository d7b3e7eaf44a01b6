"""Contact lookup by email: ``crm.contacts.get(email)`` against a plain sqlite3 lookup.

Measures the median time of one ``crm.contacts.get(email)`` (and ``find``) for random
existing emails in a SQLite database of ``--rows`` contacts (default 200,000), against
``SELECT * FROM contact WHERE email = ?`` with the row fetched through the standard
library's ``sqlite3`` on the same file. The baseline returns the raw tuple; crmkit returns
a ``Contact`` with its timestamps and JSON fields turned into Python values.

Target: crmkit within 3x of plain sqlite3.

The database is generated once (seeded) and cached between runs, keyed by row count.
Run: ``python bench/bench_lookup.py [--rows N] [--repeat N] [--rebuild]``.
"""

from __future__ import annotations

import random
import sqlite3
import sys
from pathlib import Path

import _benchkit as kit

import crmkit
from crmkit.entities.core import Contact

TARGET = 3.0
BATCH = 20_000
FIRST = ("ada", "alan", "grace", "edsger", "barbara", "ken", "margaret", "linus", "guido", "radia")
LAST = ("lovelace", "turing", "hopper", "dijkstra", "liskov", "thompson", "hamilton", "perlman")
CITIES = ("Paris", "London", "Berlin", "Madrid", "Rome", "Oslo", "Vienna", "Lisbon")


def email_of(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]}.{LAST[i % len(LAST)]}.{i}@example{i % 97}.com"


def build(path: Path, rows: int) -> None:
    """``rows`` contacts added through the backend's bulk ``add_many``."""
    rng = random.Random(kit.SEED)
    with crmkit.open(kit.sqlite_url(path), plugins=[]) as crm:
        etype = crm.entity_type("contact")
        for start in range(0, rows, BATCH):
            batch = []
            for i in range(start, min(rows, start + BATCH)):
                contact = Contact(
                    first_name=FIRST[i % len(FIRST)].title(),
                    last_name=LAST[i % len(LAST)].title(),
                    email=email_of(i),
                    phone=f"+4420{rng.randrange(10**7, 10**8)}",
                    city=rng.choice(CITIES),
                    job_title="Engineer",
                    tags=["bench"],
                    custom={"tier": rng.choice(("gold", "silver"))},
                )
                batch.append(etype.to_row(contact))
            with crm.unit_of_work() as uow:
                uow.tx.add_many(etype, batch)


def main() -> int:
    args = kit.parse_args(__doc__, rows=200_000, repeat=20_000)
    path = kit.cached_database(
        args.cache, f"lookup-v1-{args.rows}.db", args.rebuild, lambda p: build(p, args.rows)
    )
    rng = random.Random(kit.SEED + 1)
    emails = [email_of(rng.randrange(args.rows)) for _ in range(5_000)]

    plain = sqlite3.connect(path, check_same_thread=False)
    plain.execute("PRAGMA cache_size=-65536")

    def plain_lookup(email: str) -> object:
        return plain.execute("SELECT * FROM contact WHERE email = ?", (email,)).fetchone()

    with crmkit.open(kit.sqlite_url(path), plugins=[]) as crm:
        contacts = crm.contacts
        assert contacts.get(emails[0]).email == emails[0]
        assert plain_lookup(emails[0]) is not None
        samples = kit.interleave(
            {
                "plain sqlite3 (SELECT + fetchone)": plain_lookup,
                "crm.contacts.get(email)": contacts.get,
                "crm.contacts.find(email)": contacts.find,
            },
            emails,
            repeat=args.repeat,
        )
    plain.close()
    print(kit.machine())
    print(f"{args.rows:,} contacts in {path}")
    ok = kit.report(
        "lookup of one contact by email",
        "plain sqlite3 (SELECT + fetchone)",
        samples,
        target=TARGET,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
