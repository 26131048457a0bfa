"""Balances, deposits and the ledger side of withdrawals.

On-chain work (watching addresses, signing, sending) happens in workers that call these
services; here every movement is a balanced journal entry:

* deposit:           external:deposits  -> user
* withdrawal request user               -> pending:withdrawals   (the reservation)
* confirmed          pending:withdrawals -> external:withdrawals
* failed / rejected  pending:withdrawals -> user                  (released)
"""

from __future__ import annotations

from collections.abc import Sequence

from returns.result import Failure, Result, Success

from rooms_core.base58 import is_solana_address, is_wallet_address
from rooms_core.errors import (
    DepositError,
    IdempotencyConflict,
    InsufficientBalance,
    InsufficientFunds,
    InvalidWithdrawalAddress,
    NonPositiveAmount,
    UnknownDepositAddress,
    UserNotFound,
    WithdrawalBelowMinimum,
    WithdrawalError,
    WithdrawalNotFound,
    WithdrawalsPaused,
    WithdrawalStateConflict,
)
from rooms_core.events import DepositCredited, WithdrawalChanged
from rooms_core.ledger import (
    EXTERNAL_DEPOSITS,
    EXTERNAL_WITHDRAWALS,
    PENDING_WITHDRAWALS,
    EntryKind,
    JournalEntry,
    user_account,
)
from rooms_core.models import Deposit, NotificationKind, Withdrawal, WithdrawalState
from rooms_core.notifications import notify
from rooms_core.ports.storage import UnitOfWork
from rooms_core.services.deps import Deps


async def balance(deps: Deps, *, user_id: int) -> int:
    """A user's available balance in lamports."""
    async with deps.uow() as uow:
        return await uow.ledger.balance(user_account(user_id))


async def credit_deposit(
    deps: Deps, *, address: str, signature: str, instruction_index: int, amount: int
) -> Result[bool, DepositError]:
    """Credit one on-chain payment to the owner of ``address``, exactly once.

    The payment is identified by (signature, address, instruction index): one transaction
    may pay several of our addresses. ``Success(False)`` means it was credited before.
    """
    if amount <= 0:
        return Failure(NonPositiveAmount(amount))
    now = deps.clock.now()
    async with deps.uow() as uow:
        user = await uow.users.get_by_deposit_address(address)
        if user is None:
            return Failure(UnknownDepositAddress(address))
        deposit = Deposit(
            signature=signature,
            address=address,
            instruction_index=instruction_index,
            user_id=user.id,
            amount=amount,
            credited_at=now,
        )
        if not await uow.deposits.add(deposit):
            return Success(False)
        entry = JournalEntry.transfer(
            f"deposit:{signature}:{address}:{instruction_index}",
            EntryKind.DEPOSIT,
            now,
            EXTERNAL_DEPOSITS,
            user_account(user.id),
            amount,
        )
        posted = await uow.ledger.post(entry)
        if isinstance(posted, Failure) or not posted.unwrap():
            return Success(False)
        await notify(
            uow,
            user_id=user.id,
            kind=NotificationKind.DEPOSIT_CREDITED,
            dedupe_key=f"deposit:{signature}:{address}:{instruction_index}",
            at=now,
            amount=amount,
            signature=signature,
        )
        uow.emit(DepositCredited(user.id, amount, signature, now))
        await uow.audit.append(
            "system",
            "deposit.credited",
            {"user_id": user.id, "amount": amount, "signature": signature},
        )
        await uow.commit()
        return Success(True)


def check_destination(address: str) -> Result[str, InvalidWithdrawalAddress]:
    """A withdrawal can go only to a Solana wallet address someone can sign for (on the
    ed25519 curve): not a program-derived address, not garbage."""
    address = address.strip()
    if not is_solana_address(address):
        return Failure(InvalidWithdrawalAddress(address, "not a Solana address"))
    if not is_wallet_address(address):
        return Failure(
            InvalidWithdrawalAddress(
                address, "not a wallet address (off the ed25519 curve: nobody can sign for it)"
            )
        )
    return Success(address)


async def request_withdrawal(
    deps: Deps,
    *,
    user_id: int,
    destination: str,
    amount: int,
    idempotency_key: str,
) -> Result[Withdrawal, WithdrawalError]:
    """Reserve ``amount`` for a withdrawal to ``destination``.

    Large amounts (at or above the approval threshold) wait for distinct admins' approval.
    Refused with ``WithdrawalsPaused`` while the operators have paused withdrawals.
    """
    settings = deps.settings
    request_key = f"withdraw:{user_id}:{idempotency_key}"
    if amount <= 0:
        return Failure(NonPositiveAmount(amount))
    if amount < settings.min_withdrawal:
        return Failure(WithdrawalBelowMinimum(amount, settings.min_withdrawal))
    checked = check_destination(destination)
    if isinstance(checked, Failure):
        return Failure(checked.failure())
    destination = checked.unwrap()
    now = deps.clock.now()
    async with deps.uow() as uow:
        previous = await uow.idempotency.get(request_key)
        if previous is not None:
            existing = await uow.withdrawals.get(int(previous))
            if existing and (existing.destination, existing.amount) == (destination, amount):
                return Success(existing)
            return Failure(IdempotencyConflict(idempotency_key))
        if (await uow.controls.get()).withdrawals_paused:
            return Failure(WithdrawalsPaused())
        if await uow.users.get(user_id) is None:
            return Failure(UserNotFound(user_id))
        if await uow.users.get_by_deposit_address(destination) is not None:
            return Failure(InvalidWithdrawalAddress(destination, "that is a ROOMS deposit address"))
        needs_approval = amount >= settings.withdrawal_approval_threshold
        withdrawal = Withdrawal(
            id=await uow.withdrawals.next_id(),
            user_id=user_id,
            destination=destination,
            amount=amount,
            state=WithdrawalState.PENDING_APPROVAL if needs_approval else WithdrawalState.APPROVED,
            created_at=now,
            idempotency_key=idempotency_key,
            updated_at=now,
        )
        posted = await uow.ledger.post(
            JournalEntry.transfer(
                f"withdraw-reserve:{withdrawal.id}",
                EntryKind.WITHDRAWAL_RESERVE,
                now,
                user_account(user_id),
                PENDING_WITHDRAWALS,
                amount,
            )
        )
        if isinstance(posted, Failure):
            return Failure(InsufficientBalance(amount, posted.failure().available))
        await uow.withdrawals.add(withdrawal)
        _emit_change(uow, withdrawal)
        await uow.idempotency.put(request_key, str(withdrawal.id))
        await uow.audit.append(
            f"user:{user_id}",
            "withdrawal.requested",
            {"withdrawal_id": withdrawal.id, "amount": amount, "destination": destination},
        )
        await uow.commit()
        return Success(withdrawal)


async def approve_withdrawal(
    deps: Deps, *, withdrawal_id: int, admin_id: int
) -> Result[Withdrawal, WithdrawalError]:
    """Record one admin's approval; the withdrawal is APPROVED once enough distinct admins
    have approved it."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        w = await uow.withdrawals.get_for_update(withdrawal_id)
        if w is None:
            return Failure(WithdrawalNotFound(withdrawal_id))
        if w.state is not WithdrawalState.PENDING_APPROVAL:
            return Failure(WithdrawalStateConflict(w.id, w.state.value))
        if admin_id not in w.approvals:
            w.approvals = (*w.approvals, admin_id)
        if len(w.approvals) >= deps.settings.withdrawal_approvals_needed:
            w.state = WithdrawalState.APPROVED
        w.updated_at = now
        await uow.withdrawals.update(w)
        _emit_change(uow, w)
        await uow.audit.append(
            f"admin:{admin_id}", "withdrawal.approved", {"withdrawal_id": w.id, "state": w.state}
        )
        await uow.commit()
        return Success(w)


async def record_withdrawal_sent(
    deps: Deps,
    *,
    withdrawal_id: int,
    signature: str,
    blockhash: str,
    last_valid_block_height: int,
) -> Result[Withdrawal, WithdrawalError]:
    """Store the signed transaction's signature and blockhash before it is sent."""
    async with deps.uow() as uow:
        w = await uow.withdrawals.get_for_update(withdrawal_id)
        if w is None:
            return Failure(WithdrawalNotFound(withdrawal_id))
        if w.state is WithdrawalState.SENT and w.signature == signature:
            return Success(w)  # a repeat of this very recording
        if w.state is not WithdrawalState.APPROVED:
            # Never a second signature for a withdrawal: both could land (paid twice).
            return Failure(WithdrawalStateConflict(w.id, w.state.value))
        w.state = WithdrawalState.SENT
        w.signature = signature
        w.blockhash = blockhash
        w.last_valid_block_height = last_valid_block_height
        w.updated_at = deps.clock.now()
        await uow.withdrawals.update(w)
        _emit_change(uow, w)
        await uow.audit.append(
            "system", "withdrawal.signed", {"withdrawal_id": w.id, "signature": signature}
        )
        await uow.commit()
        return Success(w)


async def confirm_withdrawal(
    deps: Deps, *, withdrawal_id: int
) -> Result[Withdrawal, WithdrawalError]:
    """The transfer landed: the reservation becomes a withdrawal."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        w = await uow.withdrawals.get_for_update(withdrawal_id)
        if w is None:
            return Failure(WithdrawalNotFound(withdrawal_id))
        if w.state is not WithdrawalState.SENT:
            return Failure(WithdrawalStateConflict(w.id, w.state.value))
        _require_posted(
            await uow.ledger.post(
                JournalEntry.transfer(
                    f"withdraw-done:{w.id}",
                    EntryKind.WITHDRAWAL_COMPLETE,
                    now,
                    PENDING_WITHDRAWALS,
                    EXTERNAL_WITHDRAWALS,
                    w.amount,
                )
            )
        )
        w.state = WithdrawalState.CONFIRMED
        w.updated_at = now
        await uow.withdrawals.update(w)
        _emit_change(uow, w)
        await notify(
            uow,
            user_id=w.user_id,
            kind=NotificationKind.WITHDRAWAL_SENT,
            dedupe_key=f"withdrawal:{w.id}",
            at=now,
            amount=w.amount,
            signature=w.signature or "",
        )
        await uow.audit.append(
            "system", "withdrawal.confirmed", {"withdrawal_id": w.id, "amount": w.amount}
        )
        await uow.commit()
        return Success(w)


async def release_withdrawal(
    deps: Deps,
    *,
    withdrawal_id: int,
    reason: str,
    actor: str = "system",
    rejected: bool = False,
    only_from: Sequence[WithdrawalState] | None = None,
) -> Result[Withdrawal, WithdrawalError]:
    """The withdrawal failed, expired or was rejected: release the reservation.

    ``only_from``: the states it may be released from (an admin's rejection: only while it
    waits for approval); by default any state but a final one."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        w = await uow.withdrawals.get_for_update(withdrawal_id)
        if w is None:
            return Failure(WithdrawalNotFound(withdrawal_id))
        if w.state in (
            WithdrawalState.CONFIRMED,
            WithdrawalState.FAILED,
            WithdrawalState.REJECTED,
        ) or (only_from is not None and w.state not in only_from):
            return Failure(WithdrawalStateConflict(w.id, w.state.value))
        _require_posted(
            await uow.ledger.post(
                JournalEntry.transfer(
                    f"withdraw-release:{w.id}",
                    EntryKind.WITHDRAWAL_RELEASE,
                    now,
                    PENDING_WITHDRAWALS,
                    user_account(w.user_id),
                    w.amount,
                )
            )
        )
        w.state = WithdrawalState.REJECTED if rejected else WithdrawalState.FAILED
        w.failure_reason = reason
        w.updated_at = now
        await uow.withdrawals.update(w)
        _emit_change(uow, w)
        await notify(
            uow,
            user_id=w.user_id,
            kind=NotificationKind.WITHDRAWAL_FAILED,
            dedupe_key=f"withdrawal:{w.id}",
            at=now,
            amount=w.amount,
            reason=reason,
        )
        await uow.audit.append(
            actor, "withdrawal.released", {"withdrawal_id": w.id, "reason": reason}
        )
        await uow.commit()
        return Success(w)


def _emit_change(uow: UnitOfWork, w: Withdrawal) -> None:
    uow.emit(WithdrawalChanged(w.id, w.user_id, w.state.value, w.updated_at or w.created_at))


def _require_posted(result: Result[bool, InsufficientFunds]) -> None:
    if isinstance(result, Failure):  # the pending account holds every reservation: a bug
        raise RuntimeError(f"withdrawal ledger out of balance: {result.failure()}")
