"""Benchmark: crmkit's contact import against plain bulk loads of the same CSV.

Generates a fixed-seed contacts CSV (200,000 rows by default): names (some
non-ASCII), realistic mixed-case emails on a few thousand domains, phone numbers
in national and international formats for several countries (the project's
default region is US; each row has its country), streets with commas, cities,
job titles, birth dates and ``;``-separated tags. Every row is valid, so every
import keeps them all. Then, in the same run and each in a child process of its
own, for ``--rounds`` rounds (medians are reported):

(a) plain sqlite3: the csv module and ``executemany`` into an equivalent table
    (same columns, the same indexes as migration crmkit_0001: primary key, unique
    email, phone, last_name, owner) in one transaction, with the same UUIDv7
    ids. Twice: with sqlite3's default PRAGMAs (the plain script the target is
    set against) and, for information, with the PRAGMAs every crmkit SQLite
    database uses (WAL, synchronous=NORMAL, a 64 MiB page cache);
(b) crmkit: ``crmkit.io.importer.import_contacts`` into a fresh SQLite database,
    with validation (types, email and phone normalisation, duplicates in the
    file) and one ``contact.imported`` event per batch;
(c) with ``--postgres URL`` or ``CRMKIT_TEST_POSTGRES_URL``: plain psycopg
    ``COPY`` of the same rows (csv module, ``copy.write_row``) into an
    equivalent table, and crmkit's import into a fresh schema.

Time is measured inside each child from opening the file to the commit (the
interpreter start, the DDL and the CRM's opening are not counted); CPU time is
shown too, as it is steadier on a shared machine. Printed: rows/s for each, the
ratios crmkit/plain (target >= 0.5) and the peak RSS of the crmkit import
processes (``ru_maxrss`` of each child from ``wait4``; target < 300 MB).

Run with ``python bench/bench_import.py [--rows N] [--rounds N] [--postgres URL]
[--profile]``; ``--profile`` prints a cProfile of crmkit's first SQLite import.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import phonenumbers

SEED = 20261123
DEFAULT_ROWS = 200_000
TARGET_RATIO = 0.5
TARGET_RSS_MB = 300
REGION = "US"
COLUMNS = [
    "first_name", "last_name", "email", "phone", "street", "city", "postal_code",
    "country", "job_title", "birth_date", "tags",
]

FIRST_NAMES = [
    "Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Margaret", "Linus", "Guido",
    "Katherine", "John", "Mary", "Sophie", "Li", "Amir", "Olga", "Jean", "Hannah", "Pedro",
    "Chloé", "Noah", "Emma", "Lucas", "Mia", "Oliver", "Zoë", "José", "Björn", "Łukasz",
    "François", "Ingrid", "Mateo", "Aisha", "Yuki", "Priya", "Søren", "Ana", "Tomás", "Fatima",
    "Hugo", "Elena", "Jakub", "Camille", "Ravi", "Nora", "Sean", "Giulia", "Marta", "Kenji",
]
LAST_NAMES = [
    "Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Torvalds",
    "van Rossum", "Johnson", "Smith", "Brown", "Martin", "Wang", "Khan", "Ivanova", "Dupont",
    "Schmidt", "García", "Lefèbvre", "Miller", "Rossi", "Okafor", "Nguyen", "Kowalski",
    "Müller", "O'Brien", "Jensen", "Silva", "Novák", "Andersson", "Bianchi", "Moreau",
    "Fischer", "Patel", "Tanaka", "Kim", "Popescu", "Horvath", "De Vries", "Murphy",
]
PROVIDERS = [
    "gmail.com", "outlook.com", "yahoo.com", "hotmail.co.uk", "web.de", "orange.fr",
    "gmx.net", "icloud.com", "libero.it", "proton.me",
]
WORDS = [
    "acme", "global", "north", "blue", "data", "green", "smart", "bright", "alpha", "nova",
    "river", "stone", "cloud", "metro", "urban", "prime", "vertex", "summit", "harbor", "pixel",
    "quantum", "solar", "lumen", "atlas", "orbit", "cedar", "maple", "falcon", "delta", "echo",
    "swift", "peak", "core", "logic", "craft", "forge", "spark", "wave", "field", "point",
]
TLDS = ["com", "com", "com", "net", "org", "io", "co.uk", "de", "fr", "es", "it", "nl"]
JOB_TITLES = [
    "CEO", "CTO", "Head of Sales", "VP, Marketing", "Account Manager", "Engineer",
    "Buyer", "Office Manager", "Consultant", "Director, Operations", "", "", "",
]
TAGS = ["customer", "prospect", "newsletter", "vip", "partner", "churn-risk", "event-2026"]
STREETS = ["Main St", "High Street", "Rue de la Paix", "Hauptstraße", "Calle Mayor", "Via Roma"]
# country: (weight, calling code, cities, national number templates)
COUNTRIES: dict[str, tuple[int, int, list[str], list[str]]] = {
    "US": (40, 1, ["New York", "San Francisco", "Chicago", "Austin", "Boston", "Seattle"],
           ["212#######", "415#######", "312#######", "512#######", "617#######", "206#######"]),
    "GB": (15, 44, ["London", "Manchester", "Leeds", "Bristol"],
           ["20########", "161#######", "113#######", "117#######", "7#########"]),
    "DE": (12, 49, ["Berlin", "München", "Hamburg", "Köln"],
           ["30########", "89########", "40########", "151########", "171#######"]),
    "FR": (12, 33, ["Paris", "Lyon", "Marseille", "Lille"],
           ["1########", "4########", "6########", "7########"]),
    "ES": (6, 34, ["Madrid", "Barcelona", "Sevilla"], ["91#######", "93#######", "6########"]),
    "IT": (5, 39, ["Roma", "Milano", "Torino"], ["06########", "02########", "3#########"]),
    "NL": (5, 31, ["Amsterdam", "Rotterdam", "Utrecht"], ["20#######", "10#######", "6########"]),
    "AU": (5, 61, ["Sydney", "Melbourne", "Brisbane"], ["2########", "3########", "4########"]),
}


# -- data ----------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded if c.isalnum())


def _domains(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(['', '-', ''])}"
        name += rng.choice(["", "", str(rng.randrange(100))])
        names.add(f"{name.strip('-')}.{rng.choice(TLDS)}")
    return sorted(names)


def _phone(rng: random.Random, country: str) -> str:
    _, code, _, templates = COUNTRIES[country]
    while True:
        nsn = "".join(str(rng.randrange(10)) if c == "#" else c for c in rng.choice(templates))
        if nsn[0] in "01" and code == 1:
            continue
        number = phonenumbers.parse(f"+{code}{nsn}", None)
        if phonenumbers.is_valid_number(number):
            break
    if country == REGION:
        area, rest = nsn[:3], nsn[3:]
        return rng.choice([
            f"({area}) {rest[:3]}-{rest[3:]}", f"{area}-{rest[:3]}-{rest[3:]}",
            f"{area}.{rest[:3]}.{rest[3:]}", f"1-{area}-{rest[:3]}-{rest[3:]}",
            f"+1 {area} {rest[:3]} {rest[3:]}", f"{area}{rest}",
        ])
    spaced = " ".join(nsn[i : i + 2] for i in range(0, len(nsn), 2))
    return rng.choice([f"+{code} {spaced}", f"+{code}{nsn}", f"+{code} {nsn[:3]} {nsn[3:]}",
                       f"+{code}-{nsn[:3]}-{nsn[3:]}"])


def generate_csv(path: Path, rows: int, seed: int = SEED) -> None:
    """Write ``rows`` valid contacts to ``path`` (deterministic for a seed)."""
    rng = random.Random(seed)
    domains = _domains(rng, 3000)
    countries = list(COUNTRIES)
    weights = [COUNTRIES[c][0] for c in countries]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(rows):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            country = rng.choices(countries, weights)[0]
            domain = rng.choice(PROVIDERS) if rng.random() < 0.4 else rng.choice(domains)
            local = rng.choice([
                f"{_ascii(first)}.{_ascii(last)}{i}", f"{_ascii(first)[0]}{_ascii(last)}{i}",
                f"{_ascii(first)}_{i}", f"{_ascii(last)}.{_ascii(first)}.{i}",
            ])
            style = rng.random()
            if style < 0.5:
                local = local.lower()
            elif style < 0.55:
                local, domain = local.upper(), domain.upper()
            elif style < 0.65:
                domain = domain.capitalize()
            email = f"{local}@{domain}" if rng.random() < 0.97 else ""
            phone = _phone(rng, country) if rng.random() < 0.9 else ""
            street = f"{rng.randrange(1, 300)} {rng.choice(STREETS)}"
            if rng.random() < 0.2:
                street += f", Apt {rng.randrange(1, 40)}"
            birth = ""
            if rng.random() < 0.3:
                birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000))
            tags = ";".join(rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2, 3])))
            writer.writerow([
                first, last, email, phone, street, rng.choice(COUNTRIES[country][2]),
                f"{rng.randrange(10000, 99999)}", country, rng.choice(JOB_TITLES),
                str(birth), tags,
            ])


# -- the plain baselines -------------------------------------------------------------------

SQLITE_DDL = """
CREATE TABLE contact (
    id VARCHAR(36) NOT NULL PRIMARY KEY, created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL, first_name TEXT, last_name TEXT, email TEXT, phone TEXT,
    street TEXT, city TEXT, postal_code TEXT, region TEXT, country TEXT, birth_date DATE,
    job_title TEXT, tags JSON NOT NULL, source TEXT, owner TEXT, custom JSON NOT NULL
);
CREATE INDEX ix_contact_last_name ON contact (last_name);
CREATE UNIQUE INDEX ix_contact_email ON contact (email);
CREATE INDEX ix_contact_phone ON contact (phone);
CREATE INDEX ix_contact_owner ON contact (owner);
"""
CRMKIT_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536")
PG_DDL = SQLITE_DDL.replace("DATETIME", "TIMESTAMP WITH TIME ZONE").replace("JSON", "JSONB")
INSERT_COLUMNS = (
    "id, created_at, updated_at, first_name, last_name, email, phone, street, city, "
    "postal_code, region, country, birth_date, job_title, tags, source, owner, custom"
)


def _plain_rows(path: Path, now: Any) -> Any:
    """The CSV's rows as tuples for the contact table, the way a hand-written loader would."""
    from crmkit.ids import new_id

    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for first, last, email, phone, street, city, postal, country, job, birth, tags in reader:
            yield (
                new_id(), now, now, first or None, last or None, email or None, phone or None,
                street or None, city or None, postal or None, None, country or None,
                birth or None, job or None, json.dumps([t for t in tags.split(";") if t]),
                None, None, "{}",
            )


def plain_sqlite(csv_path: Path, db_path: Path, tuned: bool) -> tuple[float, float]:
    """The plain load; ``tuned`` gives it the PRAGMAs crmkit's SQLite databases use."""
    import sqlite3

    conn = sqlite3.connect(db_path, isolation_level=None)
    for pragma in CRMKIT_PRAGMAS if tuned else ():
        conn.execute(f"PRAGMA {pragma}")
    conn.executescript(SQLITE_DDL)
    started, cpu = time.perf_counter(), time.process_time()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ")
    conn.execute("BEGIN")
    conn.executemany(
        f"INSERT INTO contact ({INSERT_COLUMNS}) VALUES ({', '.join('?' * 18)})",
        _plain_rows(csv_path, now),
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return elapsed


def plain_postgres(csv_path: Path, url: str) -> tuple[float, float]:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(PG_DDL)
        conn.commit()
        started, cpu = time.perf_counter(), time.process_time()
        now = dt.datetime.now(dt.UTC)
        with conn.cursor() as cur, cur.copy(
            f"COPY contact ({INSERT_COLUMNS}) FROM STDIN"
        ) as copy:
            for row in _plain_rows(csv_path, now):
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started, time.process_time() - cpu


# -- crmkit ------------------------------------------------------------------------------


def crmkit_import(csv_path: Path, url: str, profile: bool = False) -> tuple[float, float]:
    import crmkit
    from crmkit.io.importer import import_contacts

    with crmkit.open(url, plugins=[], default_region=REGION) as crm:
        started, cpu = time.perf_counter(), time.process_time()
        if profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
        report = import_contacts(crm, csv_path)
        elapsed = time.perf_counter() - started, time.process_time() - cpu
        if profile:
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        if report.imported != report.total:
            raise SystemExit(f"crmkit imported {report.imported} of {report.total} rows")
    return elapsed


# -- PostgreSQL schemas --------------------------------------------------------------------


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def _pg_admin(base: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql)


# -- child processes ----------------------------------------------------------------------


def child(kind: str, csv_path: Path, target: str, profile: bool) -> None:
    """Run one measurement; print its wall-clock and CPU seconds as JSON on stdout."""
    if kind in ("plain-sqlite", "tuned-sqlite"):
        seconds, cpu = plain_sqlite(csv_path, Path(target), tuned=kind == "tuned-sqlite")
    elif kind == "plain-postgres":
        seconds, cpu = plain_postgres(csv_path, target)
    else:
        seconds, cpu = crmkit_import(csv_path, target, profile)
    print(json.dumps({"seconds": seconds, "cpu": cpu}))


def run_child(
    kind: str, csv_path: Path, target: str, profile: bool = False
) -> tuple[float, float, int]:
    """Wall and CPU seconds measured by the child, and its peak RSS in bytes (from wait4)."""
    cmd = [sys.executable, __file__, "--child", kind, str(csv_path), target]
    if profile:
        cmd.append("--profile")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed with exit code {proc.returncode}")
    measured = json.loads(out)
    return float(measured["seconds"]), float(measured["cpu"]), usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--postgres", default=os.environ.get("CRMKIT_TEST_POSTGRES_URL"))
    parser.add_argument("--rounds", type=int, default=3, help="runs of each case (default 3)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "CSV", "TARGET"))
    args = parser.parse_args()
    if args.child:
        kind, csv_path, target = args.child
        child(kind, Path(csv_path), target, args.profile)
        return
    try:
        from _benchkit import machine

        print(machine())
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="crmkit-bench-import-") as tmp:
        work = Path(tmp)
        csv_path = work / "contacts.csv"
        started = time.perf_counter()
        generate_csv(csv_path, args.rows)
        size = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({size:.1f} MB) in "
              f"{time.perf_counter() - started:.1f} s; {args.rounds} rounds, medians shown")
        cases: dict[str, list[tuple[float, float, int]]] = {}

        def measure(name: str, kind: str, target: str, profile: bool = False) -> None:
            cases.setdefault(name, []).append(run_child(kind, csv_path, target, profile))
            print(f"  {name:<32} {cases[name][-1][0]:6.2f} s", flush=True)

        pg_schemas: list[str] = []
        try:
            for round_no in range(args.rounds):
                for old in work.glob("*.db*"):
                    old.unlink()
                measure("SQLite plain (sqlite3 defaults)", "plain-sqlite", str(work / "p.db"))
                measure("SQLite plain (crmkit PRAGMAs)", "tuned-sqlite", str(work / "t.db"))
                measure("SQLite crmkit", "crmkit", f"sqlite:///{work / 'crm.db'}",
                        args.profile and round_no == 0)
                if args.postgres:
                    urls = []
                    for side in ("plain", "crmkit"):
                        schema = f"bench_{side}_{uuid.uuid4().hex[:8]}"
                        _pg_admin(args.postgres, f'CREATE SCHEMA "{schema}"')
                        pg_schemas.append(schema)
                        urls.append(_pg_schema_url(args.postgres, schema))
                    measure("PostgreSQL plain COPY", "plain-postgres", urls[0])
                    measure("PostgreSQL crmkit", "crmkit", urls[1])
        finally:
            for schema in pg_schemas:
                _pg_admin(args.postgres, f'DROP SCHEMA "{schema}" CASCADE')
        if not args.postgres:
            print("PostgreSQL: skipped (give --postgres URL or set CRMKIT_TEST_POSTGRES_URL)")

    report(cases, args.rows)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def report(cases: dict[str, list[tuple[float, float, int]]], rows: int) -> None:
    wall = {name: _median([w for w, _, _ in runs]) for name, runs in cases.items()}
    cpu = {name: _median([c for _, c, _ in runs]) for name, runs in cases.items()}
    print(f"\nimport of {rows:,} contacts (median of {len(next(iter(cases.values())))} runs)")
    print(f"  {'case':<32} {'rows/s':>9} {'CPU rows/s':>11} {'peak RSS':>9}")
    for name, runs in cases.items():
        rss = max(r for _, _, r in runs) / 1e6
        print(f"  {name:<32} {rows / wall[name]:>9,.0f} {rows / cpu[name]:>11,.0f} {rss:>6.0f} MB")
    checks = [("SQLite", "SQLite crmkit", "SQLite plain (sqlite3 defaults)", True),
              ("SQLite", "SQLite crmkit", "SQLite plain (crmkit PRAGMAs)", False),
              ("PostgreSQL", "PostgreSQL crmkit", "PostgreSQL plain COPY", True)]
    ok = True
    print("\n  ratio crmkit/plain (rows/s; CPU rows/s in brackets), target >= "
          f"{TARGET_RATIO}")
    for db, ours, plain, counted in checks:
        if ours not in wall or plain not in wall:
            continue
        ratio = wall[plain] / wall[ours]
        if counted:
            ok = ok and ratio >= TARGET_RATIO
        note = "" if counted else "  (for information)"
        print(f"  {db:<11} vs {plain:<32} {ratio:5.2f}x  ({cpu[plain] / cpu[ours]:.2f}x){note}")
    peak = max(r for name, runs in cases.items() if "crmkit" in name for _, _, r in runs) / 1e6
    ok = ok and peak < TARGET_RSS_MB
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6
    print(f"  peak RSS of a crmkit import: {peak:.0f} MB (target < {TARGET_RSS_MB} MB; "
          f"largest child by RUSAGE_CHILDREN: {children:.0f} MB)")
    print(f"  targets: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
