"""The chain port over the real Solana runtime in-process: transfers signed by the local
signer land, deposits show up per address with cursors, blockhashes expire, resends are
harmless."""

from __future__ import annotations

from returns.result import Failure
from solders.keypair import Keypair

from rooms_adapters.solana.litesvm_chain import BLOCKHASH_VALIDITY, LiteSvmChain
from rooms_adapters.solana.local_signer import InMemoryKeyVault, LocalSigner, MasterKey

SOL = 1_000_000_000


def signer() -> LocalSigner:
    return LocalSigner(MasterKey(bytes(range(32))), InMemoryKeyVault())


async def test_a_withdrawal_signed_by_the_local_signer_lands() -> None:
    chain = LiteSvmChain()
    wallets = signer()
    hot = (await wallets.create_wallet("hot")).unwrap()
    await chain.fund(hot, 5 * SOL)
    destination = str(Keypair().pubkey())
    blockhash = (await chain.latest_blockhash()).unwrap()
    unsigned = chain.build_transfer(hot, destination, 2 * SOL, blockhash)
    signature, raw = chain.assemble(unsigned, (await wallets.sign(hot, unsigned.message)).unwrap())

    assert (await chain.send_raw_transaction(raw)).unwrap() == signature
    assert (await chain.balance(destination)).unwrap() == 2 * SOL
    assert (await chain.balance(hot)).unwrap() == 3 * SOL - 5000  # the fee
    (status,) = (await chain.signature_statuses([signature])).unwrap()
    assert (status.found, status.confirmed, status.failed) == (True, True, False)
    assert (await chain.send_raw_transaction(raw)).unwrap() == signature  # a resend: no-op
    assert (await chain.balance(destination)).unwrap() == 2 * SOL


async def test_deposits_are_listed_per_address_newest_first_with_cursors() -> None:
    chain = LiteSvmChain()
    deposit_address = str(Keypair().pubkey())
    payer = Keypair()
    await chain.fund(str(payer.pubkey()), 10 * SOL)
    paid = [await chain.pay(payer, deposit_address, n * SOL) for n in (1, 2, 3)]

    listed = (await chain.signatures_for_address(deposit_address)).unwrap()
    assert [s.signature for s in listed] == paid[::-1]
    after_first = (await chain.signatures_for_address(deposit_address, until=paid[0])).unwrap()
    assert [s.signature for s in after_first] == paid[:0:-1]
    older = (await chain.signatures_for_address(deposit_address, before=paid[2], limit=1)).unwrap()
    assert [s.signature for s in older] == [paid[1]]
    details = (await chain.transaction(paid[1])).unwrap()
    assert details is not None
    assert details.succeeded
    (transfer,) = details.transfers
    assert (transfer.destination, transfer.lamports) == (deposit_address, 2 * SOL)
    assert transfer.source == str(payer.pubkey())
    assert (await chain.transaction("1" * 64)).unwrap() is None


async def test_expired_blockhashes_and_bad_signatures_are_refused() -> None:
    chain = LiteSvmChain()
    payer = Keypair()
    await chain.fund(str(payer.pubkey()), SOL)
    destination = str(Keypair().pubkey())
    old = (await chain.latest_blockhash()).unwrap()
    unsigned = chain.build_transfer(str(payer.pubkey()), destination, SOL // 2, old)
    chain.advance_blocks(BLOCKHASH_VALIDITY + 1)
    assert (await chain.block_height()).unwrap() > old.last_valid_block_height
    _, raw = chain.assemble(unsigned, bytes(payer.sign_message(unsigned.message)))
    expired = await chain.send_raw_transaction(raw)
    assert isinstance(expired, Failure)
    assert "expired" in expired.failure().reason
    fresh = chain.build_transfer(
        str(payer.pubkey()), destination, SOL // 2, (await chain.latest_blockhash()).unwrap()
    )
    _, forged = chain.assemble(fresh, bytes(Keypair().sign_message(fresh.message)))
    refused = await chain.send_raw_transaction(forged)
    assert isinstance(refused, Failure)
    assert "signature" in refused.failure().reason
    assert (await chain.balance(destination)).unwrap() == 0


def test_addresses_must_be_ed25519_keys() -> None:
    chain = LiteSvmChain()
    assert chain.is_valid_address(str(Keypair().pubkey()))
    assert not chain.is_valid_address("not-base58!")
    assert not chain.is_valid_address("11111111111111111111111111111112")  # off the curve
