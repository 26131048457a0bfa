"""Latency of instant settlement: from a price crossing a room's target to the room being
SETTLED with its notifications queued, on the wall clock, through the engine's monitor loop.

The baseline is the engine's own poll interval, measured in the same run as the time
between two consecutive polls; the target is latency under one poll interval + 1 s. Each
trial crosses the target at a random moment of the poll cycle.

    python -m benchmarks.oracle [--trials 5] [--poll 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import anyio
from dependency_injector import providers

from rooms_adapters.memory.container import InMemoryContainer
from rooms_adapters.memory.prices import InMemoryPriceSource
from rooms_adapters.system.clock import SystemClock
from rooms_core.models import Asset, AssetKind, Comparator, Side
from rooms_core.money import sol
from rooms_core.room import RoomState
from rooms_core.services import bets, rooms, users, wallet
from rooms_core.services.workers import EngineCounts, EngineSettings, run_engine

SOL = Asset(kind=AssetKind.COIN, id="SOL")


async def trial(poll: float, rng: random.Random) -> tuple[float, float]:
    """One crossing: (latency in s, measured time between polls in s)."""
    clock = SystemClock()
    container = InMemoryContainer(start=clock.now())
    container.clock.override(providers.Object(clock))
    feeds = [InMemoryPriceSource(f"f{i}", clock, supported=[SOL]) for i in range(3)]
    for feed in feeds:
        feed.set_price(SOL, "150")
    container.price_sources.override(feeds)
    deps = container.deps()
    ids = []
    for i in range(3):
        user = (
            await users.register_user(deps, telegram_id=i + 1, deposit_address=f"a{i}")
        ).unwrap()
        await wallet.credit_deposit(
            deps, address=f"a{i}", signature=f"s{i}", instruction_index=0, amount=sol(10)
        )
        ids.append(user.id)
    spec = rooms.RoomSpec(
        title="Will SOL reach 200?",
        asset_kind=AssetKind.COIN,
        asset_id="SOL",
        comparator=Comparator.GTE,
        target=Decimal(200),
        settle_at=clock.now() + timedelta(hours=1),
    )
    room = (await rooms.create_room(deps, host_id=ids[0], spec=spec)).unwrap()
    for n, (user_id, side) in enumerate(((ids[1], Side.YES), (ids[2], Side.NO))):
        await bets.place_bet(
            deps, user_id=user_id, room_id=room.id, side=side, stake=sol(1), idempotency_key=str(n)
        )
    oracle = deps.oracle
    polled: list[float] = []

    async def observe_many(assets: Sequence[Asset]) -> Mapping[Asset, Any]:
        polled.append(time.perf_counter())
        return await oracle.observe_many(assets)

    timed = replace(deps, oracle=_Timed(oracle, observe_many))
    counts = EngineCounts()
    stop = anyio.Event()
    settings = EngineSettings(poll_seconds=poll)
    async with anyio.create_task_group() as group:
        group.start_soon(run_engine, timed, None, stop, settings, counts)
        await anyio.sleep(poll + rng.uniform(0, poll))  # cross at a random point of the cycle
        for feed in feeds:
            feed.set_price(SOL, "201")
        crossed = time.perf_counter()
        while True:
            async with deps.uow() as uow:
                stored = await uow.rooms.get(room.id)
                pending = await uow.outbox.pending_count()
            if stored is not None and stored.state is RoomState.SETTLED and pending:
                break
            if time.perf_counter() - crossed > 5 * poll:
                raise SystemExit("the room was not settled in five poll intervals")
            await anyio.sleep(0.005)
        latency = time.perf_counter() - crossed
        stop.set()
    gaps = [b - a for a, b in pairwise(polled)]
    return latency, statistics.median(gaps)


class _Timed:
    """The oracle, with its polls timed."""

    def __init__(self, oracle: Any, observe_many: Any) -> None:
        self._oracle = oracle
        self.observe_many = observe_many

    def __getattr__(self, name: str) -> Any:
        return getattr(self._oracle, name)


async def run(trials: int, poll: float) -> None:
    rng = random.Random(1)
    results = [await trial(poll, rng) for _ in range(trials)]
    latencies = [r[0] for r in results]
    gap = statistics.mean(r[1] for r in results)
    target = poll + 1.0
    print(f"poll interval (baseline, measured)  {gap:8.3f} s   (configured {poll} s)")
    print(f"crossing -> SETTLED, mean           {statistics.mean(latencies):8.3f} s")
    print(f"crossing -> SETTLED, worst          {max(latencies):8.3f} s")
    print(f"worst / (poll + 1 s)                {max(latencies) / target:8.2f}   (target < 1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--poll", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(run(args.trials, args.poll))


if __name__ == "__main__":
    main()
