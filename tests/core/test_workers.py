"""The engine's loops on a virtual clock: instant settlement within one poll, rooms moving
on time, a feed outage ending VOID, notifications going out."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from itertools import pairwise

import anyio

from rooms_adapters.memory.messenger import InMemoryMessenger
from rooms_core.models import BetStatus, Side
from rooms_core.money import sol
from rooms_core.room import RoomState
from rooms_core.services.workers import (
    EngineCounts,
    EngineSettings,
    PriceBackoff,
    monitor_once,
    run_engine,
    schedule_once,
)
from tests.support import Platform


async def tick(platform: Platform, seconds: float, step: float = 0.5) -> None:
    """Let virtual time pass, giving the engine's tasks the chance to run at every step."""
    for _ in range(int(seconds / step)):
        platform.clock.advance(step)
        for _ in range(30):
            await asyncio.sleep(0)


async def test_a_hit_while_open_settles_and_refunds_bets_from_the_observation_on(
    platform: Platform,
) -> None:
    host, yes, no, late = [await platform.user() for _ in range(4)]
    room = await platform.room(host, target="200")
    await platform.bet(yes, room, Side.YES, sol(2))
    await platform.bet(no, room, Side.NO, sol(3))
    platform.clock.advance(60)
    platform.set_price("205")  # observed now
    late_bet = await platform.bet(late, room, Side.NO, sol(1))  # at the observation's time

    assert await monitor_once(platform.deps) == [room.id]

    stored = await platform.get_room(room.id)
    assert stored.state is RoomState.SETTLED
    assert stored.outcome is Side.YES
    async with platform.deps.uow() as uow:
        refunded = await uow.bets.get(late_bet.id)
    assert refunded is not None
    assert refunded.status is BetStatus.REFUNDED
    assert refunded.payout == sol(1)
    platform.check_invariants()


async def test_the_engine_settles_within_one_poll_of_the_hit(platform: Platform) -> None:
    host, yes, no = [await platform.user() for _ in range(3)]
    room = await platform.room(host, target="200")
    await platform.bet(yes, room, Side.YES, sol(1))
    await platform.bet(no, room, Side.NO, sol(1))
    stop = anyio.Event()
    settings = EngineSettings(poll_seconds=3.0)
    async with anyio.create_task_group() as group:
        group.start_soon(run_engine, platform.deps, None, stop, settings)
        await tick(platform, 10)
        assert (await platform.get_room(room.id)).state is RoomState.OPEN
        platform.set_price("201")
        hit_at = platform.clock.now()
        for _ in range(8):
            await tick(platform, 0.5)
            if (await platform.get_room(room.id)).state is RoomState.SETTLED:
                break
        stop.set()
    settled = await platform.get_room(room.id)
    assert settled.state is RoomState.SETTLED
    assert settled.closed_at is not None
    assert settled.closed_at - hit_at <= timedelta(seconds=3)


async def test_rooms_lock_and_settle_on_time(platform: Platform) -> None:
    host, yes, no = [await platform.user() for _ in range(3)]
    room = await platform.room(host, target="200", minutes=60)
    await platform.bet(yes, room, Side.YES, sol(1))
    await platform.bet(no, room, Side.NO, sol(1))
    platform.clock.advance_to(room.lock_at - timedelta(seconds=1))
    assert await schedule_once(platform.deps) == {}
    platform.clock.advance(1)
    assert list((await schedule_once(platform.deps)).values()) == ["LOCKED"]
    platform.clock.advance_to(room.settle_at)
    platform.set_price("150")
    assert list((await schedule_once(platform.deps)).values()) == ["SETTLED"]
    stored = await platform.get_room(room.id)
    assert (stored.state, stored.outcome) == (RoomState.SETTLED, Side.NO)


async def test_a_feed_outage_over_settle_at_ends_void_with_refunds(platform: Platform) -> None:
    host, yes, no = [await platform.user() for _ in range(3)]
    room = await platform.room(host, target="200", minutes=60)
    await platform.bet(yes, room, Side.YES, sol(1))
    await platform.bet(no, room, Side.NO, sol(2))
    before = [await platform.balance(u) for u in (yes, no)]
    for source in platform.sources:
        source.down = True
    stop = anyio.Event()
    counts = EngineCounts()
    async with anyio.create_task_group() as group:
        group.start_soon(run_engine, platform.deps, None, stop, EngineSettings(), counts)
        await tick(platform, 60 * 60 + 5 * 60, step=5)
        assert (await platform.get_room(room.id)).state is RoomState.SETTLING  # waiting
        await tick(platform, 6 * 60, step=5)  # the grace period passes
        stop.set()
    assert (await platform.get_room(room.id)).state is RoomState.VOID
    assert [await platform.balance(u) for u in (yes, no)] == [b + s for b, s in zip(
        before, (sol(1), sol(2)), strict=True)]  # fmt: skip
    assert counts.outcomes.get("VOID") == 1
    platform.check_invariants()


async def test_the_engine_sends_the_notifications(platform: Platform) -> None:
    host, yes, no = [await platform.user() for _ in range(3)]
    room = await platform.room(host, target="200")
    await platform.bet(yes, room, Side.YES, sol(1))
    await platform.bet(no, room, Side.NO, sol(1))
    messenger = InMemoryMessenger()
    stop = anyio.Event()
    counts = EngineCounts()
    async with anyio.create_task_group() as group:
        group.start_soon(run_engine, platform.deps, messenger, stop, EngineSettings(), counts)
        await tick(platform, 5)
        stop.set()
    async with platform.deps.uow() as uow:
        assert await uow.outbox.pending_count() == 0
    assert counts.notifications_sent == len(messenger.sent) > 0
    assert {chat for chat, _ in messenger.sent} >= {yes.telegram_id, no.telegram_id}


async def test_a_room_waiting_for_a_price_is_asked_again_with_backoff(platform: Platform) -> None:
    host, yes, no = [await platform.user() for _ in range(3)]
    room = await platform.room(host, target="200", minutes=60)
    await platform.bet(yes, room, Side.YES, sol(1))
    await platform.bet(no, room, Side.NO, sol(1))
    for source in platform.sources:
        source.down = True
    platform.clock.advance_to(room.settle_at)
    backoff = PriceBackoff(longest=8)
    asked = []
    for _ in range(40):  # 40 scans, one a second
        done = await schedule_once(platform.deps, backoff=backoff)
        if room.id in done:
            asked.append(platform.clock.now())
        platform.clock.advance(1)
    gaps = [(b - a).total_seconds() for a, b in pairwise(asked[1:])]
    assert gaps[:4] == [1, 2, 4, 8]  # after the lock pass and the first wait
    assert all(gap == 8 for gap in gaps[4:])
