"""Single customer view: ``crm.view(contact_id)`` against hand-written sqlite3 queries.

The database holds ``--rows`` contacts (default 200,000), one organization per ten
contacts, about 0.8 affiliations per contact and ten interactions per contact
(2,000,000 by default): one contact in a hundred has 150-450 interactions, the others
about seven, logged in time order across all contacts as a real CRM collects them. It is
built with ``executemany`` once (about a minute) and cached between runs, keyed by size.

crmkit side: ``crm.view(contact_id)`` on a CRM without plugins: the profile, the
organizations with roles, and the 50 latest interactions as ``Contact``,
``Organization`` and ``Interaction`` objects.

Baseline, on the standard library's ``sqlite3`` and the same file: three queries on one
connection with no explicit transaction: the contact by id; its affiliations joined to
organizations (ordered by when the link was made); the 50 newest interactions through
the ``(contact_id, occurred_at)`` index. Every fetched row becomes a dict whose
timestamps are parsed into timezone-aware datetimes, ``birth_date`` into a date, and
JSON columns (tags, custom, payload) into Python objects, which is what a caller needs.

Figures are given separately for typical contacts (fewer than 50 interactions) and for
contacts with hundreds, where only the newest 50 are read. Target: within 3x of the
baseline for both.

Run: ``python bench/bench_view.py [--rows N] [--repeat N] [--rebuild]``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import _benchkit as kit

import crmkit
from crmkit.entities.core import CHANNELS, DIRECTIONS
from crmkit.ids import new_id

TARGET = 3.0
BATCH = 50_000
LATEST = 50
KINDS = ("note", "call", "order", "ticket_reply", "meeting", "visit")
ROLES = ("CTO", "buyer", "CEO", "engineer", None)
START = dt.datetime(2023, 1, 1)
SPAN_S = 3 * 365 * 24 * 3600


def stamp(moment: dt.datetime) -> str:
    """A naive UTC time as SQLAlchemy stores it on SQLite."""
    return moment.isoformat(sep=" ", timespec="microseconds")


def _contact_rows(rows: int, rng: random.Random, ids: list[str]) -> Iterator[tuple[Any, ...]]:
    for i in range(rows):
        made = stamp(START + dt.timedelta(seconds=rng.randrange(SPAN_S // 3)))
        yield (
            ids[i], made, made, f"First{i % 311}", f"Last{i % 977}", f"person{i}@example.com",
            f"+3361{i:08d}", f"{i % 200} rue de la Paix", ("Paris", "Lyon", "Nantes")[i % 3],
            "750" + f"{i % 20:02d}", None, "FR", None, "Buyer",
            json.dumps(["bench", "vip"][: i % 3]), "import", f"owner{i % 7}",
            json.dumps({"tier": ("gold", "silver")[i % 2]}),
        )


def _organization_rows(count: int, ids: list[str]) -> Iterator[tuple[Any, ...]]:
    made = stamp(START)
    for i in range(count):
        yield (
            ids[i], made, made, f"Company {i}", f"company{i}.example", "software", 10 + i % 500,
            None, "Paris", None, None, "FR", None, json.dumps({}),
        )


def _affiliation_rows(
    contacts: list[str], orgs: list[str], rng: random.Random
) -> Iterator[tuple[Any, ...]]:
    for cid in contacts:
        links = rng.choices((0, 1, 2), weights=(35, 50, 15))[0]
        for _ in range(links):
            made = stamp(START + dt.timedelta(seconds=rng.randrange(SPAN_S)))
            yield (new_id(), made, made, cid, rng.choice(orgs), rng.choice(ROLES))


def _interaction_owners(contacts: list[str], heavy: list[str], rng: random.Random) -> list[str]:
    """Which contact each interaction belongs to, in the order they happened."""
    owners: list[str] = []
    for cid in heavy:
        owners.extend([cid] * rng.randrange(150, 451))
    rest = max(0, 10 * len(contacts) - len(owners))
    owners.extend(rng.choices(contacts, k=rest))
    rng.shuffle(owners)
    return owners


def _interaction_rows(owners: list[str], rng: random.Random) -> Iterator[tuple[Any, ...]]:
    step = SPAN_S / max(1, len(owners))
    for i, cid in enumerate(owners):
        when = stamp(START + dt.timedelta(seconds=i * step + rng.random()))
        payload = {"ref": f"R{i}", "amount": round(rng.random() * 500, 2)}
        if i % 5 == 0:
            payload["lines"] = [{"sku": f"S{i % 91}", "qty": 1 + i % 3}]
        yield (
            new_id(), when, when, cid, rng.choice(CHANNELS), rng.choice(DIRECTIONS),
            rng.choice(KINDS), when, f"Interaction {i} with the customer",
            json.dumps(payload), "crmkit",
        )


def _insert(conn: sqlite3.Connection, table: str, rows: Iterator[tuple[Any, ...]]) -> int:
    width = len(conn.execute(f"SELECT * FROM {table} LIMIT 0").description)
    sql = f"INSERT INTO {table} VALUES ({', '.join('?' * width)})"
    total = 0
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.executemany(sql, batch)
            total += len(batch)
            batch.clear()
    conn.executemany(sql, batch)
    return total + len(batch)


def build(path: Path, rows: int) -> None:
    """Schema through crmkit's migrations, then the data through ``executemany``."""
    crmkit.open(kit.sqlite_url(path), plugins=[]).close()
    rng = random.Random(kit.SEED)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1048576")
    # Secondary indexes are dropped during the load and rebuilt from their own DDL.
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
        "AND tbl_name IN ('contact', 'organization', 'affiliation', 'interaction')"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.execute("BEGIN")
    contacts = [new_id() for _ in range(rows)]
    orgs = [new_id() for _ in range(max(1, rows // 10))]
    _insert(conn, "contact", _contact_rows(rows, rng, contacts))
    _insert(conn, "organization", _organization_rows(len(orgs), orgs))
    _insert(conn, "affiliation", _affiliation_rows(contacts, orgs, rng))
    heavy = rng.sample(contacts, max(1, rows // 100))
    owners = _interaction_owners(contacts, heavy, rng)
    count = _insert(conn, "interaction", _interaction_rows(owners, rng))
    conn.execute("COMMIT")
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    print(f"  {rows:,} contacts, {len(orgs):,} organizations, {count:,} interactions")


# -- the hand-written baseline -------------------------------------------------

def _row_reader(
    cursor: sqlite3.Cursor, times: tuple[str, ...], dates: tuple[str, ...], docs: tuple[str, ...]
) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    timed = [c for c in times if c in names]
    dated = [c for c in dates if c in names]
    jsoned = [c for c in docs if c in names]
    utc = dt.UTC
    parse_time = dt.datetime.fromisoformat
    parse_date = dt.date.fromisoformat
    loads = json.loads

    def read(row: tuple[Any, ...]) -> dict[str, Any]:
        out = dict(zip(names, row, strict=True))
        for c in timed:
            if out[c] is not None:
                out[c] = parse_time(out[c]).replace(tzinfo=utc)
        for c in dated:
            if out[c] is not None:
                out[c] = parse_date(out[c])
        for c in jsoned:
            out[c] = loads(out[c])
        return out

    return read


TIMES = ("created_at", "updated_at", "occurred_at")
CONTACT_SQL = "SELECT * FROM contact WHERE id = ?"
ORGS_SQL = (
    "SELECT o.*, a.role AS role FROM affiliation a JOIN organization o "
    "ON o.id = a.organization_id WHERE a.contact_id = ? ORDER BY a.created_at"
)
TIMELINE_SQL = "SELECT * FROM interaction WHERE contact_id = ? ORDER BY occurred_at DESC LIMIT ?"


def plain_view_of(conn: sqlite3.Connection) -> Callable[[str], dict[str, Any]]:
    """The view as a user would write it with sqlite3 (readers built on first use)."""
    readers: dict[str, Callable[[tuple[Any, ...]], dict[str, Any]]] = {}

    def run(sql: str, params: tuple[Any, ...], docs: tuple[str, ...]) -> list[dict[str, Any]]:
        cursor = conn.execute(sql, params)
        read = readers.get(sql)
        if read is None:
            read = readers[sql] = _row_reader(cursor, TIMES, ("birth_date",), docs)
        return [read(r) for r in cursor.fetchall()]

    def view(contact_id: str) -> dict[str, Any]:
        contact = run(CONTACT_SQL, (contact_id,), ("tags", "custom"))[0]
        orgs = run(ORGS_SQL, (contact_id,), ("custom",))
        timeline = run(TIMELINE_SQL, (contact_id, LATEST), ("payload",))
        return {"contact": contact, "organizations": orgs, "interactions": timeline}

    return view


def main() -> int:
    args = kit.parse_args(__doc__, rows=200_000, repeat=3_000)
    path = kit.cached_database(
        args.cache, f"view-v1-{args.rows}.db", args.rebuild, lambda p: build(p, args.rows)
    )
    plain = sqlite3.connect(path, check_same_thread=False)
    plain.execute("PRAGMA cache_size=-65536")
    counts = plain.execute(
        "SELECT contact_id, count(*) FROM interaction GROUP BY contact_id"
    ).fetchall()
    rng = random.Random(kit.SEED + 2)
    typical = [c for c, n in counts if n < LATEST]
    heavy = [c for c, n in counts if n >= 150]
    typical_ids = rng.sample(typical, min(2_000, len(typical)))
    heavy_ids = rng.sample(heavy, min(500, len(heavy)))
    plain_view = plain_view_of(plain)

    with crmkit.open(kit.sqlite_url(path), plugins=[]) as crm:
        _check_same(crm.view(heavy_ids[0]), plain_view(heavy_ids[0]))
        _check_same(crm.view(typical_ids[0]), plain_view(typical_ids[0]))
        cases = {"hand-written sqlite3": plain_view, "crm.view(contact_id)": crm.view}
        results = {
            "typical contacts (< 50 interactions)": kit.interleave(
                cases, typical_ids, repeat=args.repeat, warmup=len(typical_ids)
            ),
            "busy contacts (150-450 interactions, newest 50)": kit.interleave(
                cases, heavy_ids, repeat=args.repeat, warmup=len(heavy_ids)
            ),
        }
    plain.close()
    print(kit.machine())
    print(f"{args.rows:,} contacts, {sum(n for _, n in counts):,} interactions in {path}")
    ok = True
    for title, samples in results.items():
        ok &= kit.report(
            f"single customer view, {title}", "hand-written sqlite3", samples, target=TARGET
        )
    return 0 if ok else 1


def _check_same(view: Any, plain: dict[str, Any]) -> None:
    """Both sides must return the same profile, organizations and interactions."""
    assert view.contact.id == plain["contact"]["id"]
    assert view.contact.created_at == plain["contact"]["created_at"]
    assert sorted(m.organization.id for m in view.organizations) == sorted(
        o["id"] for o in plain["organizations"]
    )
    got = [(i.occurred_at, i.payload) for i in view.interactions]
    want = [(i["occurred_at"], i["payload"]) for i in plain["interactions"]]
    assert got == want, "crm.view and the baseline disagree on the timeline"


if __name__ == "__main__":
    sys.exit(main())
