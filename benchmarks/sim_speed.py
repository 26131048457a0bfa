"""Simulated bets per wall-clock second on the stress scenario (1,000+ agents, ~2,000
rooms, ~200,000 bets in a simulated day), and per CPU second of the process (the run is
single-threaded, so that is its cost on one core, less disturbed by other load).

The baseline, measured in the same run, is the raw rate of ``place_bet`` through the
in-memory adapters (``benchmarks.core_bets``); the ratio says how much of the simulator's
time goes to everything around the bets (oracle polls, scheduling, agents, settlement).

    python -m benchmarks.sim_speed [--scenario stress] [--hours 24]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from benchmarks.core_bets import run as run_core
from rooms_sim.runner import run_simulation
from rooms_sim.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description="simulated bets per wall second")
    parser.add_argument("--scenario", default="stress")
    parser.add_argument("--hours", type=float, default=None)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    if args.hours:
        scenario = scenario.model_copy(update={"duration_hours": args.hours})
    baseline = asyncio.run(run_core(1000, 100, 100))["bets"]
    started, started_cpu = time.perf_counter(), time.process_time()
    metrics, _ = asyncio.run(run_simulation(scenario))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - started_cpu
    rate = metrics.bets_placed / elapsed
    agents = sum(metrics.agents_by_strategy.values())
    print(
        f"scenario {scenario.name}: {agents:,} agents, {metrics.rooms_created:,} rooms, "
        f"{metrics.bets_placed:,} bets in {elapsed:.1f} s wall, {cpu:.1f} s CPU"
    )
    print(f"simulated bets per wall second: {rate:,.0f} (target 20,000)")
    # The run is one thread: its process CPU time is what it cost one core, and other load
    # on the machine disturbs it less than the wall clock (though not at all is too much).
    print(f"simulated bets per CPU second of this process: {metrics.bets_placed / cpu:,.0f}")
    print(f"baseline place_bet alone: {baseline:,.0f} bets/s; ratio {rate / baseline:.2f}")
    print(f"invariants hold: {metrics.invariants_hold}")


if __name__ == "__main__":
    main()
