"""Place and settle bets through the core services over the in-memory adapters.

Prints bets/s and settlements/s, and, as the baseline measured in the same run, the rate of
the barest unit of work that posts one ledger transfer: the ratio says how much the rules of
a bet (validation, idempotency, pools, outbox, audit) cost on top of the storage itself.

    python -m benchmarks.core_bets [--users 1000] [--rooms 200] [--bets-per-room 100]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from returns.result import Success

from rooms_adapters.memory.container import InMemoryContainer
from rooms_adapters.memory.prices import InMemoryPriceSource
from rooms_core.ledger import EntryKind, JournalEntry, user_account
from rooms_core.models import Asset, AssetKind, Comparator, Observation, Side
from rooms_core.money import sol
from rooms_core.services import bets, rooms, users, wallet
from rooms_core.services.settlement import settle_room

SOL = Asset(kind=AssetKind.COIN, id="SOL")
START = datetime(2026, 1, 1, tzinfo=UTC)


async def run(n_users: int, n_rooms: int, bets_per_room: int) -> dict[str, float]:
    container = InMemoryContainer(start=START)
    clock = container.clock()
    feeds = [InMemoryPriceSource(f"f{i}", clock, supported=[SOL]) for i in range(2)]
    for feed in feeds:
        feed.set_price(SOL, "150")
    container.price_sources.override(feeds)
    deps = container.deps()
    user_ids = []
    for i in range(n_users):
        user = (
            await users.register_user(deps, telegram_id=i + 1, deposit_address=f"a{i}")
        ).unwrap()
        await wallet.credit_deposit(
            deps, address=f"a{i}", signature=f"s{i}", instruction_index=0, amount=sol(1_000_000)
        )
        user_ids.append(user.id)
    room_ids = []
    for _ in range(n_rooms):
        spec = rooms.RoomSpec(
            title="Benchmark room",
            asset_kind=AssetKind.COIN,
            asset_id="SOL",
            comparator=Comparator.GTE,
            target=Decimal(200),
            settle_at=clock.now() + timedelta(hours=2),
        )
        room_ids.append((await rooms.create_room(deps, host_id=user_ids[0], spec=spec)).unwrap().id)

    # Baseline: one unit of work posting one transfer between two users.
    n_base = n_rooms * bets_per_room
    started = time.perf_counter()
    for i in range(n_base):
        async with deps.uow() as uow:
            await uow.ledger.post(
                JournalEntry.transfer(
                    f"base{i}",
                    EntryKind.BET,
                    clock.now(),
                    user_account(user_ids[1]),
                    user_account(user_ids[2]),
                    1,
                )
            )
            await uow.commit()
    baseline = n_base / (time.perf_counter() - started)

    placed = 0
    started = time.perf_counter()
    for r, room_id in enumerate(room_ids):
        for j in range(bets_per_room):
            user_id = user_ids[(r * 7 + j) % n_users]
            result = await bets.place_bet(
                deps,
                user_id=user_id,
                room_id=room_id,
                side=Side.YES if j % 3 else Side.NO,
                stake=sol(1) + j,
                idempotency_key=f"{room_id}",
            )
            placed += isinstance(result, Success)
    bet_rate = placed / (time.perf_counter() - started)

    observation = Observation(
        asset=SOL, value=Decimal(201), observed_at=clock.now(), sources=("f0", "f1"), quorum=2
    )
    clock.advance(1)
    started = time.perf_counter()
    settled = 0
    for room_id in room_ids:
        outcome = await settle_room(deps, room_id=room_id, observation=observation, instant=True)
        settled += isinstance(outcome, Success)
    settle_rate = settled / (time.perf_counter() - started)
    store = container.store()
    assert sum(store.balances.values()) == 0
    return {
        "baseline": baseline,
        "bets": bet_rate,
        "placed": placed,
        "settlements": settle_rate,
        "settled": settled,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--bets-per-room", type=int, default=100)
    args = parser.parse_args()
    r = asyncio.run(run(args.users, args.rooms, args.bets_per_room))
    print(f"baseline (bare unit of work, one transfer): {r['baseline']:>10,.0f} ops/s")
    print(
        f"place_bet:  {r['bets']:>10,.0f} bets/s   ({r['placed']:,.0f} bets)  "
        f"ratio to baseline {r['bets'] / r['baseline']:.2f}"
    )
    print(
        f"settle_room: {r['settlements']:>9,.0f} settlements/s ({r['settled']:,.0f} rooms of "
        f"{args.bets_per_room} bets)  ratio to baseline {r['settlements'] / r['baseline']:.4f}"
    )


if __name__ == "__main__":
    main()
