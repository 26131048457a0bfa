"""Notifications from the outbox reach the user's chat through the Telegram messenger, in
the bot's words: bet confirmed, room locked, won or lost, refunded with the reason,
deposit credited, withdrawal sent or failed."""

from __future__ import annotations

from rooms_core.models import Side
from rooms_core.money import sol
from rooms_core.services import bets, settlement, wallet
from rooms_core.services.workers import schedule_once
from tests.bot.conftest import ALICE, BOB, CAROL
from tests.bot.harness import BotHarness
from tests.bot.test_start_and_rooms import make_rooms
from tests.bot.test_wallet import OUTSIDE
from tests.support import ok


def texts(harness: BotHarness, user: int) -> list[str]:
    return [m.text or "" for m in harness.api.messages(user)]


async def test_a_room_from_bet_to_result(harness: BotHarness) -> None:
    await make_rooms(harness, 2)
    for user, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        await harness.start(user, name=name)
        await harness.fund(user)
    deps = harness.platform.deps
    alice, bob, carol = [await harness.user_id_of(u) for u in (ALICE, BOB, CAROL)]
    ok(await bets.place_bet(deps, user_id=alice, room_id=1, side=Side.YES, stake=sol(3),
                            idempotency_key="a"))  # fmt: skip
    ok(await bets.place_bet(deps, user_id=bob, room_id=1, side=Side.NO, stake=sol(1),
                            idempotency_key="b"))  # fmt: skip
    ok(await bets.place_bet(deps, user_id=carol, room_id=2, side=Side.NO, stake=sol(1),
                            idempotency_key="c"))  # fmt: skip
    harness.platform.clock.advance(45 * 60)
    await schedule_once(deps)  # room 1 locks; room 2 (one player) is cancelled
    harness.platform.clock.advance(60)
    ok(await settlement.settle_room(deps, room_id=1,
                                    observation=harness.platform.observation("201"),
                                    instant=True))  # fmt: skip

    assert await harness.deliver_notifications() >= 7

    alice_sees = texts(harness, ALICE)
    assert "✅ Bet confirmed: 3 SOL on YES in room #1." in alice_sees
    assert "🔒 Room #1 is locked: no more bets, waiting for the result." in alice_sees
    assert "🏆 You won in room #1: 3.88 SOL paid out (profit 0.88 SOL)." in alice_sees
    assert "Room #1 settled against you: your 1 SOL bet is lost." in texts(harness, BOB)
    assert "↩️ Your 1 SOL bet in room #2 was refunded: the room was cancelled." in texts(
        harness, CAROL
    )
    assert "💰 Deposit credited: 10 SOL." in alice_sees


async def test_withdrawal_sent_and_failed(harness: BotHarness) -> None:
    await harness.start(ALICE)
    await harness.fund(ALICE)
    deps = harness.platform.deps
    alice = await harness.user_id_of(ALICE)
    sent = ok(await wallet.request_withdrawal(deps, user_id=alice, destination=OUTSIDE,
                                              amount=sol(2), idempotency_key="s"))  # fmt: skip
    failed = ok(await wallet.request_withdrawal(deps, user_id=alice, destination=OUTSIDE,
                                                amount=sol(3), idempotency_key="f"))  # fmt: skip
    ok(await wallet.record_withdrawal_sent(deps, withdrawal_id=sent.id, signature="5ignature",
                                           blockhash="hash",
                                           last_valid_block_height=10))  # fmt: skip
    ok(await wallet.confirm_withdrawal(deps, withdrawal_id=sent.id))
    ok(await wallet.release_withdrawal(deps, withdrawal_id=failed.id,
                                       reason="the transaction expired unsent"))  # fmt: skip

    await harness.deliver_notifications()

    seen = texts(harness, ALICE)
    assert "📤 Withdrawal of 2 SOL sent. Signature: 5ignature" in seen
    assert (
        "⚠️ Withdrawal of 3 SOL was not sent (the transaction expired unsent); "
        "it is back in your balance." in seen
    )


async def test_a_user_who_blocked_the_bot_is_given_up_on(harness: BotHarness) -> None:
    await harness.start(ALICE)
    harness.api.block(ALICE)
    await harness.fund(ALICE)
    await harness.deliver_notifications()
    async with harness.platform.deps.uow() as uow:
        assert await uow.outbox.pending_count() == 0
    message = next(iter(harness.platform.store.outbox.values()))
    assert message.gave_up_at is not None
    assert "blocked" in (message.last_error or "")
