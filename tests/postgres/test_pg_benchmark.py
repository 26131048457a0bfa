"""The Postgres benchmark runs end to end (tiny sizes; the figures themselves are not
asserted: tests never judge wall-clock time)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pg import ADMIN_URL

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parents[2]


def test_pg_bets_benchmark_prints_its_figures() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.pg_bets", "--admin-url", ADMIN_URL, "--seconds", "1",
         "--users", "40", "--rooms", "4", "--settle-bets", "40", "--processes", "2"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert re.search(r"pgbench TPC-B-like \(baseline\) +\d+ tps", run.stdout)
    assert re.search(r"place_bet on PostgreSQL +\d+ bets/s", run.stdout)
    assert re.search(r"ratio bets/s : tps +\d+\.\d+", run.stdout)
    assert re.search(r"settle one room of 40 bets +\d+\.\d+ s", run.stdout)
