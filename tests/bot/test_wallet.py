"""The wallet: balance, deposit address as text and QR image, history, and withdrawals."""

from __future__ import annotations

import pytest

from rooms_bot.local_api import ChatMessage
from rooms_core.models import Side, WithdrawalState
from rooms_core.money import sol
from rooms_core.services import bets, queries
from tests.bot.conftest import ALICE
from tests.bot.harness import BotHarness
from tests.bot.test_start_and_rooms import make_rooms
from tests.support import ok

OUTSIDE = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def open_wallet(harness: BotHarness) -> ChatMessage:
    menu = await harness.start(ALICE)
    return await harness.tap(ALICE, menu, "Wallet")


async def test_the_wallet_shows_balance_address_qr_and_history(harness: BotHarness) -> None:
    await make_rooms(harness, 1)
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(3))
    alice = await queries.user_by_telegram_id(harness.platform.deps, telegram_id=ALICE)
    assert alice is not None
    assert alice.deposit_address is not None
    ok(await bets.place_bet(harness.platform.deps, user_id=alice.id, room_id=1, side=Side.YES,
                            stake=sol("0.5"), idempotency_key="k"))  # fmt: skip
    shown = await open_wallet(harness)
    text = shown.text or ""
    assert "Balance: 2.5 SOL" in text
    assert alice.deposit_address in text

    qr = await harness.tap(ALICE, shown, "QR code")
    assert qr.photo is not None
    assert qr.photo.startswith(PNG_MAGIC)
    assert alice.deposit_address in (qr.caption or "")

    history = await harness.tap(ALICE, shown, "History")
    lines = (history.text or "").splitlines()
    assert "Recent activity · balance 2.5 SOL" in lines[0]
    assert "bet in room #1" in lines[1]
    assert "-0.5 SOL" in lines[1]
    assert "deposit" in lines[2]
    assert "+3 SOL" in lines[2]


async def test_a_withdrawal_asks_address_amount_then_confirms(harness: BotHarness) -> None:
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(5))
    ask = await harness.tap(ALICE, await open_wallet(harness), "Withdraw")
    assert "Send the Solana address" in (ask.text or "")

    refused = await harness.say(ALICE, "not-an-address")
    assert "That address cannot receive a withdrawal: not a Solana address." in (refused.text or "")
    pda_like = "11111111111111111111111111111112"
    assert "off the ed25519 curve" in ((await harness.say(ALICE, pda_like)).text or "")
    amount = await harness.say(ALICE, OUTSIDE)
    assert "How much SOL?" in (amount.text or "")
    assert "The minimum withdrawal is 0.01 SOL." in ((await harness.say(ALICE, "0.001")).text or "")
    assert "you need 9 SOL and have 5 SOL" in ((await harness.say(ALICE, "9")).text or "")
    confirm = await harness.say(ALICE, "2")
    assert "2 SOL to" in (confirm.text or "")
    assert "approval" not in (confirm.text or "")
    done = await harness.tap(ALICE, confirm, "Withdraw 2 SOL")

    assert "Withdrawal #1 of 2 SOL requested." in (done.text or "")
    assert await harness.balance(ALICE) == sol(3)
    async with harness.platform.deps.uow() as uow:
        w = await uow.withdrawals.get(1)
    assert w is not None
    assert (w.destination, w.amount, w.state) == (OUTSIDE, sol(2), WithdrawalState.APPROVED)


async def test_a_large_withdrawal_says_it_needs_admin_approval(harness: BotHarness) -> None:
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(150))
    await harness.tap(ALICE, await open_wallet(harness), "Withdraw")
    await harness.say(ALICE, OUTSIDE)
    confirm = await harness.say(ALICE, "all")
    assert "150 SOL to" in (confirm.text or "")
    assert "Amounts of 100 SOL or more need approval by 2 admins" in (confirm.text or "")
    done = await harness.tap(ALICE, confirm, "Withdraw 150 SOL")
    assert "waits for admin approval" in (done.text or "")


@pytest.mark.parametrize("step", ["address", "amount", "confirm"])
async def test_cancel_leaves_the_withdrawal_at_any_step(harness: BotHarness, step: str) -> None:
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(5))
    await harness.tap(ALICE, await open_wallet(harness), "Withdraw")
    if step in ("amount", "confirm"):
        await harness.say(ALICE, OUTSIDE)
    if step == "confirm":
        await harness.say(ALICE, "1")
    cancelled = await harness.say(ALICE, "/cancel", expect="Cancelled")
    assert cancelled.text == "Cancelled."
    assert await harness.balance(ALICE) == sol(5)
    async with harness.platform.deps.uow() as uow:
        assert await uow.withdrawals.get(1) is None
