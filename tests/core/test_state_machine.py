"""Random sequences of deposits, room creations, bets, settlements, cancellations and replays.

After every step: the ledger sums to zero, cached balances equal their postings, no balance
is negative, every finished room's escrow is empty, payouts follow the formula and no room
pays twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from returns.result import Success

from rooms_adapters.memory.store import InMemoryStore
from rooms_core.ledger import EntryKind, escrow_account
from rooms_core.models import AssetKind, BetStatus, Comparator, Side
from rooms_core.money import BPS_DENOMINATOR, sol
from rooms_core.room import RoomState
from rooms_core.services import bets, rooms, settlement, users, wallet
from tests.support import Platform, make_platform

T = TypeVar("T")


class LedgerMachine(RuleBasedStateMachine):
    """Drives the services of one in-memory platform; subclasses may swap the platform."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.platform: Platform = self.make_platform()
        self.user_ids: list[int] = []
        self.room_ids: list[int] = []
        self.requests: list[tuple[int, int, Side, int, str]] = []
        self.deposits = 0

    def make_platform(self) -> Platform:
        return make_platform()

    def books(self) -> InMemoryStore:
        """The committed state to check (the store itself, in memory)."""
        return self.platform.store

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.loop.close()

    @initialize()
    def populate(self) -> None:
        """Every example starts with funded users and open rooms, so that even short
        examples bet and settle (random sign-ups and rooms follow)."""
        for referrer in (9, 0, 1, 0):
            self.sign_up(referrer=referrer, first_deposit=sol(40))
        self.create_room(host=0, minutes=60, price_target=150)
        self.create_room(host=1, minutes=20, price_target=120)

    @rule(referrer=st.integers(0, 6), first_deposit=st.sampled_from([0, sol(1), sol(10), sol(40)]))
    def sign_up(self, referrer: int, first_deposit: int) -> None:
        code = None
        if self.user_ids and referrer < len(self.user_ids):
            user = self.run(self._get_user(self.user_ids[referrer]))
            code = user.referral_code
        n = len(self.user_ids) + 1
        result = self.run(
            users.register_user(
                self.platform.deps, telegram_id=n, referral_code=code, deposit_address=f"a{n}"
            )
        )
        assert isinstance(result, Success)
        self.user_ids.append(result.unwrap().id)
        if first_deposit:
            self.deposit(who=len(self.user_ids) - 1, amount=first_deposit, replay=False)

    async def _get_user(self, user_id: int):  # type: ignore[no-untyped-def]
        async with self.platform.deps.uow() as uow:
            return await uow.users.get(user_id)

    @precondition(lambda self: self.user_ids)
    @rule(who=st.integers(0, 5), amount=st.integers(sol(5), sol(50)), replay=st.booleans())
    def deposit(self, who: int, amount: int, replay: bool) -> None:
        user_id = self.user_ids[who % len(self.user_ids)]
        self.deposits += 1
        signature = f"s{self.deposits - 1 if replay and self.deposits > 1 else self.deposits}"
        self.run(
            wallet.credit_deposit(
                self.platform.deps,
                address=f"a{user_id}",
                signature=signature,
                instruction_index=0,
                amount=amount,
            )
        )

    @precondition(lambda self: self.user_ids)
    @rule(host=st.integers(0, 30), minutes=st.integers(15, 600), price_target=st.integers(100, 200))
    def create_room(self, host: int, minutes: int, price_target: int) -> None:
        spec = rooms.RoomSpec(
            title="Will SOL cross the line?",
            asset_kind=AssetKind.COIN,
            asset_id="SOL",
            comparator=Comparator.GTE,
            target=Decimal(price_target),
            settle_at=self.platform.clock.now() + timedelta(minutes=minutes),
        )
        result = self.run(
            rooms.create_room(
                self.platform.deps, host_id=self.user_ids[host % len(self.user_ids)], spec=spec
            )
        )
        assert isinstance(result, Success)
        self.room_ids.append(result.unwrap().id)

    @precondition(lambda self: self.user_ids and self.room_ids)
    @rule(
        who=st.integers(0, 5),
        room=st.integers(1, 3),
        side=st.sampled_from(list(Side)),
        stake=st.integers(sol("0.01"), sol(5)),
    )
    def bet(self, who: int, room: int, side: Side, stake: int) -> None:
        user_id = self.user_ids[who % len(self.user_ids)]
        room_id = self.room_ids[-min(room, len(self.room_ids))]  # the newest rooms are open
        key = f"k{len(self.requests)}"
        self.requests.append((user_id, room_id, side, stake, key))
        self.run(
            bets.place_bet(
                self.platform.deps,
                user_id=user_id,
                room_id=room_id,
                side=side,
                stake=stake,
                idempotency_key=key,
            )
        )

    @precondition(lambda self: len(self.user_ids) >= 2 and self.room_ids)
    @rule(
        first=st.integers(0, 5),
        second=st.integers(0, 5),
        room=st.integers(1, 3),
        stakes=st.tuples(st.integers(sol("0.01"), sol(3)), st.integers(sol("0.01"), sol(3))),
    )
    def bet_both_sides(self, first: int, second: int, room: int, stakes: tuple[int, int]) -> None:
        for who, side, stake in ((first, Side.YES, stakes[0]), (second, Side.NO, stakes[1])):
            self.bet(who=who, room=room, side=side, stake=stake)

    @precondition(lambda self: self.requests)
    @rule(which=st.integers(0, 100))
    def replay_bet(self, which: int) -> None:
        user_id, room_id, side, stake, key = self.requests[which % len(self.requests)]
        before = dict(self.books().balances)
        first = self.run(self._bet_for_key(user_id, key))
        result = self.run(
            bets.place_bet(
                self.platform.deps,
                user_id=user_id,
                room_id=room_id,
                side=side,
                stake=stake,
                idempotency_key=key,
            )
        )
        if first is not None:
            assert result == Success(first)
            assert dict(self.books().balances) == before

    async def _bet_for_key(self, user_id: int, key: str):  # type: ignore[no-untyped-def]
        async with self.platform.deps.uow() as uow:
            ref = await uow.idempotency.get(f"bet:{user_id}:{key}")
            return None if ref is None else await uow.bets.get(int(ref))

    @rule(seconds=st.sampled_from([1, 60, 600, 1800, 3600, 4 * 3600]))
    def pass_time(self, seconds: int) -> None:
        self.platform.clock.advance(seconds)

    @precondition(lambda self: self.room_ids)
    @rule(room=st.integers(0, 30))
    def advance(self, room: int) -> None:
        self.run(
            settlement.advance_room(
                self.platform.deps, room_id=self.room_ids[room % len(self.room_ids)]
            )
        )

    @precondition(lambda self: self.room_ids)
    @rule(
        room=st.integers(1, 4),
        price=st.sampled_from([50, 99, 100, 150, 199, 200, 250]),
        instant=st.booleans(),
        attempts=st.integers(1, 3),
        lag=st.sampled_from([0, 0, 0, 5]),
    )
    def settle(self, room: int, price: int, instant: bool, attempts: int, lag: int) -> None:
        room_id = self.room_ids[-min(room, len(self.room_ids))]
        self.platform.clock.advance(1)
        # An instant settlement is only asked for on a hit (targets are 100..200); a lagging
        # observation makes the bets of the last seconds late.
        observation = self.platform.observation(
            "250" if instant else str(price),
            at=self.platform.clock.now() - timedelta(seconds=lag),
        )

        async def many() -> list[object]:
            return list(
                await asyncio.gather(
                    *(
                        settlement.settle_room(
                            self.platform.deps,
                            room_id=room_id,
                            observation=observation,
                            instant=instant,
                        )
                        for _ in range(attempts)
                    )
                )
            )

        results = self.run(many())
        assert sum(isinstance(r, Success) for r in results) <= 1

    @precondition(lambda self: self.room_ids)
    @rule(room=st.integers(0, 30), really=st.integers(0, 4))
    def void(self, room: int, really: int) -> None:
        if really:  # voids are rare, so rooms get the chance to settle
            return
        self.run(
            settlement.void_room(
                self.platform.deps, room_id=self.room_ids[room % len(self.room_ids)], reason="test"
            )
        )

    @invariant()
    def books_balance(self) -> None:
        checks = self.books().books_checks()
        assert all(checks.values()), checks

    @invariant()
    def finished_rooms_are_paid_once_by_the_formula(self) -> None:
        store = self.books()
        for room in store.rooms.values():
            if room.state not in (RoomState.SETTLED, RoomState.CANCELLED, RoomState.VOID):
                continue
            assert store.balances.get(escrow_account(room.id), 0) == 0
            closings = [
                e
                for e in store.entries.values()
                if e.kind is EntryKind.SETTLEMENT and e.key == f"settle:{room.id}"
            ]
            room_bets = [store.bets[i] for i in store.bets_by_room.get(room.id, [])]
            assert len(closings) == (1 if room_bets else 0)
            assert all(b.status is not BetStatus.ACTIVE for b in room_bets)
            if room.state is RoomState.SETTLED:
                counted = [b for b in room_bets if b.status in (BetStatus.WON, BetStatus.LOST)]
                winning = sum(b.stake for b in counted if b.status is BetStatus.WON)
                total = sum(b.stake for b in counted)
                fee = total * room.fee_bps // BPS_DENOMINATOR
                for b in counted:
                    if b.status is BetStatus.WON:
                        assert b.payout == b.stake * (total - fee) // winning
            else:
                assert all(b.payout == b.stake for b in room_bets)


LedgerMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerMachine = LedgerMachine.TestCase
