"""The oracle latency benchmark runs end to end on the system clock (short poll; the
figures are printed, not judged: tests never assert wall-clock times)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

from rooms_adapters.system.clock import SystemClock

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parents[2]


async def test_the_system_clock_is_utc_and_sleeps() -> None:
    clock = SystemClock()
    before = clock.now()
    await clock.sleep(0.01)
    assert clock.now() > before
    assert before.tzinfo is UTC


def test_oracle_benchmark_prints_its_figures() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.oracle", "--trials", "1", "--poll", "0.3"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert re.search(r"poll interval \(baseline, measured\) +\d+\.\d+ s", run.stdout)
    assert re.search(r"worst / \(poll \+ 1 s\) +\d+\.\d+", run.stdout)
