"""Settlement runs once, atomically; late bets are refunded; crashes leave no partial state."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from returns.result import Success

from rooms_core.errors import AlreadySettled
from rooms_core.ledger import escrow_account
from rooms_core.models import BetStatus, RefundReason, Side
from rooms_core.money import sol
from rooms_core.room import RoomState
from rooms_core.services.settlement import settle_room
from tests.support import Platform, err, ok


async def test_concurrent_settlement_of_one_room_succeeds_exactly_once(
    platform: Platform,
) -> None:
    host = await platform.user()
    players = [await platform.user() for _ in range(20)]
    room = await platform.room(host)
    for i, p in enumerate(players):
        await platform.bet(p, room, Side.YES if i % 2 else Side.NO, sol(i + 1))
    obs = platform.observation("300")
    results = await asyncio.gather(
        *(
            settle_room(platform.deps, room_id=room.id, observation=obs, instant=True)
            for _ in range(25)
        )
    )
    successes = [r for r in results if isinstance(r, Success)]
    assert len(successes) == 1
    failures = [err(r) for r in results if not isinstance(r, Success)]
    assert len(failures) == 24
    assert all(isinstance(f, AlreadySettled) for f in failures)
    settle_entries = [k for k in platform.store.entries if k == f"settle:{room.id}"]
    assert settle_entries == [f"settle:{room.id}"]
    platform.check_invariants()


async def test_settled_room_escrow_is_empty(platform: Platform) -> None:
    host = await platform.user()
    a, b = await platform.user(), await platform.user()
    room = await platform.room(host)
    await platform.bet(a, room, Side.YES, 1_000_000_007)
    await platform.bet(b, room, Side.NO, 3_333_333_333)
    ok(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("300"), instant=True
        )
    )
    async with platform.deps.uow() as uow:
        assert await uow.ledger.balance(escrow_account(room.id)) == 0


async def test_bets_at_or_after_the_triggering_observation_are_refunded(
    platform: Platform,
) -> None:
    host = await platform.user()
    a, b, late_yes, late_no = [await platform.user() for _ in range(4)]
    room = await platform.room(host)
    await platform.bet(a, room, Side.YES, sol(1))
    await platform.bet(b, room, Side.NO, sol(1))
    platform.clock.advance(10)
    hit = platform.observation("201")  # observed now; the monitor sees it a poll later
    await platform.bet(late_yes, room, Side.YES, sol(5))
    platform.clock.advance(2)
    await platform.bet(late_no, room, Side.NO, sol(5))
    platform.clock.advance(1)
    ok(await settle_room(platform.deps, room_id=room.id, observation=hit, instant=True))
    assert await platform.balance(late_yes) == sol(100)
    assert await platform.balance(late_no) == sol(100)
    assert await platform.balance(a) == sol(99) + sol(2) - sol("0.06")
    async with platform.deps.uow() as uow:
        late = await uow.bets.get_by_user_and_room(late_no.id, room.id)
    assert late is not None
    assert (late.status, late.refund_reason) == (BetStatus.REFUNDED, RefundReason.LATE_BET)
    platform.check_invariants()


class Crash(Exception):
    pass


async def test_a_crash_mid_settlement_leaves_no_partial_state_and_can_be_retried(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = await platform.user()
    a, b = await platform.user(), await platform.user()
    room = await platform.room(host)
    await platform.bet(a, room, Side.YES, sol(1))
    await platform.bet(b, room, Side.NO, sol(1))
    before = dict(platform.store.balances)

    from rooms_adapters.memory import uow as uow_module

    original = uow_module.InMemoryReferralRepository.record_reward

    async def crash(*args: object, **kwargs: object) -> None:
        raise Crash

    monkeypatch.setattr(uow_module.InMemoryBetRepository, "record_results", crash)
    with pytest.raises(Crash):
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("300"), instant=True
        )
    assert dict(platform.store.balances) == before
    assert (await platform.get_room(room.id)).state is RoomState.OPEN
    monkeypatch.undo()
    assert uow_module.InMemoryReferralRepository.record_reward is original
    ok(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("300"), instant=True
        )
    )
    assert (await platform.get_room(room.id)).state is RoomState.SETTLED
    platform.check_invariants()


async def test_settlement_at_settle_at_uses_the_observation_for_the_outcome(
    platform: Platform,
) -> None:
    host = await platform.user()
    a, b = await platform.user(), await platform.user()
    room = await platform.room(host, target="100", minutes=30)
    await platform.bet(a, room, Side.YES, sol(1))
    await platform.bet(b, room, Side.NO, sol(1))
    platform.clock.advance_to(room.settle_at + timedelta(seconds=1))
    plan = ok(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("150"), instant=False
        )
    )
    assert plan.outcome is Side.YES
