"""The storage contract every adapter must honour: transactions, uniqueness, copies."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from returns.result import Failure, Success

from rooms_core.audit import verify_chain
from rooms_core.errors import AlreadyBet, InsufficientFunds
from rooms_core.ledger import EXTERNAL_DEPOSITS, EntryKind, JournalEntry, user_account
from rooms_core.models import (
    Bet,
    BetStatus,
    Comparator,
    Deposit,
    NotificationKind,
    OutboxMessage,
    PlatformControls,
    RefundReason,
    Side,
    User,
    Withdrawal,
    WithdrawalState,
)
from rooms_core.parimutuel import BetResult
from rooms_core.ports.storage import BetTotals
from rooms_core.room import Room, RoomState
from tests.contract.conftest import UowFactory
from tests.support import SOL, START


def user(user_id: int, referrer: int | None = None) -> User:
    return User(
        id=user_id,
        telegram_id=100 + user_id,
        referral_code=f"CODE{user_id}",
        referrer_id=referrer,
        deposit_address=f"addr{user_id}",
        created_at=START,
    )


def room(room_id: int, host: int, minutes: int = 60) -> Room:
    return Room(
        id=room_id,
        host_id=host,
        title="A contract room",
        asset=SOL,
        comparator=Comparator.GTE,
        target=Decimal(200),
        created_at=START,
        lock_at=START + timedelta(minutes=minutes * 3 // 4),
        settle_at=START + timedelta(minutes=minutes),
    )


def bet(bet_id: int, user_id: int, room_id: int) -> Bet:
    return Bet(
        id=bet_id,
        room_id=room_id,
        user_id=user_id,
        side=Side.YES,
        stake=10,
        placed_at=START,
        idempotency_key=str(bet_id),
    )


def deposit_entry(key: str, user_id: int, amount: int) -> JournalEntry:
    return JournalEntry.transfer(
        key, EntryKind.DEPOSIT, START, EXTERNAL_DEPOSITS, user_account(user_id), amount
    )


async def test_nothing_is_kept_without_commit(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.ledger.post(deposit_entry("d1", 1, 5))
    async with new_uow() as uow:
        assert await uow.users.get(1) is None
        assert await uow.ledger.balance(user_account(1)) == 0


async def test_committed_changes_are_visible_to_the_next_unit_of_work(
    new_uow: UowFactory,
) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.ledger.post(deposit_entry("d1", 1, 5))
        await uow.commit()
    async with new_uow() as uow:
        found = await uow.users.get(1)
        assert found is not None
        assert found.telegram_id == 101
        assert await uow.users.get_by_telegram_id(101) == found
        assert await uow.users.get_by_referral_code("CODE1") == found
        assert await uow.users.get_by_deposit_address("addr1") == found
        assert await uow.ledger.balance(user_account(1)) == 5
        assert await uow.ledger.trial_balance() == 0


async def test_an_exception_rolls_everything_back(new_uow: UowFactory) -> None:
    try:
        async with new_uow() as uow:
            await uow.users.add(user(1))
            raise RuntimeError("crash")
    except RuntimeError:
        pass
    async with new_uow() as uow:
        assert await uow.users.get(1) is None


async def test_objects_are_copies_until_updated(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.rooms.add(room(1, 1))
        await uow.commit()
    async with new_uow() as uow:
        r = await uow.rooms.get(1)
        assert r is not None
        r.state = RoomState.OPEN
        assert (await uow.rooms.get(1)).state is RoomState.QUEUING  # type: ignore[union-attr]
        await uow.rooms.update(r)
        await uow.commit()
    async with new_uow() as uow:
        assert (await uow.rooms.get(1)).state is RoomState.OPEN  # type: ignore[union-attr]


async def test_ledger_refuses_overdrafts_and_ignores_replays(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        assert await uow.ledger.post(deposit_entry("d1", 1, 5)) == Success(True)
        assert await uow.ledger.post(deposit_entry("d1", 1, 5)) == Success(False)
        overdraft = JournalEntry.transfer("x", EntryKind.BET, START, user_account(1), "escrow:1", 6)
        assert await uow.ledger.post(overdraft) == Failure(InsufficientFunds(user_account(1), 6, 5))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.ledger.balance(user_account(1)) == 5
        assert await uow.ledger.get_entry("x") is None
        assert [e.key for e in await uow.ledger.entries_for(user_account(1))] == ["d1"]
        assert await uow.ledger.balances([user_account(1), EXTERNAL_DEPOSITS]) == {
            user_account(1): 5,
            EXTERNAL_DEPOSITS: -5,
        }


async def test_one_bet_per_user_and_room(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.rooms.add(room(1, 1))
        assert await uow.bets.add(bet(1, 1, 1)) == Success(None)
        assert await uow.bets.add(bet(2, 1, 1)) == Failure(AlreadyBet(1, 1))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.bets.add(bet(3, 1, 1)) == Failure(AlreadyBet(1, 1))
        assert [b.id for b in await uow.bets.list_for_room(1)] == [1]
        assert (await uow.bets.get_by_user_and_room(1, 1)) == await uow.bets.get(1)


async def test_bettor_ids_in_bet_order(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        for user_id in (1, 2, 3):
            await uow.users.add(user(user_id))
        await uow.rooms.add(room(1, 1))
        await uow.rooms.add(room(2, 1))
        await uow.bets.add(bet(1, 3, 1))
        await uow.bets.add(bet(2, 1, 2))
        await uow.bets.add(bet(3, 1, 1))
        assert await uow.bets.bettor_ids(1) == [3, 1]  # this unit of work's own bets count
        await uow.commit()
    async with new_uow() as uow:
        await uow.bets.add(bet(4, 2, 1))
        assert await uow.bets.bettor_ids(1) == [3, 1, 2]
        assert await uow.bets.bettor_ids(2) == [1]
        assert await uow.bets.bettor_ids(3) == []
        await uow.rollback()
    async with new_uow() as uow:
        assert await uow.bets.bettor_ids(1) == [3, 1]


async def test_record_results_of_committed_and_new_bets(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        for user_id in (1, 2, 3):
            await uow.users.add(user(user_id))
        await uow.rooms.add(room(1, 1))
        await uow.bets.add(bet(1, 1, 1))
        await uow.commit()
    won = BetResult(1, 1, Side.YES, 10, BetStatus.WON, 17)
    async with new_uow() as uow:  # taken back: nothing changes
        await uow.bets.record_results([won])
        await uow.rollback()
    async with new_uow() as uow:
        read_before = await uow.bets.get(1)
        assert read_before == bet(1, 1, 1)
        await uow.bets.add(bet(2, 2, 1))  # placed and settled in one unit of work
        refunded = BetResult(2, 2, Side.YES, 10, BetStatus.REFUNDED, 10, RefundReason.LATE_BET)
        await uow.bets.record_results([won, refunded])
        await uow.commit()
    assert read_before == bet(1, 1, 1)  # what was read keeps what it said
    async with new_uow() as uow:
        first, second = await uow.bets.list_for_room(1)
    assert (first.status, first.payout, first.refund_reason) == (BetStatus.WON, 17, None)
    assert (second.status, second.payout, second.refund_reason) == (
        BetStatus.REFUNDED,
        10,
        RefundReason.LATE_BET,
    )
    assert (second.stake, second.user_id) == (10, 2)


async def test_referrer_chains_and_counts(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.users.add(user(2, referrer=1))
        await uow.users.add(user(3, referrer=2))
        await uow.users.add(user(4, referrer=3))
        await uow.users.add(user(5, referrer=1))
        await uow.commit()
    async with new_uow() as uow:
        chains = await uow.users.referrer_chains([4, 5, 1], 3)
        assert chains == {4: [3, 2, 1], 5: [1], 1: []}
        assert await uow.users.referral_counts(1, 3) == [2, 1, 1]


async def test_outbox_dedupes_and_claims_until_sent(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        for _ in range(2):
            await uow.outbox.add(
                OutboxMessage(
                    id=await uow.outbox.next_id(),
                    user_id=1,
                    kind=NotificationKind.BET_WON,
                    payload={"room_id": 1},
                    dedupe_key="won:1",
                    created_at=START,
                    next_attempt_at=START,
                )
            )
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.pending_count() == 1
        (claimed,) = await uow.outbox.claim_due(START, 10)
        await uow.outbox.reschedule(claimed.id, START + timedelta(seconds=5), "busy")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.claim_due(START, 10) == []
        (again,) = await uow.outbox.claim_due(START + timedelta(seconds=5), 10)
        assert again.attempts == 1
        await uow.outbox.mark_sent(again.id, START)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.pending_count() == 0


async def test_audit_records_chain(new_uow: UowFactory) -> None:
    for i in range(3):
        async with new_uow() as uow:
            await uow.audit.append("system", "test", {"i": i})
            await uow.commit()
    async with new_uow() as uow:
        records = await uow.audit.records()
    assert [r.details["i"] for r in records] == [0, 1, 2]
    assert verify_chain(records) == Success(3)


async def test_deposits_are_unique_per_signature_address_and_index(new_uow: UowFactory) -> None:
    d = Deposit(
        signature="s", address="a", instruction_index=0, user_id=1, amount=5, credited_at=START
    )
    async with new_uow() as uow:
        await uow.users.add(user(1))
        assert await uow.deposits.add(d) is True
        assert await uow.deposits.add(d) is False
        assert await uow.deposits.add(d.model_copy(update={"instruction_index": 1})) is True
        await uow.deposits.set_cursor("a", "s")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.deposits.exists("s", "a", 0)
        assert await uow.deposits.get_cursor("a") == "s"


async def test_withdrawals_pending_total(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        for i, state in enumerate(
            [WithdrawalState.APPROVED, WithdrawalState.SENT, WithdrawalState.CONFIRMED], start=1
        ):
            await uow.withdrawals.add(
                Withdrawal(
                    id=i,
                    user_id=1,
                    destination="d",
                    amount=10 * i,
                    state=state,
                    created_at=START,
                    idempotency_key=str(i),
                )
            )
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.withdrawals.pending_total() == 30
        sent = await uow.withdrawals.list_by_state([WithdrawalState.SENT], 10)
        assert [w.id for w in sent] == [2]


async def test_idempotency_keys_are_remembered(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.idempotency.put("k", "42")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.idempotency.get("k") == "42"
        assert await uow.idempotency.get("other") is None


async def test_due_rooms_are_those_past_lock_or_settle(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.rooms.add(room(1, 1, minutes=60))
        await uow.rooms.add(room(2, 1, minutes=600))
        await uow.commit()
    async with new_uow() as uow:
        due = await uow.rooms.due(START + timedelta(minutes=50), 10)
        assert [r.id for r in due] == [1]
        listed = await uow.rooms.list_by_state([RoomState.QUEUING])
        assert [r.id for r in listed] == [1, 2]


async def test_units_of_work_serialise(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.ledger.post(deposit_entry("d", 1, 100))
        await uow.commit()

    async def spend(i: int) -> bool:
        async with new_uow() as uow:
            balance = await uow.ledger.balance(user_account(1))
            await asyncio.sleep(0)
            entry = JournalEntry.transfer(
                f"spend{i}", EntryKind.BET, START, user_account(1), f"escrow:{i}", 30
            )
            if balance < 30 or isinstance(await uow.ledger.post(entry), Failure):
                return False
            await uow.commit()
            return True

    results = await asyncio.gather(*(spend(i) for i in range(10)))
    assert sum(results) == 3
    async with new_uow() as uow:
        assert await uow.ledger.balance(user_account(1)) == 10


async def test_placement_view_reads_what_a_bet_checks(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.users.add(user(2))
        await uow.rooms.add(room(1, 1))
        assert (await uow.bets.add(bet(1, 1, 1))) == Success(None)
        await uow.idempotency.put("bet:1:k", "1")
        await uow.commit()
    async with new_uow() as uow:
        seen = await uow.bets.placement_view(1, 1, "bet:1:k")
        assert seen.previous_ref == "1"
        assert seen.has_bet
        assert seen.user_exists
        assert seen.room is not None
        assert seen.room.id == 1
        fresh = await uow.bets.placement_view(2, 1, "bet:2:k")
        assert (fresh.previous_ref, fresh.has_bet, fresh.user_exists) == (None, False, True)
        nobody = await uow.bets.placement_view(9, 7, "bet:9:k")
        assert (nobody.room, nobody.user_exists) == (None, False)


async def test_a_bet_after_its_view_is_checked_against_the_balance(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.rooms.add(room(1, 1))
        await uow.ledger.post(deposit_entry("d", 1, 50))
        await uow.commit()
    async with new_uow() as uow:
        await uow.bets.placement_view(1, 1, "bet:1:a")
        too_much = JournalEntry.transfer(
            "b1", EntryKind.BET, START, user_account(1), "escrow:1", 60
        )
        assert await uow.ledger.post(too_much) == Failure(
            InsufficientFunds(user_account(1), 60, 50)
        )
        stake = JournalEntry.transfer("b1", EntryKind.BET, START, user_account(1), "escrow:1", 30)
        assert await uow.ledger.post(stake) == Success(True)
        assert await uow.ledger.post(stake) == Success(False)
        again = JournalEntry.transfer("b2", EntryKind.BET, START, user_account(1), "escrow:1", 30)
        assert await uow.ledger.post(again) == Failure(InsufficientFunds(user_account(1), 30, 20))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.ledger.balances([user_account(1), "escrow:1"]) == {
            user_account(1): 20,
            "escrow:1": 30,
        }
        assert await uow.ledger.trial_balance() == 0


async def test_outbox_postpones_without_an_attempt_and_gives_up_for_good(
    new_uow: UowFactory,
) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        for key in ("a", "b"):
            await uow.outbox.add(
                OutboxMessage(
                    id=await uow.outbox.next_id(),
                    user_id=1,
                    kind=NotificationKind.BET_WON,
                    payload={"room_id": 1},
                    dedupe_key=key,
                    created_at=START,
                    next_attempt_at=START,
                )
            )
        await uow.commit()
    async with new_uow() as uow:
        first, second = await uow.outbox.claim_due(START, 10)
        await uow.outbox.postpone(first.id, START + timedelta(seconds=1))
        await uow.outbox.give_up(second.id, START, "blocked")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.claim_due(START, 10) == []
        (again,) = await uow.outbox.claim_due(START + timedelta(seconds=1), 10)
        assert (again.id, again.attempts) == (first.id, 0)
        assert await uow.outbox.pending_count() == 1


async def test_users_with_a_deposit_address_page_by_id(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        for i in range(1, 6):
            await uow.users.add(
                user(i).model_copy(update={"deposit_address": f"a{i}" if i != 3 else None})
            )
        await uow.commit()
    async with new_uow() as uow:
        first = await uow.users.with_deposit_address(0, 2)
        rest = await uow.users.with_deposit_address(first[-1].id, 10)
    assert [u.id for u in first] == [1, 2]
    assert [u.id for u in rest] == [4, 5]


async def test_totals_by_account_prefix(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.users.add(user(2))
        await uow.ledger.post(deposit_entry("d1", 1, 50))
        await uow.ledger.post(deposit_entry("d2", 2, 70))
        await uow.ledger.post(
            JournalEntry.transfer("b", EntryKind.BET, START, user_account(2), "escrow:9", 20)
        )
        await uow.commit()
    async with new_uow() as uow:
        totals = await uow.ledger.total_by_prefix(["user:", "escrow:", "pending:"])
    assert totals == {"user:": 100, "escrow:": 20, "pending:": 0}


async def test_counts_and_totals_for_platform_figures(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        assert await uow.users.count() == 0
        assert await uow.rooms.count_by_state() == {}
        assert await uow.bets.totals() == BetTotals(0, 0)
        for i in (1, 2, 3):
            await uow.users.add(user(i))
        await uow.rooms.add(room(1, 1))
        opened = room(2, 1)
        opened.state = RoomState.OPEN
        await uow.rooms.add(opened)
        await uow.bets.add(bet(1, 2, 1))
        assert await uow.users.count() == 3  # its own uncommitted writes count
        await uow.commit()
    async with new_uow() as uow:
        await uow.bets.add(bet(2, 3, 1).model_copy(update={"stake": 25}))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.users.count() == 3
        assert await uow.rooms.count_by_state() == {RoomState.QUEUING: 1, RoomState.OPEN: 1}
        assert await uow.bets.totals() == BetTotals(count=2, volume=35)


async def test_controls_start_off_and_are_kept(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        assert await uow.controls.get() == PlatformControls()
        await uow.controls.set(PlatformControls(betting_paused=True))
        assert (await uow.controls.get()).betting_paused
        # not committed: nothing kept
    async with new_uow() as uow:
        assert await uow.controls.get() == PlatformControls()
        await uow.users.add(user(1))
        await uow.rooms.add(room(1, 1))
        await uow.controls.set(PlatformControls(betting_paused=True, withdrawals_paused=True))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.controls.get() == PlatformControls(True, True)
        view = await uow.bets.placement_view(1, 1, "bet:1:k")
        assert view.betting_paused
        await uow.controls.set(PlatformControls(withdrawals_paused=True))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.controls.get() == PlatformControls(False, True)
        assert not (await uow.bets.placement_view(1, 1, "bet:1:k")).betting_paused


async def test_a_withdrawal_held_for_update_is_its_newest_state(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.users.add(user(1))
        await uow.withdrawals.add(
            Withdrawal(
                id=1,
                user_id=1,
                destination="dest",
                amount=5,
                state=WithdrawalState.PENDING_APPROVAL,
                created_at=START,
                idempotency_key="w1",
            )
        )
        await uow.commit()

    async def approve() -> None:
        async with new_uow() as uow:
            w = await uow.withdrawals.get_for_update(1)
            assert w is not None
            w.approvals = (*w.approvals, len(w.approvals) + 1)
            await asyncio.sleep(0.01)  # another holder has to wait meanwhile
            await uow.withdrawals.update(w)
            await uow.commit()

    await asyncio.gather(approve(), approve())
    async with new_uow() as uow:
        assert await uow.withdrawals.get_for_update(404) is None
        held = await uow.withdrawals.get_for_update(1)
        assert held is not None
        assert held.approvals == (1, 2)  # neither update was lost
