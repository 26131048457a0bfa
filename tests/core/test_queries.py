"""The read side: room cards with their odds, pages of rooms, a user's bets and balance
history, and quotes that agree with what settlement then pays."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from returns.result import Failure

from rooms_core.errors import UserNotFound
from rooms_core.ledger import EntryKind
from rooms_core.models import Bet, Side
from rooms_core.money import sol
from rooms_core.parimutuel import payout_multiple, plan_settlement, quote_bet
from rooms_core.room import RoomState
from rooms_core.services import queries, settlement
from tests.support import START, Platform, ok


async def test_a_room_card_shows_multiples_at_the_current_pools(platform: Platform) -> None:
    host = await platform.user()
    room = await platform.room(host)
    empty = ok(await queries.room_view(platform.deps, room_id=room.id))
    assert empty.host_name == host.username
    assert (empty.yes_multiple, empty.no_multiple) == (None, None)  # nothing to win yet

    await platform.bet(await platform.user(), room, Side.YES, sol(3))
    one_sided = ok(await queries.room_view(platform.deps, room_id=room.id))
    assert one_sided.multiple(Side.YES) is None  # as things stand: a refund

    await platform.bet(await platform.user(), room, Side.NO, sol(1))
    view = ok(await queries.room_view(platform.deps, room_id=room.id))
    # T = 4 SOL, fee 3% = 0.12 SOL: YES gets 3.88 / 3, NO gets 3.88 / 1.
    assert view.yes_multiple == Decimal("3.88") / 3
    assert view.no_multiple == Decimal("3.88")


async def test_rooms_come_a_page_at_a_time(platform: Platform) -> None:
    host = await platform.user()
    made = [await platform.room(host) for _ in range(7)]
    first = await queries.list_rooms(platform.deps, page=0, per_page=3)
    second = await queries.list_rooms(platform.deps, page=1, per_page=3)
    third = await queries.list_rooms(platform.deps, page=2, per_page=3)
    assert [v.room.id for v in first.rooms] == [r.id for r in made[:3]]
    assert [v.room.id for v in second.rooms] == [r.id for r in made[3:6]]
    assert [v.room.id for v in third.rooms] == [made[6].id]
    assert (first.has_next, second.has_next, third.has_next) == (True, True, False)
    assert (await queries.list_rooms(platform.deps, page=-4, per_page=3)).page == 0
    settled_only = await queries.list_rooms(platform.deps, states=[RoomState.SETTLED])
    assert settled_only.rooms == []


async def test_my_bets_show_projections_then_profit(platform: Platform) -> None:
    alice, bob = await platform.user(), await platform.user()
    room = await platform.room(await platform.user())
    await platform.bet(alice, room, Side.YES, sol(3))
    await platform.bet(bob, room, Side.NO, sol(1))

    (open_bet,) = await queries.user_bets(platform.deps, user_id=alice.id)
    assert not open_bet.settled
    assert open_bet.profit is None
    assert open_bet.quote is not None
    assert open_bet.quote.payout_if_win == sol("3.88")

    platform.clock.advance(60)
    ok(
        await settlement.settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("201"), instant=True
        )
    )
    (won,) = await queries.user_bets(platform.deps, user_id=alice.id)
    (lost,) = await queries.user_bets(platform.deps, user_id=bob.id)
    assert won.settled
    assert won.profit == sol("0.88")
    assert won.quote is None
    assert lost.profit == -sol(1)
    assert won.room.state is RoomState.SETTLED


async def test_balance_history_is_signed_and_newest_first(platform: Platform) -> None:
    alice = await platform.user()
    room = await platform.room(await platform.user())
    await platform.bet(alice, room, Side.YES, sol(2))
    balance, lines = ok(await queries.balance_history(platform.deps, user_id=alice.id))
    assert balance == sol(98)
    assert [(line.kind, line.amount) for line in lines] == [
        (EntryKind.BET, -sol(2)),
        (EntryKind.DEPOSIT, sol(100)),
    ]
    assert lines[0].room_id == room.id
    assert lines[1].room_id is None
    assert await queries.balance_history(platform.deps, user_id=999) == Failure(UserNotFound(999))


def test_no_multiple_while_a_side_is_empty() -> None:
    assert payout_multiple(0, 5, Side.NO, 300) is None
    assert payout_multiple(5, 0, Side.YES, 300) is None
    assert payout_multiple(sol(100), sol(50), Side.YES, 300) == Decimal("1.455")


def test_a_quote_against_an_empty_side_is_a_refund() -> None:
    quote = quote_bet(0, 0, Side.YES, sol(1), 300)
    assert quote.refund_only
    assert quote.payout_if_win == sol(1)
    assert quote.profit_if_win == 0


@given(
    yes=st.lists(st.integers(1, 10**12), max_size=8),
    no=st.lists(st.integers(1, 10**12), max_size=8),
    side=st.sampled_from(Side),
    stake=st.integers(1, 10**12),
    fee_bps=st.integers(0, 1000),
)
def test_a_quote_is_what_settlement_pays_if_the_pools_stay(
    yes: list[int], no: list[int], side: Side, stake: int, fee_bps: int
) -> None:
    bets = [
        Bet(id=i, room_id=1, user_id=i, side=s, stake=amount, placed_at=START,
            idempotency_key=str(i))
        for i, (s, amount) in enumerate(
            [(Side.YES, a) for a in yes] + [(Side.NO, a) for a in no], start=1
        )
    ]  # fmt: skip
    quote = quote_bet(sum(yes), sum(no), side, stake, fee_bps)
    mine = Bet(id=999, room_id=1, user_id=999, side=side, stake=stake, placed_at=START,
               idempotency_key="mine")  # fmt: skip
    plan = plan_settlement(
        room_id=1,
        outcome=side,
        bets=[*bets, mine],
        trigger_at=None,
        protocol_fee_bps=fee_bps,
        host_fee_bps=0,
        referral_level_bps=(),
        referrer_chains={},
    )
    (result,) = [r for r in plan.results if r.bet_id == 999]
    assert result.payout == quote.payout_if_win
    assert quote.refund_only == (plan.fee == 0 and plan.winning_pool in (0, plan.counted_pool))
    if not quote.refund_only:
        assert quote.fee == plan.fee
