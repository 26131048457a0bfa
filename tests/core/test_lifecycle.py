"""Every lifecycle transition of a room, driven through the services."""

from __future__ import annotations

from datetime import timedelta

from rooms_core.errors import (
    AlreadySettled,
    IllegalTransition,
    NotDue,
    RoomClosedForBets,
    RoomLocked,
)
from rooms_core.models import BetStatus, RefundReason, Side
from rooms_core.money import sol
from rooms_core.room import ALLOWED_TRANSITIONS, Room, RoomState
from rooms_core.services.engine import DueOutcome, process_due
from rooms_core.services.settlement import advance_room, settle_room, void_room
from tests.support import Platform, err, ok


async def open_room(platform: Platform, minutes: int = 60) -> tuple[Room, list]:  # type: ignore[type-arg]
    host = await platform.user()
    a, b = await platform.user(), await platform.user()
    room = await platform.room(host, minutes=minutes)
    await platform.bet(a, room, Side.YES, sol(1))
    await platform.bet(b, room, Side.NO, sol(2))
    platform.clock.advance(1)  # observations after the bets: they are not late
    return await platform.get_room(room.id), [host, a, b]


async def test_room_is_queuing_until_min_players_then_open(platform: Platform) -> None:
    host, a, b = await platform.user(), await platform.user(), await platform.user()
    room = await platform.room(host)
    assert room.state is RoomState.QUEUING
    await platform.bet(a, room, Side.YES, sol(1))
    assert (await platform.get_room(room.id)).state is RoomState.QUEUING
    await platform.bet(b, room, Side.YES, sol(1))
    opened = await platform.get_room(room.id)
    assert opened.state is RoomState.OPEN
    assert opened.opened_at == platform.clock.now()


async def test_lock_at_defaults_to_75_percent_of_the_way(platform: Platform) -> None:
    room = await platform.room(await platform.user(), minutes=60)
    assert room.lock_at - room.created_at == timedelta(minutes=45)


async def test_open_room_locks_at_lock_at(platform: Platform) -> None:
    room, _ = await open_room(platform)
    assert isinstance(err(await advance_room(platform.deps, room_id=room.id)), NotDue)
    platform.clock.advance_to(room.lock_at)
    assert ok(await advance_room(platform.deps, room_id=room.id)) is RoomState.LOCKED


async def test_queuing_room_is_cancelled_at_lock_with_full_refunds(platform: Platform) -> None:
    host, a = await platform.user(), await platform.user()
    room = await platform.room(host)
    await platform.bet(a, room, Side.YES, sol(3))
    assert await platform.balance(a) == sol(97)
    platform.clock.advance_to(room.lock_at)
    assert ok(await advance_room(platform.deps, room_id=room.id)) is RoomState.CANCELLED
    assert await platform.balance(a) == sol(100)
    platform.check_invariants()


async def test_open_room_with_an_empty_pool_is_cancelled_at_lock(platform: Platform) -> None:
    host, a, b = await platform.user(), await platform.user(), await platform.user()
    room = await platform.room(host)
    await platform.bet(a, room, Side.YES, sol(1))
    await platform.bet(b, room, Side.YES, sol(1))
    platform.clock.advance_to(room.lock_at)
    assert ok(await advance_room(platform.deps, room_id=room.id)) is RoomState.CANCELLED
    async with platform.deps.uow() as uow:
        bets = await uow.bets.list_for_room(room.id)
    assert {b.refund_reason for b in bets} == {RefundReason.CANCELLED}
    assert await platform.balance(a) == sol(100)


async def test_locked_room_goes_settling_at_settle_at_then_settles(platform: Platform) -> None:
    room, (_, a, b) = await open_room(platform)
    platform.clock.advance_to(room.lock_at)
    ok(await advance_room(platform.deps, room_id=room.id))
    platform.clock.advance_to(room.settle_at)
    assert ok(await advance_room(platform.deps, room_id=room.id)) is RoomState.SETTLING
    plan = ok(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("150"), instant=False
        )
    )
    assert plan.outcome is Side.NO
    settled = await platform.get_room(room.id)
    assert settled.state is RoomState.SETTLED
    assert await platform.balance(b) == sol(98) + sol(3) - sol("0.09")
    assert await platform.balance(a) == sol(99)
    platform.check_invariants()


async def test_target_hit_while_open_settles_instantly_yes(platform: Platform) -> None:
    room, (_, a, _) = await open_room(platform)
    plan = ok(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("201"), instant=True
        )
    )
    assert plan.outcome is Side.YES
    assert (await platform.get_room(room.id)).state is RoomState.SETTLED
    assert await platform.balance(a) == sol(99) + sol(3) - sol("0.09")


async def test_target_hit_while_locked_settles_instantly(platform: Platform) -> None:
    room, _ = await open_room(platform)
    platform.clock.advance_to(room.lock_at)
    ok(await advance_room(platform.deps, room_id=room.id))
    ok(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("250"), instant=True
        )
    )
    assert (await platform.get_room(room.id)).outcome is Side.YES


async def test_instant_settlement_of_a_queuing_room_is_an_illegal_transition(
    platform: Platform,
) -> None:
    room = await platform.room(await platform.user())
    error = err(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("300"), instant=True
        )
    )
    assert isinstance(error, IllegalTransition)
    assert (error.from_state, error.to_state) == ("QUEUING", "SETTLING")


async def test_instant_settlement_needs_the_condition_met(platform: Platform) -> None:
    room, _ = await open_room(platform)
    result = await settle_room(
        platform.deps, room_id=room.id, observation=platform.observation("199"), instant=True
    )
    assert isinstance(err(result), NotDue)


async def test_scheduled_settlement_before_settle_at_is_not_due(platform: Platform) -> None:
    room, _ = await open_room(platform)
    result = await settle_room(
        platform.deps, room_id=room.id, observation=platform.observation("150"), instant=False
    )
    assert isinstance(err(result), NotDue)


async def test_void_refunds_everyone_without_fee(platform: Platform) -> None:
    room, (_, a, b) = await open_room(platform)
    ok(await void_room(platform.deps, room_id=room.id, reason="no price", actor="system"))
    assert (await platform.get_room(room.id)).state is RoomState.VOID
    assert await platform.balance(a) == sol(100)
    assert await platform.balance(b) == sol(100)
    platform.check_invariants()


async def test_finished_rooms_refuse_every_transition(platform: Platform) -> None:
    room, _ = await open_room(platform)
    ok(await void_room(platform.deps, room_id=room.id, reason="test"))
    assert isinstance(
        err(await void_room(platform.deps, room_id=room.id, reason="x")), AlreadySettled
    )
    result = await settle_room(
        platform.deps, room_id=room.id, observation=platform.observation("300"), instant=True
    )
    assert isinstance(err(result), AlreadySettled)
    platform.clock.advance(3 * 3600)
    assert isinstance(err(await advance_room(platform.deps, room_id=room.id)), AlreadySettled)


async def test_bets_are_refused_once_the_room_left_open(platform: Platform) -> None:
    room, _ = await open_room(platform)
    late = await platform.user()
    platform.clock.advance_to(room.lock_at)
    ok(await advance_room(platform.deps, room_id=room.id))
    assert isinstance(err(await platform.try_bet(late, room, Side.YES, sol(1))), RoomLocked)
    ok(await void_room(platform.deps, room_id=room.id, reason="test"))
    assert isinstance(err(await platform.try_bet(late, room, Side.YES, sol(1))), RoomClosedForBets)


def test_transition_table_has_no_exit_from_terminal_states() -> None:
    for state in (RoomState.SETTLED, RoomState.CANCELLED, RoomState.VOID):
        assert ALLOWED_TRANSITIONS[state] == frozenset()
    assert RoomState.SETTLED in ALLOWED_TRANSITIONS[RoomState.SETTLING]


async def test_every_bet_gets_a_result_when_the_room_settles(platform: Platform) -> None:
    room, _ = await open_room(platform)
    ok(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("300"), instant=True
        )
    )
    async with platform.deps.uow() as uow:
        bets = await uow.bets.list_for_room(room.id)
    assert {b.status for b in bets} == {BetStatus.WON, BetStatus.LOST}


async def test_no_price_after_settle_at_waits_then_voids_after_the_grace_period(
    platform: Platform,
) -> None:
    room, (_, a, b) = await open_room(platform)
    platform.clock.advance_to(room.lock_at)
    assert ok(await process_due(platform.deps, room_id=room.id)).outcome is DueOutcome.LOCKED
    for source in platform.sources:
        source.down = True
    platform.clock.advance_to(room.settle_at)
    waiting = ok(await process_due(platform.deps, room_id=room.id))
    assert waiting.outcome is DueOutcome.WAITING_FOR_PRICE
    assert (await platform.get_room(room.id)).state is RoomState.SETTLING
    platform.clock.advance_to(room.settle_at + platform.deps.settings.void_grace)
    assert ok(await process_due(platform.deps, room_id=room.id)).outcome is DueOutcome.VOID
    assert await platform.balance(a) == sol(100)
    assert await platform.balance(b) == sol(100)
    platform.check_invariants()


async def test_a_price_within_the_grace_period_settles_the_room(platform: Platform) -> None:
    room, _ = await open_room(platform)
    platform.clock.advance_to(room.settle_at)
    for source in platform.sources:
        source.down = True
    ok(await process_due(platform.deps, room_id=room.id))  # locks: lock_at passed long ago
    assert ok(await process_due(platform.deps, room_id=room.id)).outcome is (
        DueOutcome.WAITING_FOR_PRICE
    )
    for source in platform.sources:
        source.down = False
    platform.clock.advance(60)
    settled = ok(await process_due(platform.deps, room_id=room.id))
    assert settled.outcome is DueOutcome.SETTLED
    assert (await platform.get_room(room.id)).outcome is Side.NO
