"""The read ports for live views and metrics, on both backends: room changes as they commit,
price history and source health from the oracle's decisions, operational figures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from rooms_adapters.memory.changes import InMemoryRoomChangeFeed
from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.figures import InMemoryPlatformFigures
from rooms_adapters.memory.price_history import InMemoryPriceHistory
from rooms_adapters.memory.store import InMemoryStore
from rooms_adapters.memory.uow import InMemoryUnitOfWork
from rooms_adapters.postgres.changes import PostgresRoomChangeFeed
from rooms_adapters.postgres.figures import PostgresPlatformFigures
from rooms_adapters.postgres.oracle_log import PostgresDecisionLog
from rooms_adapters.postgres.price_history import PostgresPriceHistory
from rooms_adapters.postgres.uow import PostgresUnitOfWork
from rooms_core.events import BetPlaced, RoomCreated
from rooms_core.ledger import EXTERNAL_DEPOSITS, EntryKind, JournalEntry, user_account
from rooms_core.models import Asset, AssetKind, Deposit, Observation, Quote, Withdrawal
from rooms_core.models import WithdrawalState as W
from rooms_core.oracle import OracleDecision
from rooms_core.ports.changes import RoomChangeFeed, RoomsChanged
from rooms_core.ports.figures import OperationsFigures, PlatformFigures
from rooms_core.ports.price_history import PriceHistory, PricePoint, reason_kind
from rooms_core.ports.storage import UnitOfWork
from tests.contract.test_repositories import room, user
from tests.pg import empty_store
from tests.support import SOL, START

BTC = Asset(kind=AssetKind.COIN, id="BTC")


@dataclass
class Backend:
    uow: Callable[[], UnitOfWork]
    changes: RoomChangeFeed
    history: PriceHistory
    figures: PlatformFigures
    record: Callable[[OracleDecision], None]
    flush: Callable[[], object]


@pytest.fixture(params=["memory", "postgres"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    clock = VirtualClock(START)
    if request.param == "memory":
        store = InMemoryStore(clock=clock)
        history = InMemoryPriceHistory()

        async def nothing() -> None:
            return None

        yield Backend(
            lambda: InMemoryUnitOfWork(store),
            InMemoryRoomChangeFeed(store),
            history,
            InMemoryPlatformFigures(store),
            history.record,
            nothing,
        )
        return
    dsn = request.getfixturevalue("pg_database")
    pg = await empty_store(dsn, clock)
    log = PostgresDecisionLog(pg)
    try:
        yield Backend(
            lambda: PostgresUnitOfWork(pg),
            PostgresRoomChangeFeed(pg, every=0.02),
            PostgresPriceHistory(pg),
            PostgresPlatformFigures(pg),
            log.record,
            log.flush,
        )
    finally:
        await pg.close()


async def next_change(changes: AsyncIterator[RoomsChanged]) -> RoomsChanged:
    return await asyncio.wait_for(anext(changes), timeout=5)


async def test_committed_room_changes_are_announced_and_rolled_back_ones_are_not(
    backend: Backend,
) -> None:
    # As the services do: each change of a room with its domain event.
    async with backend.uow() as uow:
        await uow.users.add(user(1))
        await uow.commit()
    async with backend.changes.listen() as changes:
        async with backend.uow() as uow:
            await uow.rooms.add(room(1, host=1))
            uow.emit(RoomCreated(1, 1, START))
            await uow.commit()
        assert (await next_change(changes)).room_ids == {1}

        async with backend.uow() as uow:  # rolled back: never announced
            await uow.rooms.add(room(2, host=1))
            uow.emit(RoomCreated(2, 1, START))
        async with backend.uow() as uow:
            changed = await uow.rooms.get(1)
            assert changed is not None
            changed.yes_pool, changed.yes_bets = 5, 1
            await uow.rooms.update(changed)
            uow.emit(BetPlaced(1, 1, 1, "YES", 5, START))
            await uow.commit()
        assert (await next_change(changes)).room_ids == {1}


def decision(asset: Asset, seconds: int, value: str | None, rejected: str = "") -> OracleDecision:
    at = START + timedelta(seconds=seconds)
    quotes = () if value is None else (Quote(asset, Decimal(value), "binance", at),)
    accepted = None if value is None else Observation(asset, Decimal(value), at, ("binance",), 1)
    return OracleDecision(asset, at, accepted, quotes, (("pyth", rejected),) if rejected else ())


async def test_price_history_keeps_the_last_value_of_each_slice(backend: Backend) -> None:
    for second, value in [(0, "100"), (10, "101"), (20, "102"), (30, "103"), (59, "104")]:
        backend.record(decision(SOL, second, value))
    backend.record(decision(SOL, 40, None, "unavailable"))  # no consensus: no point
    backend.record(decision(BTC, 5, "90000"))
    await backend.flush()  # type: ignore[misc]
    span = (START, START + timedelta(seconds=60))
    two = await backend.history.points(SOL, *span, buckets=2)
    assert [(p.at - START).seconds for p in two] == [20, 59]
    assert [p.value for p in two] == [Decimal(102), Decimal(104)]
    every = await backend.history.points(SOL, *span, buckets=600)
    assert len(every) == 5
    assert await backend.history.points(SOL, START - timedelta(hours=1), START, 10) == [
        PricePoint(START, Decimal(100))
    ]
    latest = await backend.history.latest([SOL, BTC, Asset(kind=AssetKind.COIN, id="ETH")])
    assert {k: p.value for k, p in latest.items()} == {
        SOL.key: Decimal(104),
        BTC.key: Decimal(90000),
    }


async def test_source_health_counts_uses_and_rejections_by_kind(backend: Backend) -> None:
    backend.record(decision(SOL, 0, "100", "stale (40s old)"))
    backend.record(decision(SOL, 3, "100", "unavailable"))
    backend.record(decision(SOL, 6, "100", "unavailable"))
    await backend.flush()  # type: ignore[misc]
    health = {h.source: h for h in await backend.history.source_health(START)}
    assert health["binance"].used == 3
    assert health["binance"].last_used_at == START + timedelta(seconds=6)
    assert health["pyth"].used == 0
    assert dict(health["pyth"].rejected) == {"stale": 1, "unavailable": 2}
    later = await backend.history.source_health(START + timedelta(seconds=5))
    assert {h.source: h.used for h in later} == {"binance": 1, "pyth": 0}


def test_rejection_reasons_are_counted_by_kind() -> None:
    assert reason_kind("stale (40s old)") == "stale"
    assert reason_kind("timestamp in the future") == "future"
    assert reason_kind("deviates from the median (150)") == "deviates"
    assert reason_kind("rate_limited") == "rate_limited"


async def test_figures_count_deposits_withdrawals_and_notifications(backend: Backend) -> None:
    async with backend.uow() as uow:
        await uow.users.add(user(1))
        await uow.ledger.post(
            JournalEntry.transfer(
                "d", EntryKind.DEPOSIT, START, EXTERNAL_DEPOSITS, user_account(1), 700
            )
        )
        for sig, amount in (("s1", 300), ("s2", 400)):
            await uow.deposits.add(
                Deposit(
                    signature=sig,
                    address="addr1",
                    instruction_index=0,
                    user_id=1,
                    amount=amount,
                    credited_at=START,
                )
            )
        for wid, state, amount in ((1, W.PENDING_APPROVAL, 50), (2, W.CONFIRMED, 20)):
            await uow.withdrawals.add(
                Withdrawal(
                    id=wid,
                    user_id=1,
                    destination="dest",
                    amount=amount,
                    state=state,
                    created_at=START,
                    idempotency_key=f"w{wid}",
                )
            )
        await uow.commit()
    figures = await backend.figures.read()
    assert (figures.deposits, figures.deposited) == (2, 700)
    assert figures.withdrawals == {W.PENDING_APPROVAL: 1, W.CONFIRMED: 1}
    assert figures.withdrawn == {W.PENDING_APPROVAL: 50, W.CONFIRMED: 20}
    assert (figures.notifications_sent, figures.notifications_given_up) == (0, 0)


async def test_figures_never_count_what_a_unit_of_work_has_not_committed(
    backend: Backend,
) -> None:
    async with backend.uow() as uow:
        await uow.users.add(user(1))
        await uow.commit()
    read: asyncio.Task[object] | None = None
    async with backend.uow() as uow:  # left without commit: rolled back
        await uow.deposits.add(
            Deposit(
                signature="s1",
                address="addr1",
                instruction_index=0,
                user_id=1,
                amount=300,
                credited_at=START,
            )
        )
        read = asyncio.create_task(backend.figures.read())
        await asyncio.sleep(0.05)  # the read runs (or waits) while the deposit is written
    figures = await read
    assert isinstance(figures, OperationsFigures)
    assert (figures.deposits, figures.deposited) == (0, 0)
