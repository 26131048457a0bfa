"""Bet placements per second on PostgreSQL, against pgbench on the same server, same run.

1. Baseline: pgbench's built-in TPC-B-like script (scale = clients, so clients do not all
   queue on one branch row) with the same number of clients, in a scratch database.
2. The adapter: ``place_bet`` through the core services and the Postgres unit of work,
   ``--clients`` concurrent callers each on its own pooled connection, bets spread over
   ``--rooms`` open rooms (each bet is a new user/room pair).
3. Settling one room of ``--settle-bets`` bets (one ``settle_room`` call, timed alone).

Prints tps, bets/s and their ratio (target >= 0.5) and the settlement time (target < 1 s).
Every process runs its event loop as the ROOMS services do (:func:`run_service`: uvloop).
Needs a running server (``--admin-url``, default the local one as user postgres) and the
``pgbench`` program; it creates and drops its own databases.

    python -m benchmarks.pg_bets [--clients 8] [--seconds 10] [--users 10000] [--rooms 200]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from dependency_injector import providers
from returns.result import Failure, Success

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.container import InMemoryContainer
from rooms_adapters.memory.prices import InMemoryPriceSource
from rooms_adapters.postgres.migrate import migrate
from rooms_adapters.postgres.store import PostgresSettings, PostgresStore
from rooms_adapters.postgres.uow import PostgresUnitOfWork
from rooms_adapters.system.event_loop import run_service
from rooms_core.models import Asset, AssetKind, Comparator, Observation, Side
from rooms_core.money import sol
from rooms_core.services import bets, rooms, users, wallet
from rooms_core.services.deps import Deps
from rooms_core.services.retry import retrying
from rooms_core.services.settlement import settle_room

SOL = Asset(kind=AssetKind.COIN, id="SOL")
START = datetime(2026, 1, 1, tzinfo=UTC)
ADMIN_URL = os.environ.get("ROOMS_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(admin_url: str, name: str) -> str:
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


async def create_database(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def drop_database(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def pgbench_tps(url: str, clients: int, threads: int, seconds: int) -> float:
    """pgbench -i at scale ``clients``, then its TPC-B-like run; the reported tps."""
    if shutil.which("pgbench") is None:
        raise SystemExit("pgbench is not installed (Debian: postgresql-contrib / postgresql)")
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", str(clients), url],
        check=True,
        capture_output=True,
        text=True,
    )
    run = subprocess.run(
        ["pgbench", "-c", str(clients), "-j", str(threads), "-T", str(seconds), url],
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([0-9.]+)", run.stdout)
    if match is None:
        raise SystemExit(f"cannot read pgbench's output:\n{run.stdout}\n{run.stderr}")
    return float(match[1])


async def gather_limited(calls: list[Callable[[], Awaitable[object]]], limit: int) -> None:
    """Run the calls with at most ``limit`` at a time."""
    queue = iter(calls)

    async def worker() -> None:
        for call in queue:
            await call()

    await asyncio.gather(*(worker() for _ in range(limit)))


def make_deps(store: PostgresStore) -> tuple[Deps, InMemoryContainer]:
    container = InMemoryContainer(start=START)
    clock = container.clock()
    feeds = [InMemoryPriceSource(f"f{i}", clock, supported=[SOL]) for i in range(2)]
    for feed in feeds:
        feed.set_price(SOL, "150")
    container.price_sources.override(feeds)
    container.uow.override(providers.Factory(PostgresUnitOfWork, store=store))
    store.clock = clock
    return container.deps(), container


async def setup_users(deps: Deps, n: int, clients: int) -> list[int]:
    ids: list[int] = [0] * n

    async def one(i: int) -> None:
        user = await users.register_user(deps, telegram_id=i + 1, deposit_address=f"a{i}")
        ids[i] = user.unwrap().id
        await wallet.credit_deposit(
            deps, address=f"a{i}", signature=f"s{i}", instruction_index=0, amount=sol(1000)
        )

    await gather_limited([partial(one, i) for i in range(n)], clients)
    return ids


async def create_rooms(deps: Deps, host: int, n: int, hours: int) -> list[int]:
    ids = []
    for _ in range(n):
        spec = rooms.RoomSpec(
            title="Will SOL reach 200?",
            asset_kind=AssetKind.COIN,
            asset_id="SOL",
            comparator=Comparator.GTE,
            target=Decimal(200),
            settle_at=deps.clock.now() + timedelta(hours=hours),
        )
        ids.append((await rooms.create_room(deps, host_id=host, spec=spec)).unwrap().id)
    return ids


def bet_pairs(user_ids: list[int], room_ids: list[int]) -> list[tuple[int, int]]:
    """Every (user, room) pair once, ordered so that consecutive bets go to different users
    and different rooms: concurrent bets do not queue on one room's or one user's row."""
    n_rooms = len(room_ids)
    return [
        (user_id, room_ids[(i + k) % n_rooms])
        for k in range(n_rooms)
        for i, user_id in enumerate(user_ids)
    ]


async def place(
    deps: Deps, user_id: int, room_id: int, side: Side, stake: int, n: int, tag: str = "s"
) -> None:
    """One bet, repeated after a transient storage error as the bot and the API do."""
    result = await retrying(
        partial(
            bets.place_bet,
            deps,
            user_id=user_id,
            room_id=room_id,
            side=side,
            stake=stake,
            idempotency_key=f"b{tag}{n}",
        )
    )
    if isinstance(result, Failure):
        raise SystemExit(f"a benchmark bet failed: {result.failure()}")


async def measure_bets(
    deps: Deps, pairs_list: list[tuple[int, int]], clients: int, seconds: float, tag: str = ""
) -> tuple[int, float]:
    """Bets placed by ``clients`` concurrent callers for ``seconds``: (count, elapsed)."""
    pairs = iter(pairs_list)
    counter = itertools.count()
    placed = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal placed
        for user_id, room_id in pairs:
            if time.perf_counter() >= deadline:
                return
            n = next(counter)
            await place(deps, user_id, room_id, Side.YES if n % 2 else Side.NO, sol("0.1"), n, tag)
            placed += 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return placed, time.perf_counter() - began


async def bets_in_processes(
    url: str, pairs: list[tuple[int, int]], clients: int, processes: int, seconds: int
) -> tuple[int, float]:
    """Split the clients and the pairs over ``processes`` worker processes (one Python
    process runs one core, as pgbench's ``-j`` threads do); total bets and the longest
    elapsed time."""
    workers = []
    pairs = pairs[: 5_000 * seconds * processes]  # more than a process can place in time
    for p in range(processes):
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.pg_bets", "--worker", url,
            str(clients // processes + (p < clients % processes)), str(seconds), str(p),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert worker.stdin is not None
        worker.stdin.write(json.dumps(pairs[p::processes]).encode() + b"\n")
        workers.append(worker)
    for worker in workers:  # all connected: start together
        assert worker.stdout is not None
        if (await worker.stdout.readline()).strip() != b"READY":
            raise SystemExit("a benchmark worker process failed to start")
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(b"GO\n")
        worker.stdin.close()
    results = []
    for worker in workers:
        out, _ = await worker.communicate()
        if worker.returncode != 0:
            raise SystemExit("a benchmark worker process failed")
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return sum(r[0] for r in results), max(r[1] for r in results)


async def bet_worker(url: str, clients: int, seconds: float, tag: str) -> None:
    pairs = [(int(u), int(r)) for u, r in json.loads(sys.stdin.readline())]
    store = await PostgresStore.connect(
        PostgresSettings(dsn=url, pool_min=clients, pool_max=clients), VirtualClock(START)
    )
    try:
        deps, _ = make_deps(store)
        print("READY", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        placed, elapsed = await measure_bets(deps, pairs, clients, seconds, tag=f"{tag}-")
    finally:
        await store.close()
    print(json.dumps([placed, elapsed]), flush=True)


async def measure_settlement(
    deps: Deps, container: InMemoryContainer, user_ids: list[int], host: int, clients: int
) -> float:
    """Seconds for one settle_room of a room holding one bet from every user."""
    (room_id,) = await create_rooms(deps, host, 1, hours=1)

    async def one(n: int, user_id: int) -> None:
        await place(deps, user_id, room_id, Side.YES if n % 3 else Side.NO, sol("0.1") + n, n)

    await gather_limited([partial(one, n, u) for n, u in enumerate(user_ids)], clients)
    clock = container.clock()
    clock.advance(2 * 3600)
    observation = Observation(
        asset=SOL, value=Decimal(250), observed_at=clock.now(), sources=("f0", "f1"), quorum=2
    )
    began = time.perf_counter()
    settled = await settle_room(deps, room_id=room_id, observation=observation, instant=False)
    elapsed = time.perf_counter() - began
    if not isinstance(settled, Success):
        raise SystemExit(f"the benchmark settlement failed: {settled}")
    return elapsed


async def run(args: argparse.Namespace) -> dict[str, float]:
    suffix = os.getpid()
    pgbench_db, rooms_db = f"rooms_bench_pgbench_{suffix}", f"rooms_bench_{suffix}"
    await create_database(args.admin_url, pgbench_db)
    try:
        print(
            f"pgbench: TPC-B-like, scale {args.clients}, {args.clients} clients, "
            f"{args.processes} threads, {args.seconds} s ...",
            flush=True,
        )
        tps = await asyncio.to_thread(
            pgbench_tps,
            database_url(args.admin_url, pgbench_db),
            args.clients,
            args.processes,
            args.seconds,
        )
    finally:
        await drop_database(args.admin_url, pgbench_db)

    await create_database(args.admin_url, rooms_db)
    url = database_url(args.admin_url, rooms_db)
    try:
        connection = await asyncpg.connect(url)
        try:
            await migrate(connection)
        finally:
            await connection.close()
        store = await PostgresStore.connect(
            PostgresSettings(dsn=url, pool_min=args.clients, pool_max=args.clients),
            VirtualClock(START),
        )
        try:
            deps, container = make_deps(store)
            print(f"setup: {args.users} users with deposits, {args.rooms} rooms ...", flush=True)
            user_ids = await setup_users(deps, args.users, args.clients)
            room_ids = await create_rooms(deps, user_ids[0], args.rooms, hours=24)
            print(
                f"bets: {args.clients} clients in {args.processes} process(es), "
                f"{args.seconds} s ...",
                flush=True,
            )
            placed, elapsed = await bets_in_processes(
                url, bet_pairs(user_ids, room_ids), args.clients, args.processes, args.seconds
            )
            settle_users = user_ids[: args.settle_bets]
            print(f"settlement: one room of {len(settle_users)} bets ...", flush=True)
            settle_seconds = await measure_settlement(
                deps, container, settle_users, user_ids[0], args.clients
            )
        finally:
            await store.close()
    finally:
        await drop_database(args.admin_url, rooms_db)
    bets_per_second = placed / elapsed
    return {
        "pgbench_tps": tps,
        "bets_per_second": bets_per_second,
        "ratio": bets_per_second / tps,
        "settle_seconds": settle_seconds,
        "settle_bets": float(len(settle_users)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--settle-bets", type=int, default=10_000)
    parser.add_argument(
        "--processes",
        type=int,
        default=min(8, os.cpu_count() or 1),
        help="client processes sharing the clients (like pgbench -j; default: the cores)",
    )
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        url, clients, seconds, tag = args.worker
        run_service(bet_worker, url, int(clients), float(seconds), tag)
        return
    if args.settle_bets > args.users:
        parser.error("--settle-bets cannot exceed --users (one bet per user and room)")
    figures = run_service(run, args)
    print()
    print(f"pgbench TPC-B-like (baseline)  {figures['pgbench_tps']:10.0f} tps")
    print(f"place_bet on PostgreSQL        {figures['bets_per_second']:10.0f} bets/s")
    print(f"ratio bets/s : tps             {figures['ratio']:10.2f}   (target >= 0.5)")
    print(
        f"settle one room of {int(figures['settle_bets'])} bets {figures['settle_seconds']:8.3f} s"
        "     (target < 1 s)"
    )


if __name__ == "__main__":
    main()
