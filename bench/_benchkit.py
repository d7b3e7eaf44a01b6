"""Small shared pieces of the benchmark scripts: arguments, timing, cached databases, reports.

Every benchmark measures crmkit and a plain baseline in the same run, interleaving the two in
rounds so that drift in the machine's speed hits both alike, and reports medians of
``time.perf_counter_ns`` samples.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SEED = 20260523


def parse_args(doc: str | None, *, rows: int, repeat: int) -> argparse.Namespace:
    """The common command line: ``--rows N``, ``--repeat N``, ``--rebuild``, ``--cache DIR``."""
    first_line = (doc or "").strip().splitlines()[0] if doc else None
    parser = argparse.ArgumentParser(description=first_line)
    parser.add_argument("--rows", type=int, default=rows, help=f"contacts (default {rows:,})")
    parser.add_argument(
        "--repeat", type=int, default=repeat, help=f"timed calls per side (default {repeat:,})"
    )
    _add_cache_options(parser)
    return parser.parse_args()


def parse_run_args(
    doc: str | None, *, size: str, default: int, runs: int = 9
) -> argparse.Namespace:
    """The command line of whole-query benchmarks: ``--<size> N``, ``--runs N``, cache options.

    ``size`` names what the database is filled with (``contacts``, ``deals``) and becomes
    both the option and the attribute holding its value.
    """
    first_line = (doc or "").strip().splitlines()[0] if doc else None
    parser = argparse.ArgumentParser(description=first_line)
    parser.add_argument(
        f"--{size}", type=int, default=default, help=f"{size} (default {default:,})"
    )
    parser.add_argument(
        "--runs", type=int, default=runs, help=f"timed runs per side (default {runs})"
    )
    _add_cache_options(parser)
    return parser.parse_args()


def _add_cache_options(parser: argparse.ArgumentParser) -> None:
    """``--rebuild`` and ``--cache DIR``: where generated databases are kept and reused."""
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(
            os.environ.get("CRMKIT_BENCH_CACHE", Path(tempfile.gettempdir()) / "crmkit-bench")
        ),
        help="where generated databases are kept between runs (env CRMKIT_BENCH_CACHE)",
    )


def cached_database(cache: Path, name: str, rebuild: bool, build: Callable[[Path], None]) -> Path:
    """The database file ``cache/name``, built by ``build(path)`` unless already there.

    A database is built under a temporary name and renamed when complete, so an
    interrupted build is never mistaken for a finished one.
    """
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / name
    if path.exists() and not rebuild:
        print(f"using cached database {path}")
        return path
    for old in cache.glob(f"{name}*"):
        old.unlink()
    partial = cache / f"{name}.building"
    for old in cache.glob(f"{name}.building*"):
        old.unlink()
    started = time.perf_counter()
    print(f"building {path} ...", flush=True)
    build(partial)
    for suffix in ("-wal", "-shm"):
        leftover = Path(f"{partial}{suffix}")
        if leftover.exists():
            leftover.unlink()
    shutil.move(partial, path)
    print(f"built in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def interleave(
    cases: dict[str, Callable[[Any], object]],
    inputs: Sequence[Any],
    *,
    repeat: int,
    warmup: int = 200,
) -> dict[str, list[int]]:
    """Time ``fn(x)`` per call for every case, the cases taking turns call by call.

    Each case is first warmed up on ``warmup`` inputs. Then for each of ``repeat``
    inputs (cycling through ``inputs``) every case runs once, in an order that
    rotates from one input to the next, so that neither side is favoured by
    going first or by changes in the machine's load. Returns per-call samples in ns.
    """
    names = list(cases)
    for fn in cases.values():
        for i in range(min(warmup, len(inputs))):
            fn(inputs[i])
    samples: dict[str, list[int]] = {name: [] for name in names}
    clock = time.perf_counter_ns
    count = len(names)
    for i in range(repeat):
        x = inputs[i % len(inputs)]
        for k in range(count):
            name = names[(i + k) % count]
            fn = cases[name]
            t0 = clock()
            fn(x)
            samples[name].append(clock() - t0)
    return samples


def time_runs(cases: dict[str, Callable[[], object]], runs: int) -> dict[str, list[int]]:
    """Samples (ns) of each whole run, the cases taking turns run by run after one warm-up."""
    calls = {name: _ignoring_input(fn) for name, fn in cases.items()}
    return interleave(calls, [None], repeat=runs, warmup=1)


def _ignoring_input(fn: Callable[[], object]) -> Callable[[Any], object]:
    return lambda _input: fn()


def median_us(samples: Sequence[int]) -> float:
    return statistics.median(samples) / 1000


def report(
    title: str,
    baseline: str,
    samples: dict[str, list[int]],
    *,
    target: float | None,
    informational: Sequence[str] = (),
    unit: str = "us",
    ns_per_unit: float = 1000.0,
) -> bool:
    """Print median, p10 and p90 per case and each case's ratio to ``baseline``.

    Samples are in ns and shown divided by ``ns_per_unit``. Returns whether every
    case, other than the baseline and the ``informational`` ones, is within
    ``target`` times the baseline's median (no target: always true).
    """
    base = statistics.median(samples[baseline])
    print(f"\n{title}")
    print(f"  {'case':<38} {'median ' + unit:>11} {'p10':>9} {'p90':>9} {'ratio':>7}")
    ok = True
    for name, values in samples.items():
        ordered = sorted(values)
        med = statistics.median(ordered)
        p10 = ordered[len(ordered) // 10]
        p90 = ordered[min(len(ordered) - 1, len(ordered) * 9 // 10)]
        ratio = med / base
        checked = name != baseline and name not in informational
        if checked and target is not None and ratio > target:
            ok = False
        note = "" if checked or name == baseline else "  (for information)"
        print(
            f"  {name:<38} {med / ns_per_unit:>11.1f} {p10 / ns_per_unit:>9.1f} "
            f"{p90 / ns_per_unit:>9.1f} {ratio:>6.2f}x{note}"
        )
    if target is not None:
        print(f"  target: within {target:g}x of {baseline}: {'met' if ok else 'MISSED'}")
    return ok


def machine() -> str:
    """One line naming the interpreter and the core count, printed with the figures."""
    return (
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"sqlite {__import__('sqlite3').sqlite_version}"
    )
