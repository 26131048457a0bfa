"""Domain events: every state change emits one, published only after its commit."""

from __future__ import annotations

from rooms_core import events
from rooms_core.errors import InsufficientBalance
from rooms_core.models import Side
from rooms_core.money import sol
from rooms_core.services.settlement import advance_room, settle_room
from tests.support import Platform, err, ok


async def test_a_room_life_emits_events_in_order(platform: Platform) -> None:
    seen: list[events.DomainEvent] = []
    platform.store.subscribers.append(seen.append)
    host, a, b = await platform.user(), await platform.user(), await platform.user()
    room = await platform.room(host)
    await platform.bet(a, room, Side.YES, sol(1))
    await platform.bet(b, room, Side.NO, sol(1))
    platform.clock.advance_to(room.lock_at)
    ok(await advance_room(platform.deps, room_id=room.id))
    platform.clock.advance(1)
    ok(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("300"), instant=True
        )
    )
    room_events = [type(e).__name__ for e in seen if getattr(e, "room_id", None) == room.id]
    assert room_events == [
        "RoomCreated",
        "BetPlaced",
        "RoomOpened",
        "BetPlaced",
        "RoomLocked",
        "RoomSettling",
        "RoomSettled",
    ]
    assert sum(isinstance(e, events.DepositCredited) for e in seen) == 3


async def test_failed_requests_publish_nothing(platform: Platform) -> None:
    poor = await platform.user(deposit=sol(1))
    room = await platform.room(await platform.user())
    before = len(platform.store.events)
    assert isinstance(
        err(await platform.try_bet(poor, room, Side.YES, sol(5))), InsufficientBalance
    )
    assert len(platform.store.events) == before


async def test_events_of_a_copy_are_not_raised_again(platform: Platform) -> None:
    host, a, b = await platform.user(), await platform.user(), await platform.user()
    room = await platform.room(host)
    await platform.bet(a, room, Side.YES, sol(1))
    await platform.bet(b, room, Side.NO, sol(1))
    again = await platform.get_room(room.id)
    assert again.pull_events() == []
    opened = [e for e in platform.store.events if isinstance(e, events.RoomOpened)]
    assert len(opened) == 1
