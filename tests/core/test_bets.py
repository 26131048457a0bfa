"""Placing bets: validation errors, atomicity, idempotent replay, server-side lock time."""

from __future__ import annotations

from rooms_core.errors import (
    AlreadyBet,
    IdempotencyConflict,
    InsufficientBalance,
    RoomLocked,
    RoomNotFound,
    StakeAboveMaximum,
    StakeBelowMinimum,
    UserNotFound,
)
from rooms_core.ledger import escrow_account
from rooms_core.models import NotificationKind, Side
from rooms_core.money import sol
from rooms_core.services.bets import place_bet
from tests.support import Platform, err


async def test_stake_moves_from_balance_to_escrow(platform: Platform) -> None:
    user = await platform.user()
    room = await platform.room(await platform.user())
    bet = await platform.bet(user, room, Side.YES, sol("2.5"))
    assert await platform.balance(user) == sol("97.5")
    async with platform.deps.uow() as uow:
        assert await uow.ledger.balance(escrow_account(room.id)) == sol("2.5")
    assert (await platform.get_room(room.id)).yes_pool == bet.stake
    platform.check_invariants()


async def test_bet_confirmation_is_queued_in_the_outbox(platform: Platform) -> None:
    user = await platform.user()
    room = await platform.room(await platform.user())
    await platform.bet(user, room, Side.NO, sol(1))
    kinds = [m.kind for m in platform.store.outbox.values() if m.user_id == user.id]
    assert NotificationKind.BET_CONFIRMED in kinds


async def test_insufficient_balance_is_an_error_and_changes_nothing(platform: Platform) -> None:
    user = await platform.user(deposit=sol(1))
    room = await platform.room(await platform.user())
    error = err(await platform.try_bet(user, room, Side.YES, sol(2)))
    assert error == InsufficientBalance(sol(2), sol(1))
    assert await platform.balance(user) == sol(1)
    assert (await platform.get_room(room.id)).total_pool == 0
    assert not platform.store.bets


async def test_stake_limits(platform: Platform) -> None:
    user = await platform.user(deposit=sol(2000))
    room = await platform.room(await platform.user())
    assert isinstance(
        err(await platform.try_bet(user, room, Side.YES, sol("0.009"))), StakeBelowMinimum
    )
    assert isinstance(
        err(await platform.try_bet(user, room, Side.YES, sol(1001))), StakeAboveMaximum
    )
    await platform.bet(user, room, Side.YES, sol(1000))


async def test_second_different_bet_in_a_room_is_refused(platform: Platform) -> None:
    user = await platform.user()
    room = await platform.room(await platform.user())
    await platform.bet(user, room, Side.YES, sol(1), key="first")
    assert isinstance(
        err(await platform.try_bet(user, room, Side.NO, sol(1), key="second")), AlreadyBet
    )
    assert await platform.balance(user) == sol(99)


async def test_replaying_the_same_request_returns_the_first_bet_unchanged(
    platform: Platform,
) -> None:
    user = await platform.user()
    room = await platform.room(await platform.user())
    first = await platform.bet(user, room, Side.YES, sol(1), key="k1")
    again = await platform.bet(user, room, Side.YES, sol(1), key="k1")
    assert again == first
    assert await platform.balance(user) == sol(99)
    assert len(platform.store.bets) == 1


async def test_reusing_a_key_for_a_different_request_is_a_conflict(platform: Platform) -> None:
    user = await platform.user()
    room = await platform.room(await platform.user())
    await platform.bet(user, room, Side.YES, sol(1), key="k1")
    assert isinstance(
        err(await platform.try_bet(user, room, Side.NO, sol(1), key="k1")), IdempotencyConflict
    )


async def test_bet_after_lock_at_is_refused_even_before_the_room_is_moved(
    platform: Platform,
) -> None:
    user = await platform.user()
    room = await platform.room(await platform.user())
    platform.clock.advance_to(room.lock_at)  # the scheduler has not run yet: still QUEUING
    assert isinstance(err(await platform.try_bet(user, room, Side.YES, sol(1))), RoomLocked)
    assert await platform.balance(user) == sol(100)


async def test_unknown_room_and_user(platform: Platform) -> None:
    user = await platform.user()
    room = await platform.room(await platform.user())
    r1 = await place_bet(
        platform.deps,
        user_id=user.id,
        room_id=999,
        side=Side.YES,
        stake=sol(1),
        idempotency_key="a",
    )
    assert isinstance(err(r1), RoomNotFound)
    r2 = await place_bet(
        platform.deps,
        user_id=999,
        room_id=room.id,
        side=Side.YES,
        stake=sol(1),
        idempotency_key="b",
    )
    assert isinstance(err(r2), UserNotFound)
