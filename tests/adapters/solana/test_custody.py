"""Deposits and withdrawals end to end on the real Solana runtime (LiteSVM) with the local
signer: each payment credited once, each withdrawal paid once, whatever is repeated."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

from returns.result import Failure, Result, Success
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from rooms_adapters.solana.litesvm_chain import BLOCKHASH_VALIDITY, LiteSvmChain
from rooms_adapters.solana.local_signer import InMemoryKeyVault, LocalSigner, MasterKey
from rooms_adapters.solana.rpc_chain import SolanaRpcChain
from rooms_core.errors import WithdrawalsPaused
from rooms_core.ledger import EXTERNAL_WITHDRAWALS, PENDING_WITHDRAWALS
from rooms_core.models import NotificationKind, Side, User, WithdrawalState
from rooms_core.ports.chain import ChainError
from rooms_core.services import admin as admin_service
from rooms_core.services import settlement, users, wallet
from rooms_core.services.custody import (
    check_solvency,
    process_withdrawals,
    sweep_deposits,
    watch_deposits,
)
from rooms_core.settings import RoomsSettings
from tests.adapters.solana.conftest import ChainKit
from tests.adapters.solana.rpc_server import LiteSvmRpcServer
from tests.support import Platform, make_platform, ok

SOL = 1_000_000_000


async def customer(platform: Platform, signer: LocalSigner, n: int) -> User:
    address = (await signer.create_wallet(f"user:{n}")).unwrap()
    return ok(
        await users.register_user(platform.deps, telegram_id=5000 + n, deposit_address=address)
    )


def address(user: User) -> str:
    assert user.deposit_address is not None
    return user.deposit_address


async def test_each_payment_is_credited_once_whatever_is_repeated(platform: Platform) -> None:
    chain = LiteSvmChain()
    signer = LocalSigner(MasterKey(bytes(32)), InMemoryKeyVault())
    alice, bob = await customer(platform, signer, 1), await customer(platform, signer, 2)
    payer = Keypair()
    await chain.fund(str(payer.pubkey()), 100 * SOL)
    for amount in (1, 2, 3):
        await chain.pay(payer, address(alice), amount * SOL)
    # One transaction paying both of our addresses (RULES 7), and one that fails.
    blockhash = (await chain.latest_blockhash()).unwrap()
    both = Message.new_with_blockhash(
        [
            transfer(TransferParams(from_pubkey=payer.pubkey(),
                                    to_pubkey=Pubkey.from_string(address(alice)), lamports=SOL)),
            transfer(TransferParams(from_pubkey=payer.pubkey(),
                                    to_pubkey=Pubkey.from_string(address(bob)), lamports=4 * SOL)),
        ],
        payer.pubkey(),
        Hash.from_string(blockhash.blockhash),
    )  # fmt: skip
    raw = bytes(Transaction.populate(both, [payer.sign_message(bytes(both))]))
    assert isinstance(await chain.send_raw_transaction(raw), Success)
    poor = Keypair()
    await chain.fund(str(poor.pubkey()), SOL // 100)
    await chain.pay(poor, address(bob), SOL)  # more than it has: lands as a failure

    first = await watch_deposits(platform.deps, chain)
    assert (first.credited, first.errors) == (5, [])
    assert await platform.balance(alice) == 7 * SOL
    assert await platform.balance(bob) == 4 * SOL

    again = await watch_deposits(platform.deps, chain)  # the cursors: nothing new
    assert (again.credited, again.transactions) == (0, 0)
    async with platform.deps.uow() as uow:  # a crash lost the cursor: everything rescanned
        await uow.deposits.set_cursor(address(alice), "1" * 64)
        await uow.commit()
    twice = await asyncio.gather(watch_deposits(platform.deps, chain),
                                 watch_deposits(platform.deps, chain))  # fmt: skip
    assert sum(s.credited for s in twice) == 0
    assert await platform.balance(alice) == 7 * SOL
    platform.check_invariants()


class DroppingChain(LiteSvmChain):
    """Loses the next ``drops`` sends (a timeout after which nobody knows what happened)."""

    drops = 0

    async def send_raw_transaction(self, raw: bytes) -> Result[str, ChainError]:
        if self.drops:
            self.drops -= 1
            return Failure(ChainError("timed out"))
        return await super().send_raw_transaction(raw)


async def withdrawal_setup(
    hot_funds: int = 50 * SOL,
) -> tuple[Platform, DroppingChain, LocalSigner, str, User, str]:
    """A hot wallet, and a user who deposited 10 SOL on chain (credited, not swept)."""
    platform = make_platform(RoomsSettings(min_withdrawal=SOL))
    chain = DroppingChain()
    signer = LocalSigner(MasterKey(bytes(32)), InMemoryKeyVault())
    hot = (await signer.create_wallet("platform:hot")).unwrap()
    await chain.fund(hot, hot_funds)
    user = await customer(platform, signer, 1)
    await chain.fund(address(user), 10 * SOL)
    assert (await watch_deposits(platform.deps, chain)).credited == 1
    destination = str(Keypair().pubkey())
    return platform, chain, signer, hot, user, destination


async def test_a_withdrawal_is_signed_recorded_sent_and_confirmed_once() -> None:
    platform, chain, signer, hot, user, destination = await withdrawal_setup()
    w = ok(await wallet.request_withdrawal(platform.deps, user_id=user.id,
                                           destination=destination, amount=3 * SOL,
                                           idempotency_key="w1"))  # fmt: skip
    assert w.state is WithdrawalState.APPROVED
    runs = await asyncio.gather(*(process_withdrawals(platform.deps, chain, signer, hot)
                                  for _ in range(3)))  # fmt: skip
    assert sum(len(r.signed) for r in runs) == 1  # one processor signed it
    await process_withdrawals(platform.deps, chain, signer, hot)

    assert (await chain.balance(destination)).unwrap() == 3 * SOL
    assert await platform.balance(user) == 7 * SOL
    assert runs[0].solvency is not None
    assert runs[0].solvency.surplus >= 0
    async with platform.deps.uow() as uow:
        stored = await uow.withdrawals.get(w.id)
        balances = await uow.ledger.balances([PENDING_WITHDRAWALS, EXTERNAL_WITHDRAWALS])
    assert stored is not None
    assert stored.state is WithdrawalState.CONFIRMED
    assert stored.signature is not None
    assert stored.last_valid_block_height is not None
    assert balances == {PENDING_WITHDRAWALS: 0, EXTERNAL_WITHDRAWALS: 3 * SOL}
    platform.check_invariants()


async def test_a_lost_send_is_resent_as_the_same_transaction() -> None:
    platform, chain, signer, hot, user, destination = await withdrawal_setup()
    ok(await wallet.request_withdrawal(platform.deps, user_id=user.id, destination=destination,
                                       amount=2 * SOL, idempotency_key="w"))  # fmt: skip
    chain.drops = 2
    first = await process_withdrawals(platform.deps, chain, signer, hot)
    assert first.signed  # recorded before sending...
    assert first.errors  # ...and the send was lost, then the check's resend too
    assert first.resent == first.signed
    second = await process_withdrawals(platform.deps, chain, signer, hot)
    assert second.resent == first.signed  # the same transaction again: this one lands...
    assert second.confirmed == first.signed  # ...and is confirmed by the pass's last check
    assert (await chain.balance(destination)).unwrap() == 2 * SOL  # paid once


async def test_an_expired_unsent_withdrawal_is_released_and_never_paid() -> None:
    platform, chain, signer, hot, user, destination = await withdrawal_setup()
    ok(await wallet.request_withdrawal(platform.deps, user_id=user.id, destination=destination,
                                       amount=2 * SOL, idempotency_key="w"))  # fmt: skip
    chain.drops = 2  # the send and the resend of the first pass are lost
    await process_withdrawals(platform.deps, chain, signer, hot)
    chain.advance_blocks(BLOCKHASH_VALIDITY + 1)
    run = await process_withdrawals(platform.deps, chain, signer, hot)
    assert len(run.released) == 1
    assert await platform.balance(user) == 10 * SOL
    assert (await chain.balance(destination)).unwrap() == 0
    platform.check_invariants()


async def test_withdrawals_pause_while_the_platform_cannot_cover_its_balances() -> None:
    platform, chain, signer, hot, user, destination = await withdrawal_setup(hot_funds=SOL)
    admin = ok(await users.register_user(platform.deps, telegram_id=99))  # no deposit address
    platform.deps = dataclasses.replace(
        platform.deps, settings=RoomsSettings(min_withdrawal=SOL, admin_user_ids=(admin.id,))
    )
    w = ok(await wallet.request_withdrawal(platform.deps, user_id=user.id,
                                           destination=destination, amount=5 * SOL,
                                           idempotency_key="w"))  # fmt: skip
    # 9 SOL leave the deposit address behind the ledger's back (a stolen key, say).
    blockhash = (await chain.latest_blockhash()).unwrap()
    theft = chain.build_transfer(address(user), str(Keypair().pubkey()), 9 * SOL, blockhash)
    signed = (await signer.sign(address(user), theft.message)).unwrap()
    assert isinstance(await chain.send_raw_transaction(chain.assemble(theft, signed)[1]), Success)

    paused = await process_withdrawals(platform.deps, chain, signer, hot)

    assert paused.paused
    assert paused.solvency is not None
    assert paused.solvency.surplus < 0
    assert paused.signed == []
    async with platform.deps.uow() as uow:
        stored = await uow.withdrawals.get(w.id)
        records = await uow.audit.records()
    assert stored is not None
    assert stored.state is WithdrawalState.APPROVED
    assert records[-1].action == "solvency.deficit"
    async with platform.deps.uow() as uow:
        alerts = [m for m in await uow.outbox.claim_due(platform.clock.now(), 100)
                  if m.kind is NotificationKind.ADMIN_ALERT]  # fmt: skip
    assert [m.user_id for m in alerts] == [admin.id]
    assert "withdrawals are paused" in str(alerts[0].payload["text"])

    await chain.fund(hot, 20 * SOL)  # the operator covers the loss
    resumed = await process_withdrawals(platform.deps, chain, signer, hot)
    assert not resumed.paused
    assert resumed.signed == [w.id]
    assert (await chain.balance(destination)).unwrap() == 5 * SOL


async def test_deposit_bet_win_withdraw_end_to_end_and_the_chain_agrees_with_the_books(
    platform: Platform, chain_kit: ChainKit
) -> None:
    chain, fund = chain_kit.chain, chain_kit.fund
    signer = LocalSigner(MasterKey(bytes(32)), InMemoryKeyVault())
    hot = (await signer.create_wallet("platform:hot")).unwrap()
    await fund(hot, 20 * SOL)  # the operator's float (deposits are not swept here)
    winner, loser, host = [await customer(platform, signer, n) for n in (1, 2, 3)]
    for person in (winner, loser, host):
        await fund(address(person), 10 * SOL)  # "airdrop to their address"
    scans = await asyncio.gather(watch_deposits(platform.deps, chain),
                                 watch_deposits(platform.deps, chain))  # fmt: skip
    assert sum(s.credited for s in scans) == 3  # once each, with two watchers at once
    assert (await watch_deposits(platform.deps, chain)).credited == 0  # a restart: nothing new

    room = await platform.room(host, target="200")
    await platform.bet(winner, room, Side.YES, 4 * SOL)
    await platform.bet(loser, room, Side.NO, 6 * SOL)
    platform.clock.advance(60)
    plan = ok(await settlement.settle_room(platform.deps, room_id=room.id,
                                           observation=platform.observation("250"),
                                           instant=True))  # fmt: skip
    assert plan.outcome is Side.YES
    won = await platform.balance(winner)
    assert won > 10 * SOL

    outside = str(Keypair().pubkey())
    request = ok(await wallet.request_withdrawal(platform.deps, user_id=winner.id,
                                                 destination=outside, amount=won,
                                                 idempotency_key="all"))  # fmt: skip
    await process_withdrawals(platform.deps, chain, signer, hot)
    await process_withdrawals(platform.deps, chain, signer, hot)

    assert (await chain.balance(outside)).unwrap() == won  # exactly the amount
    assert await platform.balance(winner) == 0
    async with platform.deps.uow() as uow:
        stored = await uow.withdrawals.get(request.id)
    assert stored is not None
    assert stored.state is WithdrawalState.CONFIRMED
    solvency = (await check_solvency(platform.deps, chain, hot)).unwrap()
    assert solvency.solvent  # the chain covers every balance...
    # ...and the rest is ours: the float, the protocol's fee and dust, less the network fee.
    assert solvency.surplus == 20 * SOL + plan.protocol_fee + plan.dust - 5000
    platform.check_invariants()


class DyingChain(LiteSvmChain):
    """The transaction lands, then the worker dies before it hears back."""

    die_after_send = False

    async def send_raw_transaction(self, raw: bytes) -> Result[str, ChainError]:
        sent = await super().send_raw_transaction(raw)
        if self.die_after_send:
            self.die_after_send = False
            raise RuntimeError("worker killed after the send")
        return sent


async def test_a_worker_dying_after_the_send_completes_on_restart_without_a_second_transfer() -> (
    None
):
    platform = make_platform(RoomsSettings(min_withdrawal=SOL))
    chain = DyingChain()
    signer = LocalSigner(MasterKey(bytes(32)), InMemoryKeyVault())
    hot = (await signer.create_wallet("platform:hot")).unwrap()
    await chain.fund(hot, 50 * SOL)
    user = await customer(platform, signer, 1)
    await chain.fund(address(user), 10 * SOL)
    await watch_deposits(platform.deps, chain)
    outside = str(Keypair().pubkey())
    ok(await wallet.request_withdrawal(platform.deps, user_id=user.id, destination=outside,
                                       amount=3 * SOL, idempotency_key="w"))  # fmt: skip
    chain.die_after_send = True
    with contextlib.suppress(RuntimeError):  # the process is gone; a new one starts
        await process_withdrawals(platform.deps, chain, signer, hot)

    restarted = await process_withdrawals(platform.deps, chain, signer, hot)

    assert len(restarted.confirmed) == 1
    assert restarted.signed == []
    assert (await chain.balance(outside)).unwrap() == 3 * SOL
    platform.check_invariants()


async def test_the_rpc_chain_fails_over_and_retries() -> None:
    down, up = LiteSvmRpcServer(), LiteSvmRpcServer()
    down.fail_next = 10**6  # always 503
    chain = SolanaRpcChain([down.url, up.url], pause=0.01)
    lonely = SolanaRpcChain([up.url], pause=0.01, rounds=3)
    try:
        await asyncio.to_thread(up.fund, str(Keypair().pubkey()), SOL)
        assert isinstance(await chain.block_height(), Success)  # the second endpoint answered
        assert "getBlockHeight" in up.requests
        up.fail_next = 2  # two bad answers, then the third round gets through
        assert isinstance(await lonely.latest_blockhash(), Success)
        up.fail_next = 3
        gave_up = await lonely.block_height()
        assert isinstance(gave_up, Failure)
        assert gave_up.failure().retryable
        assert "no endpoint answered" in gave_up.failure().reason
        assert up.url not in repr(chain)  # URLs may carry API keys
    finally:
        await chain.close()
        await lonely.close()
        down.close()
        up.close()


async def test_deposits_are_swept_to_the_hot_wallet_which_pays_the_fee(
    platform: Platform, chain_kit: ChainKit
) -> None:
    chain, fund = chain_kit.chain, chain_kit.fund
    signer = LocalSigner(MasterKey(bytes(32)), InMemoryKeyVault())
    hot = (await signer.create_wallet("platform:hot")).unwrap()
    await fund(hot, SOL)
    small, large = await customer(platform, signer, 1), await customer(platform, signer, 2)
    await fund(address(small), SOL // 100)
    await fund(address(large), 7 * SOL)
    await watch_deposits(platform.deps, chain)
    before = (await check_solvency(platform.deps, chain, hot)).unwrap()

    run = await sweep_deposits(platform.deps, chain, signer, hot, minimum=SOL // 10)

    assert (run.swept, run.errors) == ({address(large): 7 * SOL}, [])
    assert (await chain.balance(address(large))).unwrap() == 0
    two_signatures = 2 * 5000  # the hot wallet's and the deposit address's
    assert (await chain.balance(hot)).unwrap() == 8 * SOL - two_signatures  # arrived whole
    after = (await check_solvency(platform.deps, chain, hot)).unwrap()
    assert after.held == before.held - two_signatures  # only the network fee left our hands
    assert await platform.balance(large) == 7 * SOL  # no ledger change
    again = await sweep_deposits(platform.deps, chain, signer, hot, minimum=SOL // 10)
    assert again.swept == {}


async def test_operators_pausing_withdrawals_stops_new_signing_not_the_books() -> None:
    platform, chain, signer, hot, user, destination = await withdrawal_setup()
    admin = ok(await users.register_user(platform.deps, telegram_id=98))
    platform.deps = dataclasses.replace(
        platform.deps, settings=RoomsSettings(min_withdrawal=SOL, admin_user_ids=(admin.id,))
    )
    w = ok(await wallet.request_withdrawal(platform.deps, user_id=user.id,
                                           destination=destination, amount=2 * SOL,
                                           idempotency_key="before"))  # fmt: skip
    ok(await admin_service.set_controls(platform.deps, admin_id=admin.id, withdrawals_paused=True))

    paused = await process_withdrawals(platform.deps, chain, signer, hot)

    assert paused.paused
    assert paused.paused_by_operators
    assert paused.solvency is not None
    assert paused.solvency.solvent
    assert paused.signed == []
    assert (await chain.balance(destination)).unwrap() == 0
    refused = await wallet.request_withdrawal(platform.deps, user_id=user.id,
                                              destination=destination, amount=SOL,
                                              idempotency_key="during")  # fmt: skip
    assert refused == Failure(WithdrawalsPaused())
    assert await platform.balance(user) == 8 * SOL  # only the first one is reserved

    ok(await admin_service.set_controls(platform.deps, admin_id=admin.id, withdrawals_paused=False))
    resumed = await process_withdrawals(platform.deps, chain, signer, hot)
    assert resumed.signed == [w.id]
    await process_withdrawals(platform.deps, chain, signer, hot)
    assert (await chain.balance(destination)).unwrap() == 2 * SOL
    platform.check_invariants()
