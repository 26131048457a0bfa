"""The in-memory unit of work writes in place and keeps an undo log: leaving it without
commit, or on an exception, must leave every table of the store exactly as it was (same
rows, same keys, same order), whatever mix of writes it made."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from typing import Any

import pytest

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.store import InMemoryStore
from rooms_adapters.memory.uow import InMemoryUnitOfWork
from rooms_core.ledger import EntryKind, JournalEntry, Posting, escrow_account, user_account
from rooms_core.models import (
    BetStatus,
    Deposit,
    NotificationKind,
    OutboxMessage,
    PlatformControls,
    Withdrawal,
    WithdrawalState,
)
from rooms_core.parimutuel import BetResult
from rooms_core.room import RoomState
from tests.contract.test_repositories import bet, deposit_entry, room, user
from tests.support import START

_SKIP = {"clock", "lock", "tx", "subscribers"}


def snapshot(store: InMemoryStore) -> dict[str, Any]:
    """Every table as plain values: rows by value, keys in order."""
    out: dict[str, Any] = {}
    for f in fields(store):
        if f.name in _SKIP:
            continue
        value = getattr(store, f.name)
        if isinstance(value, dict):
            out[f.name] = [(k, repr(v)) for k, v in value.items()]
        elif isinstance(value, set):
            out[f.name] = sorted(value)
        elif isinstance(value, list):
            out[f.name] = [repr(v) for v in value]
        else:
            out[f.name] = repr(value)
    return out


def message(message_id: int, user_id: int, key: str) -> OutboxMessage:
    return OutboxMessage(message_id, user_id, NotificationKind.BET_WON, {"n": 1}, key, START, START)


async def committed_store() -> InMemoryStore:
    store = InMemoryStore(clock=VirtualClock(START))
    async with InMemoryUnitOfWork(store) as uow:
        for user_id in (1, 2, 3):
            await uow.users.add(user(user_id, referrer=1 if user_id > 1 else None))
            await uow.ledger.post(deposit_entry(f"d{user_id}", user_id, 1_000))
        await uow.rooms.add(room(1, 1))
        await uow.bets.add(bet(1, 2, 1))
        for message_id in (1, 2, 3):
            await uow.outbox.add(message(message_id, 1, f"m{message_id}"))
        await uow.audit.append("system", "seeded", {"n": 1})
        await uow.commit()
    return store


async def write_everything(uow: InMemoryUnitOfWork) -> None:
    await uow.users.add(user(4, referrer=2))
    changed = await uow.users.get(3)
    assert changed is not None
    changed.username, changed.deposit_address, changed.referrer_id = "x", "addr-new", 2
    await uow.users.update(changed)
    await uow.rooms.add(room(2, 1))
    opened = await uow.rooms.get(1)
    assert opened is not None
    opened.state, opened.yes_pool = RoomState.OPEN, 10
    await uow.rooms.update(opened)
    await uow.bets.add(bet(2, 3, 1))
    await uow.bets.add(bet(3, 2, 2))  # a room with no bets before
    settled = await uow.bets.list_for_room(1)
    await uow.bets.record_results(
        [BetResult(b.id, b.user_id, b.side, b.stake, BetStatus.WON, 5) for b in settled]
    )
    await uow.ledger.post(
        JournalEntry.transfer(
            "bet:1:3", EntryKind.BET, START, user_account(3), escrow_account(1), 7
        )
    )
    await uow.ledger.post(deposit_entry("d4", 4, 50))  # a new account
    await uow.ledger.post(
        JournalEntry(
            "twice",
            EntryKind.BET,
            START,
            (Posting(user_account(1), -3), Posting(user_account(1), -2), Posting("escrow:9", 5)),
        )
    )
    await uow.referrals.record_reward(1, 1, 3, 1, 1)
    await uow.referrals.record_reward(2, 1, 4, 1, 2)
    await uow.outbox.add(message(4, 2, "m4"))
    await uow.outbox.mark_sent(2, START + timedelta(seconds=1))
    await uow.outbox.mark_sent(4, START + timedelta(seconds=1))  # added in this very unit
    await uow.outbox.reschedule(3, START + timedelta(seconds=9), "boom")
    await uow.outbox.give_up(1, START, "gone")
    await uow.audit.append("system", "written", {"n": 2})
    await uow.idempotency.put("k", "1")
    await uow.deposits.add(
        Deposit(
            signature="sig",
            address="addr1",
            instruction_index=0,
            user_id=1,
            amount=5,
            credited_at=START,
        )
    )
    await uow.deposits.set_cursor("addr1", "sig")
    await uow.withdrawals.add(
        Withdrawal(
            id=1,
            user_id=1,
            destination="d",
            amount=5,
            state=WithdrawalState.APPROVED,
            created_at=START,
            idempotency_key="w",
        )
    )
    await uow.controls.set(PlatformControls(betting_paused=True))
    uow.emit()


async def crash_inside(uow: InMemoryUnitOfWork) -> None:
    async with uow:
        await write_everything(uow)
        raise RuntimeError("crash")


@pytest.mark.parametrize("how", ["exception", "no commit", "rollback"])
async def test_leaving_without_commit_restores_every_table(how: str) -> None:
    store = await committed_store()
    seen: list[object] = []
    store.subscribers.append(seen.append)
    before = snapshot(store)
    uow = InMemoryUnitOfWork(store)
    if how == "exception":
        with pytest.raises(RuntimeError, match="crash"):
            await crash_inside(uow)
    else:
        async with uow:
            await write_everything(uow)
            assert snapshot(store) != before  # the writes are in place meanwhile
            if how == "rollback":
                await uow.rollback()
                assert snapshot(store) == before
    assert snapshot(store) == before
    assert seen == []
    assert store.books_checks()["audit_chain_valid"]
    async with InMemoryUnitOfWork(store) as again:  # and the store is usable afterwards
        await write_everything(again)
        await again.commit()
    assert snapshot(store) != before
    assert all(store.books_checks()[k] for k in ("ledger_sums_to_zero", "balances_match_postings"))


async def test_a_commit_keeps_what_came_before_it_and_rolls_back_only_what_came_after() -> None:
    store = await committed_store()
    async with InMemoryUnitOfWork(store) as uow:
        await uow.users.add(user(4))
        await uow.commit()
        after_commit = snapshot(store)
        await uow.users.add(user(5))
    assert snapshot(store) == after_commit
