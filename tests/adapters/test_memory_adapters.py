"""The in-memory clock, signer, chain and messenger, and their conformance to the ports."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from returns.result import Failure, Success

from rooms_adapters.memory.chain import InMemoryChain
from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.container import InMemoryContainer
from rooms_adapters.memory.messenger import InMemoryMessenger
from rooms_adapters.memory.prices import InMemoryPriceSource
from rooms_adapters.memory.signer import InMemorySigner
from rooms_adapters.memory.tokens import SeededTokenSource
from rooms_core.ports.chain import Chain
from rooms_core.ports.clock import Clock
from rooms_core.ports.messenger import Messenger
from rooms_core.ports.prices import PriceOracle, PriceSource
from rooms_core.ports.signer import Signer
from rooms_core.ports.tokens import TokenSource

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_in_memory_adapter_implements_its_port() -> None:
    container = InMemoryContainer(start=START)
    clock: Clock = container.clock()
    tokens: TokenSource = container.tokens()
    signer: Signer = container.signer()
    chain: Chain = container.chain()
    messenger: Messenger = container.messenger()
    oracle: PriceOracle = container.oracle()
    source: PriceSource = InMemoryPriceSource("s", clock)
    assert all((clock, tokens, signer, chain, messenger, oracle, source))


async def test_virtual_clock_wakes_sleepers_in_order() -> None:
    clock = VirtualClock(START)
    woke: list[int] = []

    async def sleeper(seconds: int) -> None:
        await clock.sleep(seconds)
        woke.append(seconds)

    tasks = [asyncio.create_task(sleeper(s)) for s in (30, 10, 20)]
    await asyncio.sleep(0)
    clock.advance(15)
    await asyncio.sleep(0)
    assert woke == [10]
    clock.advance(100)
    await asyncio.gather(*tasks)
    assert woke == [10, 20, 30]
    assert clock.now() == START + timedelta(seconds=115)


def test_virtual_clock_refuses_naive_start_and_going_back() -> None:
    with pytest.raises(ValueError, match="UTC"):
        VirtualClock(datetime(2026, 1, 1))  # noqa: DTZ001
    clock = VirtualClock(START)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance_to(START - timedelta(seconds=1))


def test_seeded_tokens_are_deterministic() -> None:
    assert SeededTokenSource(1).token(10) == SeededTokenSource(1).token(10)
    assert SeededTokenSource(1).token(10) != SeededTokenSource(2).token(10)


async def test_signer_signs_only_for_its_wallets_and_hides_its_seed() -> None:
    signer = InMemorySigner(b"top secret seed")
    address = (await signer.create_wallet("user:1")).unwrap()
    assert (await signer.create_wallet("user:1")).unwrap() == address
    signature = (await signer.sign(address, b"msg")).unwrap()
    assert len(signature) == 64
    assert signer.verify(address, b"msg", signature)
    assert not signer.verify(address, b"other", signature)
    assert isinstance(await signer.sign("unknown", b"msg"), Failure)
    assert "top secret" not in repr(signer)


async def make_chain() -> tuple[InMemorySigner, InMemoryChain, str, str]:
    signer = InMemorySigner(b"seed")
    chain = InMemoryChain(signer.verify)
    hot = (await signer.create_wallet("hot")).unwrap()
    outside = (await InMemorySigner(b"elsewhere").create_wallet("x")).unwrap()
    chain.airdrop(hot, 10_000)
    return signer, chain, hot, outside


async def signed_transfer(
    signer: InMemorySigner, chain: InMemoryChain, source: str, destination: str, lamports: int
) -> tuple[str, bytes]:
    blockhash = (await chain.latest_blockhash()).unwrap()
    unsigned = chain.build_transfer(source, destination, lamports, blockhash)
    signature = (await signer.sign(source, unsigned.message)).unwrap()
    return chain.assemble(unsigned, signature)


async def test_a_signed_transfer_moves_exact_lamports_once() -> None:
    signer, chain, hot, outside = await make_chain()
    signature, raw = await signed_transfer(signer, chain, hot, outside, 1_234)
    assert await chain.send_raw_transaction(raw) == Success(signature)
    assert await chain.send_raw_transaction(raw) == Success(signature)  # deduplicated
    assert (await chain.balance(outside)).unwrap() == 1_234
    assert (await chain.balance(hot)).unwrap() == 10_000 - 1_234
    (status,) = (await chain.signature_statuses([signature])).unwrap()
    assert status.confirmed


async def test_forged_signature_and_expired_blockhash_are_refused() -> None:
    signer, chain, hot, outside = await make_chain()
    blockhash = (await chain.latest_blockhash()).unwrap()
    unsigned = chain.build_transfer(hot, outside, 5, blockhash)
    _, forged = chain.assemble(unsigned, b"\x01" * 64)
    assert isinstance(await chain.send_raw_transaction(forged), Failure)
    _, raw = await signed_transfer(signer, chain, hot, outside, 5)
    chain.advance_blocks(200)
    result = await chain.send_raw_transaction(raw)
    assert isinstance(result, Failure)
    assert not result.failure().retryable
    assert (await chain.balance(outside)).unwrap() == 0


async def test_a_lost_response_still_lands() -> None:
    signer, chain, hot, outside = await make_chain()
    signature, raw = await signed_transfer(signer, chain, hot, outside, 7)
    chain.drop_next_responses(1)
    assert isinstance(await chain.send_raw_transaction(raw), Failure)
    (status,) = (await chain.signature_statuses([signature])).unwrap()
    assert status.found
    assert (await chain.balance(outside)).unwrap() == 7


async def test_signature_log_pages_newest_first_with_cursors() -> None:
    signer = InMemorySigner(b"s")
    chain = InMemoryChain(signer.verify)
    address = (await signer.create_wallet("u")).unwrap()
    sigs = [chain.airdrop(address, i + 1) for i in range(5)]
    newest = (await chain.signatures_for_address(address)).unwrap()
    assert [s.signature for s in newest] == sigs[::-1]
    page = (await chain.signatures_for_address(address, before=sigs[3], limit=2)).unwrap()
    assert [s.signature for s in page] == [sigs[2], sigs[1]]
    since = (await chain.signatures_for_address(address, until=sigs[2])).unwrap()
    assert [s.signature for s in since] == [sigs[4], sigs[3]]
    both = (await chain.signatures_for_address(address, before=sigs[4], until=sigs[1])).unwrap()
    assert [s.signature for s in both] == [sigs[3], sigs[2]]
    assert (await chain.signatures_for_address(address, before="unknown")).unwrap() == []
    for info in newest:  # each entry tells its transaction's slot and outcome
        details = (await chain.transaction(info.signature)).unwrap()
        assert details is not None
        assert (info.slot, info.failed) == (details.slot, not details.succeeded)


async def test_one_transaction_can_pay_several_addresses() -> None:
    signer = InMemorySigner(b"s")
    chain = InMemoryChain(signer.verify)
    a = (await signer.create_wallet("a")).unwrap()
    b = (await signer.create_wallet("b")).unwrap()
    signature = chain.multi_transfer_airdrop([(a, 5), (b, 6), (a, 7)])
    details = (await chain.transaction(signature)).unwrap()
    assert details is not None
    assert [(t.instruction_index, t.destination, t.lamports) for t in details.transfers] == [
        (0, a, 5),
        (1, b, 6),
        (2, a, 7),
    ]
    assert (await chain.balance(a)).unwrap() == 12


async def test_messenger_records_and_refuses_blocked_chats() -> None:
    messenger = InMemoryMessenger()
    assert await messenger.send(1, "hi") == Success(None)
    messenger.blocked_chats.add(2)
    result = await messenger.send(2, "hi")
    assert isinstance(result, Failure)
    assert result.failure().permanent
    assert messenger.sent == [(1, "hi")]
