"""Simulated bets per wall-clock second on the stress scenario (1,000+ agents, ~2,000
rooms, ~200,000 bets in a simulated day).

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
    started = time.perf_counter()
    metrics, _ = asyncio.run(run_simulation(scenario))
    elapsed = time.perf_counter() - started
    rate = metrics.bets_placed / elapsed
    agents = sum(metrics.agents_by_strategy.values())
    print(
        f"scenario {scenario.name}: {agents:,} agents, {metrics.rooms_created:,} rooms, "
        f"{metrics.bets_placed:,} bets in {elapsed:.1f} s wall"
    )
    print(f"simulated bets per wall second: {rate:,.0f} (target 20,000)")
    print(f"baseline place_bet alone: {baseline:,.0f} bets/s; ratio {rate / baseline:.2f}")
    print(f"invariants hold: {metrics.invariants_hold}")


if __name__ == "__main__":
    main()
