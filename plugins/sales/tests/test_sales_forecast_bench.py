"""The forecast benchmark runs on a small database and agrees with its baselines.

Only that it runs, checks its figures and prints the ratios is tested here; how
fast each side is belongs to the benchmark's own output, not to a test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "bench" / "sales_forecast.py"


def test_benchmark_checks_the_figures_and_prints_the_ratios(tmp_path: Path) -> None:
    if not SCRIPT.exists():
        pytest.skip("bench/sales_forecast.py is in the crmkit repository, not in this package")
    args = ["--deals", "2000", "--runs", "3", "--cache", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout
    # 0: target met, 1: missed (timings on a busy machine); 2 would mean the figures differ.
    assert done.returncode in (0, 1), out + done.stderr
    assert "2,000 deals in" in out
    assert "figures equal on every side" in out
    assert "forecast: median of 3 runs" in out
    assert "board: median of 3 runs" in out
    ratios = re.findall(
        r"ratio crmkit/hand-SQL: [0-9.]+x; ratio Python-objects/crmkit: [0-9.]+x", out
    )
    assert len(ratios) == 2, out
    assert len(list(tmp_path.glob("sales-forecast-v1-2000.db"))) == 1
