"""Ledger entries, idempotent deposits, withdrawals, the audit chain and the outbox."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rooms_core.audit import AuditChainBroken, canonical_body, record_hash, verify_chain
from rooms_core.errors import (
    InsufficientBalance,
    InvalidWithdrawalAddress,
    UnknownDepositAddress,
    WithdrawalBelowMinimum,
    WithdrawalStateConflict,
)
from rooms_core.ledger import (
    PENDING_WITHDRAWALS,
    EntryKind,
    JournalEntry,
    Posting,
    UnbalancedEntry,
)
from rooms_core.models import NotificationKind, WithdrawalState
from rooms_core.money import sol
from rooms_core.room import RoomState
from rooms_core.services import wallet
from tests.support import Platform, err, ok

OUTSIDE = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"


def test_unbalanced_entries_cannot_be_built() -> None:
    with pytest.raises(UnbalancedEntry):
        JournalEntry(
            key="x",
            kind=EntryKind.DEPOSIT,
            at=datetime(2026, 1, 1, tzinfo=UTC),
            postings=(Posting(account="a", amount=5), Posting(account="b", amount=-4)),
        )


async def test_a_deposit_is_credited_once_per_signature_address_and_index(
    platform: Platform,
) -> None:
    user = await platform.user(deposit=0)
    assert user.deposit_address is not None
    address = user.deposit_address

    async def credit(index: int) -> bool:
        return ok(
            await wallet.credit_deposit(
                platform.deps,
                address=address,
                signature="S1",
                instruction_index=index,
                amount=sol(2),
            )
        )

    assert await credit(0) is True
    assert await credit(0) is False
    assert await credit(1) is True
    assert await platform.balance(user) == sol(4)
    credited = [
        m for m in platform.store.outbox.values() if m.kind is NotificationKind.DEPOSIT_CREDITED
    ]
    assert len(credited) == 2
    platform.check_invariants()


async def test_a_payment_to_an_unknown_address_is_refused(platform: Platform) -> None:
    result = await wallet.credit_deposit(
        platform.deps, address="nobody", signature="S", instruction_index=0, amount=sol(1)
    )
    assert err(result) == UnknownDepositAddress("nobody")
    assert not platform.store.deposits


async def test_small_withdrawal_reserves_then_completes(platform: Platform) -> None:
    user = await platform.user()
    w = ok(
        await wallet.request_withdrawal(
            platform.deps,
            user_id=user.id,
            destination=OUTSIDE,
            amount=sol(30),
            idempotency_key="w1",
        )
    )
    assert w.state is WithdrawalState.APPROVED
    assert await platform.balance(user) == sol(70)
    assert platform.store.balances[PENDING_WITHDRAWALS] == sol(30)
    ok(
        await wallet.record_withdrawal_sent(
            platform.deps,
            withdrawal_id=w.id,
            signature="sig",
            blockhash="bh",
            last_valid_block_height=10,
        )
    )
    done = ok(await wallet.confirm_withdrawal(platform.deps, withdrawal_id=w.id))
    assert done.state is WithdrawalState.CONFIRMED
    assert platform.store.balances[PENDING_WITHDRAWALS] == 0
    assert isinstance(
        err(await wallet.confirm_withdrawal(platform.deps, withdrawal_id=w.id)),
        WithdrawalStateConflict,
    )
    platform.check_invariants()


async def test_failed_withdrawal_releases_the_reservation(platform: Platform) -> None:
    user = await platform.user()
    w = ok(
        await wallet.request_withdrawal(
            platform.deps,
            user_id=user.id,
            destination=OUTSIDE,
            amount=sol(30),
            idempotency_key="w1",
        )
    )
    ok(await wallet.release_withdrawal(platform.deps, withdrawal_id=w.id, reason="expired"))
    assert await platform.balance(user) == sol(100)


async def test_large_withdrawal_needs_two_distinct_admins(platform: Platform) -> None:
    user = await platform.user(deposit=sol(500))
    w = ok(
        await wallet.request_withdrawal(
            platform.deps,
            user_id=user.id,
            destination=OUTSIDE,
            amount=sol(100),
            idempotency_key="big",
        )
    )
    assert w.state is WithdrawalState.PENDING_APPROVAL
    once = ok(await wallet.approve_withdrawal(platform.deps, withdrawal_id=w.id, admin_id=1))
    twice_same = ok(await wallet.approve_withdrawal(platform.deps, withdrawal_id=w.id, admin_id=1))
    assert once.state is twice_same.state is WithdrawalState.PENDING_APPROVAL
    done = ok(await wallet.approve_withdrawal(platform.deps, withdrawal_id=w.id, admin_id=2))
    assert done.state is WithdrawalState.APPROVED


async def test_withdrawal_validation(platform: Platform) -> None:
    user = await platform.user(deposit=sol(1))
    other = await platform.user()
    assert other.deposit_address is not None

    async def request(destination: str, amount: int) -> object:
        return err(
            await wallet.request_withdrawal(
                platform.deps,
                user_id=user.id,
                destination=destination,
                amount=amount,
                idempotency_key=f"{destination}{amount}",
            )
        )

    assert isinstance(await request(OUTSIDE, sol("0.001")), WithdrawalBelowMinimum)
    assert isinstance(await request("nope", sol(1)), InvalidWithdrawalAddress)
    off_curve = err(
        await wallet.request_withdrawal(
            platform.deps,
            user_id=user.id,
            destination="11111111111111111111111111111112",  # 32 bytes nobody can sign for
            amount=sol(1),
            idempotency_key="pda",
        )
    )
    assert isinstance(off_curve, InvalidWithdrawalAddress)
    assert "off the ed25519 curve" in off_curve.reason
    assert isinstance(await request(OUTSIDE, sol(2)), InsufficientBalance)


async def test_audit_log_is_hash_chained_and_detects_tampering(platform: Platform) -> None:
    user = await platform.user()
    room = await platform.room(user)
    assert room.id == 1
    records = list(platform.store.audit)
    assert len(records) >= 3
    assert ok(verify_chain(records)) == len(records)
    tampered = dataclasses.replace(records[1], details={"amount": 1})
    broken = err(verify_chain([records[0], tampered, *records[2:]]))
    assert isinstance(broken, AuditChainBroken)
    assert broken.seq == 2
    removed = err(verify_chain([records[0], *records[2:]]))
    assert isinstance(removed, AuditChainBroken)
    assert removed.seq == 3


async def test_outbox_messages_are_claimed_until_sent(platform: Platform) -> None:
    await platform.user()
    async with platform.deps.uow() as uow:
        claimed = await uow.outbox.claim_due(platform.clock.now(), 10)
        assert claimed
        await uow.outbox.mark_sent(claimed[0].id, platform.clock.now())
        await uow.commit()
    async with platform.deps.uow() as uow:
        again = await uow.outbox.claim_due(platform.clock.now(), 10)
    assert claimed[0].id not in {m.id for m in again}


_DETAIL_VALUES = st.one_of(
    st.none(),
    st.text(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(list(RoomState)),
)


@given(
    seq=st.integers(min_value=1, max_value=2**40),
    at=st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])),
    actor=st.text(),
    action=st.text(),
    details=st.dictionaries(st.text(), _DETAIL_VALUES, max_size=8),
    prev_hash=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)
def test_canonical_body_is_exactly_the_json_encoders_text(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    details: dict[str, str | int | None],
    prev_hash: str,
) -> None:
    """The fast writer of the hashed text must agree with the JSON encoder byte for byte,
    or chains written before it (or by another adapter) would not verify."""
    encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    expected = encoder.encode([seq, at.isoformat(), actor, action, details, prev_hash])
    assert canonical_body(seq, at, actor, action, details, prev_hash) == expected
    assert record_hash(seq, at, actor, action, details, prev_hash) == (
        hashlib.sha256(expected.encode()).hexdigest()
    )
