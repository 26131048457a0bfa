"""A bet reads its room and balance without locks and writes in one statement that re-checks
them (rooms_adapters.postgres.uow): what changes between the read and the write, on the real
server. Each test runs something else right after the bet's read (a hook in the repository)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

import pytest
from returns.result import Failure, Success

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.postgres.store import PostgresStore
from rooms_adapters.postgres.uow import PostgresBetRepository, PostgresUnitOfWork
from rooms_core.errors import InsufficientBalance, RoomLocked
from rooms_core.ledger import EntryKind, JournalEntry, escrow_account, user_account
from rooms_core.models import Side, User
from rooms_core.money import sol
from rooms_core.ports.storage import BetPlacementView, StorageConflict
from rooms_core.room import Room, RoomState
from rooms_core.services import bets
from rooms_core.services.retry import retrying
from tests.pg import empty_store, load_books
from tests.support import START, Platform, make_platform

Hook = Callable[[], Awaitable[object]]


class _HookedBets(PostgresBetRepository):
    """Runs the pending hook (once) right after the placement read."""

    __slots__ = ()

    async def placement_view(
        self, user_id: int, room_id: int, request_key: str
    ) -> BetPlacementView:
        view = await super().placement_view(user_id, room_id, request_key)
        if _PENDING:
            await _PENDING.pop()()
        return view


_PENDING: list[Hook] = []  # at most one


class _HookedUnitOfWork(PostgresUnitOfWork):
    def __init__(self, store: PostgresStore) -> None:
        super().__init__(store)
        self.bets = _HookedBets(self)


def after_the_read(hook: Hook) -> None:
    """The next bet's read is followed by ``hook``; later ones by nothing."""
    _PENDING[:] = [hook]


@pytest.fixture
async def platform_pg(pg_database: str) -> AsyncIterator[tuple[Platform, PostgresStore]]:
    _PENDING.clear()
    pg = await empty_store(pg_database, VirtualClock(START))
    platform = make_platform(uow=lambda: _HookedUnitOfWork(pg))
    pg.clock = platform.clock
    try:
        yield platform, pg
    finally:
        await pg.close()


async def open_room(platform: Platform) -> Room:
    host = await platform.user()
    room = await platform.room(host)
    for side in (Side.YES, Side.NO):
        await platform.bet(await platform.user(), room, side, sol(1))
    async with platform.deps.uow() as uow:
        stored = await uow.rooms.get(room.id)
    assert stored is not None
    assert stored.state is RoomState.OPEN
    return stored


async def bet(platform: Platform, user: User, room: Room, stake: int, key: str) -> object:
    return await bets.place_bet(
        platform.deps, user_id=user.id, room_id=room.id, side=Side.YES, stake=stake,
        idempotency_key=key,
    )  # fmt: skip


async def state_of(platform: Platform, user: User, room: Room) -> tuple[int, int, int, object]:
    async with platform.deps.uow() as uow:
        balance = await uow.ledger.balance(user_account(user.id))
        escrow = await uow.ledger.balance(escrow_account(room.id))
        stored = await uow.rooms.get(room.id)
        mine = await uow.bets.get_by_user_and_room(user.id, room.id)
    assert stored is not None
    return balance, escrow, stored.total_pool, mine


async def test_a_room_locked_after_the_read_takes_no_bet_and_the_retry_is_refused(
    platform_pg: tuple[Platform, PostgresStore],
) -> None:
    platform, pg = platform_pg
    room = await open_room(platform)
    user = await platform.user(deposit=sol(5))
    before = await state_of(platform, user, room)

    async def lock_room() -> None:
        async with pg.pool.acquire() as c:
            await c.execute("UPDATE rooms SET state = 'LOCKED' WHERE id = $1", room.id)

    after_the_read(lock_room)
    with pytest.raises(StorageConflict):
        await bet(platform, user, room, sol(2), "late")
    assert await state_of(platform, user, room) == before  # nothing of the bet was written
    refused = await retrying(partial(bet, platform, user, room, sol(2), "late"))
    assert isinstance(refused, Failure)
    assert isinstance(refused.failure(), RoomLocked)
    assert await state_of(platform, user, room) == before
    assert all((await load_books(pg)).books_checks().values())


async def test_a_balance_spent_after_the_read_is_not_spent_twice(
    platform_pg: tuple[Platform, PostgresStore],
) -> None:
    platform, pg = platform_pg
    room, elsewhere = await open_room(platform), await open_room(platform)
    user = await platform.user(deposit=sol(1))

    async def spend_elsewhere() -> None:  # the same user's bet in another room, committed
        assert isinstance(await bet(platform, user, elsewhere, sol("0.8"), "first"), Success)

    after_the_read(spend_elsewhere)
    with pytest.raises(StorageConflict):
        await bet(platform, user, room, sol("0.5"), "second")
    refused = await retrying(partial(bet, platform, user, room, sol("0.5"), "second"))
    assert isinstance(refused, Failure)
    assert isinstance(refused.failure(), InsufficientBalance)
    balance, _, _, mine = await state_of(platform, user, room)
    assert balance == sol("0.2")
    assert mine is None
    assert all((await load_books(pg)).books_checks().values())


async def test_bets_racing_into_an_open_room_both_count_without_a_retry(
    platform_pg: tuple[Platform, PostgresStore],
) -> None:
    platform, pg = platform_pg
    room = await open_room(platform)
    first, second = await platform.user(), await platform.user()
    _, escrow_before, pool_before, _ = await state_of(platform, first, room)

    async def another_bet() -> None:
        assert isinstance(await bet(platform, second, room, sol(3), "other"), Success)

    after_the_read(another_bet)
    placed = await bet(platform, first, room, sol(2), "mine")  # no conflict: pools add up
    assert isinstance(placed, Success)
    _, escrow, pool, _ = await state_of(platform, first, room)
    assert escrow == pool == escrow_before + sol(5) == pool_before + sol(5)
    async with platform.deps.uow() as uow:
        stored = await uow.rooms.get(room.id)
    assert stored is not None
    assert stored.bettors == 4
    assert all((await load_books(pg)).books_checks().values())


async def test_a_room_read_unlocked_is_changed_only_if_it_is_as_read(
    platform_pg: tuple[Platform, PostgresStore],
) -> None:
    platform, pg = platform_pg
    room = await open_room(platform)
    for interfere in (True, False):
        async with PostgresUnitOfWork(pg) as uow:
            view = await uow.bets.placement_view(1, room.id, "bet:1:none")
            assert view.room is not None
            changed = view.room
            changed.state = RoomState.LOCKED  # not a pool change: written only if unchanged
            await uow.rooms.update(changed)
            if interfere:
                other = await platform.user()
                assert isinstance(await bet(platform, other, room, sol(1), "x"), Success)
                with pytest.raises(StorageConflict):
                    await uow.commit()
            else:
                await uow.commit()
        async with platform.deps.uow() as check:
            stored = await check.rooms.get(room.id)
        assert stored is not None
        assert stored.state is (RoomState.OPEN if interfere else RoomState.LOCKED)


async def test_a_bets_write_locks_the_room_before_the_account(
    platform_pg: tuple[Platform, PostgresStore],
) -> None:
    """RULES 8: rows are locked room first, then accounts, as settlement does; the write's
    re-checked parts run in the order the main query reads them."""
    platform, pg = platform_pg
    room = await open_room(platform)
    user = await platform.user()
    async with PostgresUnitOfWork(pg) as uow:
        view = await uow.bets.placement_view(user.id, room.id, "bet:x:order")
        assert view.room is not None
        entry = JournalEntry.transfer(
            "order", EntryKind.BET, platform.clock.now(), user_account(user.id),
            escrow_account(room.id), sol(1),
        )  # fmt: skip
        assert isinstance(await uow.ledger.post(entry), Success)
        view.room.add_to_pool(Side.YES, sol(1), platform.clock.now())
        await uow.rooms.update(view.room)
        statement = uow._build_flush()
    assert statement is not None
    sql = statement[0]
    room_part = sql.index("UPDATE rooms")
    account_part = sql.index("UPDATE accounts")
    assert room_part < account_part
    final = sql[sql.rindex("SELECT rooms_rows_unchanged") :]
    assert final.index(part_name(sql, room_part)) < final.index(part_name(sql, account_part))


def part_name(sql: str, at: int) -> str:
    """The CTE name (wN) of the part whose text starts at ``at``."""
    start = sql.rindex("w", 0, at)
    return sql[start : sql.index(" ", start)]
