"""benchmarks/ws.py end to end, small: both runs deliver every update to every client."""

from __future__ import annotations

import pytest

from benchmarks import ws

pytestmark = pytest.mark.heavy


async def test_the_fan_out_benchmark_runs_and_checks_every_delivery(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await ws.main(clients=20, updates=5)
    out = capsys.readouterr().out
    assert "every client got every update in order: True" in out
    assert "ratio app / baseline:" in out
