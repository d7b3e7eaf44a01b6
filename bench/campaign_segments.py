"""Campaign segments: crmkit-campaign's compiled rules against hand-written sqlite3 SQL.

The SQLite database holds ``--contacts`` contacts (default 200,000) in twenty cities
(a few large, many small; some with no city), tagged ``newsletter`` (about 45%),
``vip``, ``b2b`` or ``churned``, with a custom ``tier`` (gold, silver, bronze or none),
and about five interactions each (about 1,000,000 for the default size), purchases
and inquiries on the web, by email or phone, spread over the two years before the
reference day. Rows are bulk-inserted through the storage port (``uow.tx.add_many``)
in batches. The database is built once (seeded) and cached between runs, keyed by size.

The segment is a realistic marketing one::

    city in (Paris, Lyon, Marseille) AND tags has "newsletter"
    AND a purchase within the last 90 days AND NOT custom.tier = "bronze"

Two things are timed, the sides taking turns run by run (median of ``--runs`` runs
after a warm-up):

``count``
    crmkit: ``Segments(crm).preview(name, sample=0)``: the rules compiled to one
    filter and counted in one SQL statement. Baseline: the same question as one
    hand-written ``SELECT COUNT(*)`` with ``json_each``, ``json_extract`` and an
    ``EXISTS`` over the interactions.
``ids``
    crmkit: every member id through ``Segments(crm).iter_member_ids`` (pages of
    1,000 ids in id order, each page one SQL query). Baseline: one hand-written
    ``SELECT id ... ORDER BY id`` fetching them all.

Before timing, the script checks that both sides find the same ids and the same
count and stops with exit code 2 if they do not.

Target: crmkit within 2x of the hand-written SQL. Exit code 0 when met, 1 when missed.
Run: ``python bench/campaign_segments.py [--contacts N] [--runs N] [--rebuild] [--cache DIR]``.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import statistics
import sys
from pathlib import Path
from typing import Any

import _benchkit as kit

import crmkit

TARGET = 2.0
BATCH = 20_000
TODAY = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
SEGMENT = "paris-lyon-marseille buyers"
WANTED_CITIES = ("Paris", "Lyon", "Marseille")
CITIES = (
    *WANTED_CITIES, "Toulouse", "Nice", "Nantes", "Strasbourg", "Montpellier", "Bordeaux",
    "Lille", "Rennes", "Reims", "Toulon", "Grenoble", "Dijon", "Angers", "Nimes", "Brest",
    "Tours", "Amiens",
)
CITY_WEIGHTS = (14, 8, 8, *([4] * 17))
TIERS = ("gold", "silver", "bronze", None)
TIER_WEIGHTS = (10, 25, 40, 25)
TOUCH_WEIGHTS = (8, 8, 9, 10, 11, 11, 11, 10, 9, 7, 6)  # interactions per contact: 0-10
CUSTOM_FIELDS = {"contact": {"properties": {"tier": {"type": "string"}}}}
RULES: dict[str, Any] = {
    "all": [
        {"field": "city", "op": "in", "value": list(WANTED_CITIES)},
        {"field": "tags", "op": "has", "value": "newsletter"},
        {"interaction": {"kind": "purchase", "within_days": 90}},
        {"not": {"field": "custom.tier", "op": "eq", "value": "bronze"}},
    ]
}
SEGMENT_SQL = """
FROM contact AS c
WHERE c.city IN (?, ?, ?)
  AND EXISTS (SELECT 1 FROM json_each(c.tags) AS t WHERE t.value = 'newsletter')
  AND EXISTS (
      SELECT 1 FROM interaction AS i
      WHERE i.contact_id = c.id AND i.kind = 'purchase' AND i.occurred_at >= ?
  )
  AND json_extract(c.custom, '$.tier') IS NOT 'bronze'
"""
COUNT_SQL = f"SELECT COUNT(*) {SEGMENT_SQL}"
IDS_SQL = f"SELECT c.id {SEGMENT_SQL} ORDER BY c.id"


def open_crm(path: Path) -> Any:
    return crmkit.open(
        kit.sqlite_url(path), plugins=["campaign"], strict=True, custom_fields=CUSTOM_FIELDS
    )


# -- the data -------------------------------------------------------------------------


def _tags(rng: random.Random) -> list[str]:
    tags = []
    if rng.random() < 0.45:
        tags.append("newsletter")
    if rng.random() < 0.05:
        tags.append("vip")
    if rng.random() < 0.10:
        tags.append("b2b")
    if rng.random() < 0.08:
        tags.append("churned")
    return tags


def build(path: Path, count: int) -> None:
    """``count`` contacts and about five interactions each, bulk-inserted through the port."""
    from crmkit.entities.core import Contact, Interaction

    rng = random.Random(kit.SEED)
    span = 730 * 24 * 3600  # two years, in seconds
    with open_crm(path) as crm:
        contact_type = crm.entity_type("contact")
        interaction_type = crm.entity_type("interaction")
        for start in range(0, count, BATCH):
            contacts: list[dict[str, Any]] = []
            timeline: list[dict[str, Any]] = []
            for n in range(start, min(start + BATCH, count)):
                tier = rng.choices(TIERS, weights=TIER_WEIGHTS)[0]
                contact = Contact(
                    first_name=f"First{n}",
                    last_name=f"Last{n % 5000}",
                    email=f"person{n}@example.com",
                    city=rng.choices(CITIES, weights=CITY_WEIGHTS)[0]
                    if rng.random() > 0.03
                    else None,
                    tags=_tags(rng),
                    custom={"tier": tier} if tier is not None else {},
                    created_at=TODAY - dt.timedelta(days=800),
                    updated_at=TODAY - dt.timedelta(days=800),
                )
                contacts.append(contact_type.to_row(contact))
                for _ in range(rng.choices(range(11), weights=TOUCH_WEIGHTS)[0]):
                    interaction = Interaction(
                        contact_id=contact.id,
                        channel=rng.choice(("web", "email", "phone")),
                        kind="purchase" if rng.random() < 0.4 else "inquiry",
                        occurred_at=TODAY - dt.timedelta(seconds=rng.randrange(span)),
                        created_at=TODAY,
                        updated_at=TODAY,
                    )
                    timeline.append(interaction_type.to_row(interaction))
            with crm.unit_of_work() as uow:
                uow.tx.add_many(contact_type, contacts)
                uow.tx.add_many(interaction_type, timeline)


# -- the two sides --------------------------------------------------------------------


def _cutoff() -> str:
    """90 days before the reference day, as SQLite holds crmkit's UTC timestamps."""
    return (TODAY - dt.timedelta(days=90)).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def sql_count(connection: sqlite3.Connection) -> int:
    row = connection.execute(COUNT_SQL, (*WANTED_CITIES, _cutoff())).fetchone()
    return int(row[0])


def sql_ids(connection: sqlite3.Connection) -> list[str]:
    return [r[0] for r in connection.execute(IDS_SQL, (*WANTED_CITIES, _cutoff()))]


def crmkit_count(segments: Any) -> int:
    return int(segments.preview(SEGMENT, sample=0, now=TODAY).count)


def crmkit_ids(crm: Any, segments: Any, segment: Any) -> list[str]:
    ids: list[str] = []
    with crm.backend.read() as reader:
        for page in segments.iter_member_ids(reader, segment, now=TODAY):
            ids.extend(page)
    return ids


def main() -> int:
    args = kit.parse_run_args(__doc__, size="contacts", default=200_000)
    path = kit.cached_database(
        args.cache, f"campaign-segments-v1-{args.contacts}.db", args.rebuild,
        lambda p: build(p, args.contacts),
    )
    from crmkit_campaign.segments import Segments

    plain = sqlite3.connect(path, check_same_thread=False)
    plain.execute("PRAGMA cache_size=-65536")
    with open_crm(path) as crm:
        segments = Segments(crm)
        names = {s.name for s in segments.list()}
        segment = (
            segments.get(SEGMENT) if SEGMENT in names else segments.create(SEGMENT, RULES)
        )
        found_ids, expected_ids = crmkit_ids(crm, segments, segment), sql_ids(plain)
        found_count, expected_count = crmkit_count(segments), sql_count(plain)
        if found_ids != expected_ids or found_count != expected_count:
            print(
                f"MISMATCH: crmkit found {len(found_ids)} ids (count {found_count}), "
                f"hand-written SQL {len(expected_ids)} (count {expected_count}); "
                f"{len(set(found_ids) ^ set(expected_ids))} ids differ; nothing timed"
            )
            plain.close()
            return 2
        samples = {
            "count": kit.time_runs(
                {
                    "hand-written sqlite3": lambda: sql_count(plain),
                    "crmkit Segments.preview(sample=0)": lambda: crmkit_count(segments),
                },
                args.runs,
            ),
            "ids": kit.time_runs(
                {
                    "hand-written sqlite3": lambda: sql_ids(plain),
                    "crmkit Segments.iter_member_ids": lambda: crmkit_ids(
                        crm, segments, segment
                    ),
                },
                args.runs,
            ),
        }
    plain.close()
    print(kit.machine())
    print(f"{args.contacts:,} contacts in {path}; segment {SEGMENT!r} holds "
          f"{expected_count:,} contacts, ids equal on both sides")
    ok = True
    for name, cases in samples.items():
        crmkit_case = next(k for k in cases if k.startswith("crmkit"))
        ok &= kit.report(
            f"{name}: median of {args.runs} runs",
            "hand-written sqlite3",
            cases,
            target=TARGET,
            unit="ms",
            ns_per_unit=1e6,
        )
        ratio = statistics.median(cases[crmkit_case]) / statistics.median(
            cases["hand-written sqlite3"]
        )
        print(f"  ratio crmkit/hand-SQL: {ratio:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
