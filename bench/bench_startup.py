"""CLI start-up: wall time of ``crmkit --help`` beside ``python -c pass``.

Runs the installed ``crmkit`` console script with ``--help`` as a subprocess ``--repeat``
times (default 10) and reports the median wall time next to the bare interpreter's
start-up (``python -c pass``) and ``python -c "import crmkit"``, measured in the same run.
Then, in a child process, it runs the same ``--help`` and lists which heavy modules ended
up imported: SQLAlchemy, Alembic, jsonschema and any installed plugin (entry-point group
``crmkit.plugins``) must not be, because ``--help`` needs none of them.

Target: ``crmkit --help`` under 0.3 s, and none of those modules imported.

Run: ``python bench/bench_startup.py [--repeat N]``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _benchkit as kit

TARGET_S = 0.3
HEAVY = ("sqlalchemy", "alembic", "jsonschema", "email_validator", "phonenumbers", "mako")
FORBIDDEN = ("sqlalchemy", "alembic", "jsonschema")

CHILD = """
import json, sys
from importlib.metadata import entry_points
from crmkit.cli import main
sys.argv = ["crmkit", "--help"]
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
found = entry_points(group="crmkit.plugins")
plugins = sorted({ep.value.split(":")[0].split(".")[0] for ep in found})
print(json.dumps({"modules": sorted(sys.modules), "plugins": plugins}))
"""


def find_console_script() -> list[str]:
    """The ``crmkit`` script next to this interpreter, else on PATH, else ``python -m``."""
    beside = Path(sys.executable).parent / "crmkit"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("crmkit")
    if found:
        return [found]
    return [sys.executable, "-m", "crmkit"]


def wall_times(cmd: list[str], repeat: int, env: dict[str, str]) -> list[int]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append(time.perf_counter_ns() - t0)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.decode()[-500:]}")
    return samples


def main() -> int:
    args = kit.parse_args(__doc__, rows=0, repeat=10)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    script = find_console_script()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import crmkit'": [sys.executable, "-c", "import crmkit"],
        "crmkit --help": [*script, "--help"],
    }
    for cmd in cases.values():  # warm the OS file cache
        wall_times(cmd, 1, env)
    samples: dict[str, list[int]] = {name: [] for name in cases}
    names = list(cases)
    for i in range(args.repeat):  # one run of each per round, the order rotating
        for k in range(len(names)):
            name = names[(i + k) % len(names)]
            samples[name].extend(wall_times(cases[name], 1, env))

    print(kit.machine())
    print(f"console script: {' '.join(script)}")
    kit.report(
        "start-up wall time (subprocess)",
        "python -c pass",
        samples,
        target=None,
        unit="ms",
        ns_per_unit=1e6,
    )
    help_s = statistics.median(samples["crmkit --help"]) / 1e9
    time_ok = help_s < TARGET_S
    print(f"  target: crmkit --help under {TARGET_S:g} s: {help_s:.3f} s, "
          f"{'met' if time_ok else 'MISSED'}")

    child = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
    )
    found = json.loads(child.stdout.strip().splitlines()[-1])
    modules = set(found["modules"])
    print("\nmodules imported by crmkit --help")
    for name in (*HEAVY, "pluggy", "click"):
        print(f"  {name:<16} {'imported' if name in modules else 'not imported'}")
    bad = [m for m in FORBIDDEN if m in modules]
    plugins = [p for p in found["plugins"] if p in modules]
    print(f"  installed plugins: {', '.join(found['plugins']) or 'none'}; "
          f"imported: {', '.join(plugins) or 'none'}")
    imports_ok = not bad and not plugins
    print(f"  target: no SQLAlchemy, Alembic, jsonschema or plugin imported: "
          f"{'met' if imports_ok else 'MISSED (' + ', '.join(bad + plugins) + ')'}")
    return 0 if time_ok and imports_ok else 1


if __name__ == "__main__":
    sys.exit(main())
