"""Moving real SOL: watching deposit addresses, and sending withdrawals exactly once.

Both run through the chain and signer ports, so they work the same on LiteSVM, on any RPC
node, with the local signer or Turnkey.

**Deposits.** Each user's deposit address is scanned for signatures newer than its cursor
(the newest signature already processed), oldest first. Every successful System transfer to
the address is credited through :func:`rooms_core.services.wallet.credit_deposit`, whose key
(signature, address, instruction index) makes a repeat — after a crash, or by a second
watcher — change nothing; the cursor advances after each transaction.

**Sweeps.** Credited deposits are moved from the users' deposit addresses to the hot wallet
(whole balances; the hot wallet pays the fee, so a deposit arrives whole), which is where
withdrawals are paid from. A sweep changes no balance in the ledger: both ends are ours.

**Solvency.** What we hold on chain (the hot wallet and the unswept deposit addresses) must
cover what we owe (every user balance, every stake in a room not yet closed, every reserved
withdrawal). :func:`check_solvency` measures it and records a deficit in the audit log;
:func:`process_withdrawals` signs nothing new while there is one.

**Withdrawals.** An APPROVED withdrawal is signed and its signature, blockhash and last
valid block height are recorded (state SENT) in the unit of work that holds the withdrawal,
*before* the transaction is sent: a withdrawal never gets a second signature. A SENT one is
then checked: found and succeeded -> confirmed; found and failed -> released; not found and
its blockhash still valid -> the same signed transaction is sent again (the same bytes:
ed25519 signatures are deterministic); not found and the blockhash expired -> it can never
land: released to the user's balance (RULES 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from returns.result import Failure, Result, Success

from rooms_core.ledger import PENDING_WITHDRAWALS
from rooms_core.models import NotificationKind, Withdrawal, WithdrawalState
from rooms_core.money import format_sol
from rooms_core.notifications import notify
from rooms_core.ports.chain import Blockhash, Chain, ChainError
from rooms_core.ports.signer import Signer
from rooms_core.services import wallet
from rooms_core.services.deps import Deps


@dataclass(slots=True)
class DepositScan:
    addresses: int = 0
    transactions: int = 0
    credited: int = 0  # payments credited now
    repeats: int = 0  # payments credited before
    errors: list[str] = field(default_factory=list)


async def watch_deposits(deps: Deps, chain: Chain, *, page: int = 1000) -> DepositScan:
    """Scan every deposit address once (see the module docstring)."""
    scan = DepositScan()
    after = 0
    while True:
        async with deps.uow() as uow:
            users = await uow.users.with_deposit_address(after, 500)
        if not users:
            return scan
        for user in users:
            assert user.deposit_address is not None
            scan.addresses += 1
            error = await _scan_address(deps, chain, user.deposit_address, page, scan)
            if error is not None:
                scan.errors.append(f"{user.deposit_address}: {error.message}")
        after = users[-1].id


async def _scan_address(
    deps: Deps, chain: Chain, address: str, page: int, scan: DepositScan
) -> ChainError | None:
    async with deps.uow() as uow:
        cursor = await uow.deposits.get_cursor(address)
    newest_first: list[str] = []
    before: str | None = None
    while True:
        listed = await chain.signatures_for_address(
            address, before=before, until=cursor, limit=page
        )
        if isinstance(listed, Failure):
            listing_error: ChainError = listed.failure()
            return listing_error
        infos = listed.unwrap()
        newest_first.extend(i.signature for i in infos if not i.failed)
        if len(infos) < page:
            break
        before = infos[-1].signature
    for signature in reversed(newest_first):
        fetched = await chain.transaction(signature)
        if isinstance(fetched, Failure):
            reading_error: ChainError = fetched.failure()
            return reading_error  # the cursor stays before it: retried next scan
        details = fetched.unwrap()
        scan.transactions += 1
        if details is not None and details.succeeded:
            for transfer in details.transfers:
                if transfer.destination != address or transfer.lamports <= 0:
                    continue
                credited = await wallet.credit_deposit(
                    deps,
                    address=address,
                    signature=signature,
                    instruction_index=transfer.instruction_index,
                    amount=transfer.lamports,
                )
                if isinstance(credited, Success) and credited.unwrap():
                    scan.credited += 1
                else:
                    scan.repeats += 1
        async with deps.uow() as uow:
            await uow.deposits.set_cursor(address, signature)
            await uow.commit()
    return None


@dataclass(slots=True)
class SweepRun:
    swept: dict[str, int] = field(default_factory=dict)  # address -> lamports
    errors: list[str] = field(default_factory=list)


async def sweep_deposits(
    deps: Deps, chain: Chain, signer: Signer, hot_wallet: str, *, minimum: int
) -> SweepRun:
    """Move every deposit address holding at least ``minimum`` lamports to the hot wallet."""
    run = SweepRun()
    blockhash = await chain.latest_blockhash()
    if isinstance(blockhash, Failure):
        run.errors.append(blockhash.failure().message)
        return run
    after = 0
    while True:
        async with deps.uow() as uow:
            users = await uow.users.with_deposit_address(after, 500)
        if not users:
            return run
        after = users[-1].id
        for user in users:
            address = user.deposit_address or ""
            held = await chain.balance(address)
            if isinstance(held, Failure):
                run.errors.append(f"{address}: {held.failure().message}")
                continue
            amount = held.unwrap()
            if amount < minimum or amount <= 0:
                continue
            unsigned = chain.build_transfer(
                address, hot_wallet, amount, blockhash.unwrap(), fee_payer=hot_wallet
            )
            signatures = []
            for who in unsigned.signers:
                signed = await signer.sign(who, unsigned.message)
                if isinstance(signed, Failure):
                    run.errors.append(f"{address}: {signed.failure().message}")
                    break
                signatures.append(signed.unwrap())
            else:
                signature, raw = chain.assemble(unsigned, *signatures)
                sent = await chain.send_raw_transaction(raw)
                if isinstance(sent, Failure):
                    run.errors.append(f"{address}: {sent.failure().message}")
                    continue
                run.swept[address] = amount
                async with deps.uow() as uow:
                    await uow.audit.append(
                        "system",
                        "deposit.swept",
                        {"address": address, "amount": amount, "signature": signature},
                    )
                    await uow.commit()


@dataclass(frozen=True, slots=True)
class SolvencyReport:
    hot_wallet: int
    deposit_addresses: int  # not yet swept to the hot wallet
    user_balances: int
    in_rooms: int  # stakes in rooms not yet closed
    pending_withdrawals: int

    @property
    def held(self) -> int:
        return self.hot_wallet + self.deposit_addresses

    @property
    def owed(self) -> int:
        return self.user_balances + self.in_rooms + self.pending_withdrawals

    @property
    def surplus(self) -> int:
        """The platform's own money on chain (fees earned less network fees paid)."""
        return self.held - self.owed

    @property
    def solvent(self) -> bool:
        return self.surplus >= 0


async def check_solvency(
    deps: Deps, chain: Chain, hot_wallet: str
) -> Result[SolvencyReport, ChainError]:
    """Held on chain against owed in the ledger; a deficit is written to the audit log."""
    hot = await chain.balance(hot_wallet)
    if isinstance(hot, Failure):
        return Failure(hot.failure())
    on_deposit_addresses = 0
    after = 0
    while True:
        async with deps.uow() as uow:
            users = await uow.users.with_deposit_address(after, 500)
        if not users:
            break
        for user in users:
            held = await chain.balance(user.deposit_address or "")
            if isinstance(held, Failure):
                return Failure(held.failure())
            on_deposit_addresses += held.unwrap()
        after = users[-1].id
    async with deps.uow() as uow:
        totals = await uow.ledger.total_by_prefix(["user:", "escrow:", PENDING_WITHDRAWALS])
        report = SolvencyReport(
            hot_wallet=hot.unwrap(),
            deposit_addresses=on_deposit_addresses,
            user_balances=totals["user:"],
            in_rooms=totals["escrow:"],
            pending_withdrawals=totals[PENDING_WITHDRAWALS],
        )
        if not report.solvent:
            await uow.audit.append(
                "system",
                "solvency.deficit",
                {"held": report.held, "owed": report.owed, "deficit": -report.surplus},
            )
            now = deps.clock.now()
            for admin_id in deps.settings.admin_user_ids:  # at most once an hour each
                await notify(
                    uow,
                    user_id=admin_id,
                    kind=NotificationKind.ADMIN_ALERT,
                    dedupe_key=f"solvency-deficit:{now:%Y-%m-%dT%H}:{admin_id}",
                    at=now,
                    text=f"solvency deficit of {format_sol(-report.surplus)} SOL: "
                    "withdrawals are paused",
                )
            await uow.commit()
    return Success(report)


@dataclass(slots=True)
class WithdrawalRun:
    signed: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    solvency: SolvencyReport | None = None
    paused_by_operators: bool = False

    @property
    def paused(self) -> bool:
        """No new withdrawal was signed: the operators paused withdrawals, or the platform
        could not show it is solvent."""
        return self.paused_by_operators or self.solvency is None or not self.solvency.solvent


async def process_withdrawals(
    deps: Deps, chain: Chain, signer: Signer, hot_wallet: str, *, batch: int = 50
) -> WithdrawalRun:
    """Settle the SENT withdrawals; then, if the platform is solvent and the operators have
    not paused withdrawals, sign, record and send the APPROVED ones."""
    run = WithdrawalRun()
    await _check_sent(deps, chain, signer, hot_wallet, batch, run)
    async with deps.uow() as uow:
        run.paused_by_operators = (await uow.controls.get()).withdrawals_paused
    solvency = await check_solvency(deps, chain, hot_wallet)
    if isinstance(solvency, Failure):
        run.errors.append(f"solvency unknown: {solvency.failure().message}")
        return run
    run.solvency = solvency.unwrap()
    if run.solvency.solvent and not run.paused_by_operators:
        await _sign_approved(deps, chain, signer, hot_wallet, batch, run)
        await _check_sent(deps, chain, signer, hot_wallet, batch, run)
    return run


async def _sign_approved(
    deps: Deps, chain: Chain, signer: Signer, hot_wallet: str, batch: int, run: WithdrawalRun
) -> None:
    blockhash = await chain.latest_blockhash()
    if isinstance(blockhash, Failure):
        run.errors.append(blockhash.failure().message)
        return
    to_send: list[tuple[int, bytes]] = []
    async with deps.uow() as uow:
        # Held (and skipped by other processors) until the signatures are recorded.
        for w in await uow.withdrawals.list_by_state([WithdrawalState.APPROVED], batch):
            unsigned = chain.build_transfer(hot_wallet, w.destination, w.amount, blockhash.unwrap())
            signed = await signer.sign(hot_wallet, unsigned.message)
            if isinstance(signed, Failure):
                run.errors.append(f"withdrawal {w.id}: {signed.failure().message}")
                continue
            signature, raw = chain.assemble(unsigned, signed.unwrap())
            w.state = WithdrawalState.SENT
            w.signature = signature
            w.blockhash = unsigned.blockhash.blockhash
            w.last_valid_block_height = unsigned.blockhash.last_valid_block_height
            w.updated_at = deps.clock.now()
            await uow.withdrawals.update(w)
            await uow.audit.append(
                "system", "withdrawal.signed", {"withdrawal_id": w.id, "signature": signature}
            )
            to_send.append((w.id, raw))
        await uow.commit()
    for withdrawal_id, raw in to_send:
        run.signed.append(withdrawal_id)
        sent = await chain.send_raw_transaction(raw)
        if isinstance(sent, Failure):  # checked like any SENT one on the next pass
            run.errors.append(f"withdrawal {withdrawal_id}: {sent.failure().message}")


async def _check_sent(
    deps: Deps, chain: Chain, signer: Signer, hot_wallet: str, batch: int, run: WithdrawalRun
) -> None:
    async with deps.uow() as uow:
        sent = await uow.withdrawals.list_by_state([WithdrawalState.SENT], batch)
    if not sent:
        return
    statuses = await chain.signature_statuses([w.signature or "" for w in sent])
    height = await chain.block_height()
    if isinstance(statuses, Failure) or isinstance(height, Failure):
        run.errors.append("cannot read signature statuses or the block height")
        return
    for w, status in zip(sent, statuses.unwrap(), strict=True):
        if status.found and status.confirmed and not status.failed:
            if isinstance(await wallet.confirm_withdrawal(deps, withdrawal_id=w.id), Success):
                run.confirmed.append(w.id)
        elif status.found and status.failed:
            released = await wallet.release_withdrawal(
                deps, withdrawal_id=w.id, reason="the transaction failed on chain"
            )
            if isinstance(released, Success):
                run.released.append(w.id)
        elif status.found:
            continue  # seen but not confirmed yet
        elif height.unwrap() > (w.last_valid_block_height or 0):
            released = await wallet.release_withdrawal(
                deps, withdrawal_id=w.id, reason="the transaction expired unsent"
            )
            if isinstance(released, Success):
                run.released.append(w.id)
        else:
            await _resend(chain, signer, hot_wallet, w, run)


async def _resend(
    chain: Chain, signer: Signer, hot_wallet: str, w: Withdrawal, run: WithdrawalRun
) -> None:
    withdrawal_id = w.id
    if w.blockhash is None or w.last_valid_block_height is None:
        run.errors.append(f"withdrawal {withdrawal_id}: SENT without its blockhash")
        return
    unsigned = chain.build_transfer(
        hot_wallet, w.destination, w.amount, Blockhash(w.blockhash, w.last_valid_block_height)
    )
    signed = await signer.sign(hot_wallet, unsigned.message)
    if isinstance(signed, Failure):
        run.errors.append(f"withdrawal {withdrawal_id}: {signed.failure().message}")
        return
    signature, raw = chain.assemble(unsigned, signed.unwrap())
    if signature != w.signature:  # not the recorded transaction: never send another one
        run.errors.append(f"withdrawal {withdrawal_id}: re-signing gave another signature")
        return
    await chain.send_raw_transaction(raw)
    run.resent.append(withdrawal_id)


@dataclass(frozen=True, slots=True)
class Custody:
    """What the custody loop needs: the chain, the signer, the hot wallet's address, and the
    smallest deposit balance worth a sweep's fee."""

    chain: Chain
    signer: Signer
    hot_wallet: str
    sweep_minimum: int = 10_000_000  # 0.01 SOL


@dataclass(slots=True)
class CustodyRun:
    deposits: DepositScan
    sweeps: SweepRun
    withdrawals: WithdrawalRun


async def custody_once(deps: Deps, custody: Custody) -> CustodyRun:
    """One round: credit new deposits, sweep them, and move withdrawals on."""
    deposits = await watch_deposits(deps, custody.chain)
    sweeps = await sweep_deposits(
        deps, custody.chain, custody.signer, custody.hot_wallet, minimum=custody.sweep_minimum
    )
    withdrawals = await process_withdrawals(deps, custody.chain, custody.signer, custody.hot_wallet)
    return CustodyRun(deposits, sweeps, withdrawals)
