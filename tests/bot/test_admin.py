"""The operators' commands, for configured admin ids only."""

from __future__ import annotations

from rooms_core.models import Side, WithdrawalState
from rooms_core.money import sol
from rooms_core.room import RoomState
from rooms_core.services import bets, wallet
from tests.bot.conftest import ADMIN, ADMIN2, ALICE, BOB
from tests.bot.harness import BotHarness
from tests.bot.test_start_and_rooms import make_rooms
from tests.bot.test_wallet import OUTSIDE
from tests.support import ok


async def test_everyone_else_is_not_allowed(harness: BotHarness) -> None:
    await make_rooms(harness, 1)
    await harness.start(ALICE)
    assert (await harness.say(ALICE, "/admin")).text == "Not allowed."
    assert (await harness.say(ALICE, "/void 1 because")).text == "Not allowed."
    assert (await harness.platform.get_room(1)).state is RoomState.QUEUING


async def big_withdrawal(harness: BotHarness, key: str) -> int:
    alice = await harness.user_id_of(ALICE)
    w = ok(await wallet.request_withdrawal(harness.platform.deps, user_id=alice,
                                           destination=OUTSIDE, amount=sol(120),
                                           idempotency_key=key))  # fmt: skip
    assert w.state is WithdrawalState.PENDING_APPROVAL
    return w.id


async def test_two_admins_approve_a_large_withdrawal_and_one_rejects_another(
    harness: BotHarness,
) -> None:
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(300))
    approved, rejected = await big_withdrawal(harness, "a"), await big_withdrawal(harness, "b")

    menu = await harness.say(ADMIN, "/admin", expect="Admin")
    assert "Betting: running · withdrawals: running" in (menu.text or "")
    pending = await harness.tap(ADMIN, menu, "Withdrawals to approve")
    assert f"#{approved} user" in (pending.text or "")
    assert "120 SOL" in (pending.text or "")
    once = await harness.tap(ADMIN, pending, f"Approve #{approved}")
    assert f"Withdrawal #{approved}: your approval is recorded (1 of 2)." == harness.last_answer(
        ADMIN
    )

    other = await harness.tap(ADMIN2, await harness.say(ADMIN2, "/admin", expect="Admin"),
                              "Withdrawals to approve")  # fmt: skip
    await harness.tap(ADMIN2, other, f"Approve #{approved}")
    assert f"Withdrawal #{approved} approved: it will be sent." == harness.last_answer(ADMIN2)
    await harness.tap(ADMIN2, other, f"Reject #{rejected}")
    assert "rejected; the amount went back" in harness.last_answer(ADMIN2)
    assert once.text

    async with harness.platform.deps.uow() as uow:
        states = [(await uow.withdrawals.get(i)).state for i in (approved, rejected)]  # type: ignore[union-attr]
    assert states == [WithdrawalState.APPROVED, WithdrawalState.REJECTED]
    assert await harness.balance(ALICE) == sol(180)


async def test_pausing_betting_refuses_bets_until_resumed(harness: BotHarness) -> None:
    await make_rooms(harness, 1)
    await harness.start(ALICE)
    await harness.fund(ALICE)
    menu = await harness.say(ADMIN, "/admin", expect="Admin")
    paused = await harness.tap(ADMIN, menu, "Pause betting")
    assert "Betting: PAUSED" in (paused.text or "")

    card = await harness.say(ALICE, "/room 1", expect="State:")
    chooser = await harness.tap(ALICE, card, "Bet YES")
    refused = await harness.tap(ALICE, await harness.tap(ALICE, chooser, "1 SOL"), "Confirm")
    assert "Betting is paused by the operators" in (refused.text or "")

    resumed = await harness.tap(ADMIN, paused, "Resume betting")
    assert "Betting: running" in (resumed.text or "")
    card = await harness.say(ALICE, "/room 1", expect="State:")
    chooser = await harness.tap(ALICE, card, "Bet YES")
    placed = await harness.tap(ALICE, await harness.tap(ALICE, chooser, "1 SOL"), "Confirm")
    assert "Bet placed" in (placed.text or "")


async def test_pausing_withdrawals_refuses_requests(harness: BotHarness) -> None:
    await harness.start(ALICE)
    await harness.fund(ALICE)
    menu = await harness.say(ADMIN, "/admin", expect="Admin")
    await harness.tap(ADMIN, menu, "Pause withdrawals")
    wallet_screen = await harness.tap(ALICE, await harness.start(ALICE), "Wallet")
    await harness.tap(ALICE, wallet_screen, "Withdraw")
    await harness.say(ALICE, OUTSIDE)
    confirm = await harness.say(ALICE, "1")
    refused = await harness.tap(ALICE, confirm, "Withdraw 1 SOL")
    assert "Withdrawals are paused by the operators" in (refused.text or "")
    assert await harness.balance(ALICE) == sol(10)


async def test_an_admin_voids_a_room_with_a_reason(harness: BotHarness) -> None:
    await make_rooms(harness, 1)
    for user in (ALICE, BOB):
        await harness.start(user, name="Alice" if user == ALICE else "Bob")
        await harness.fund(user)
        ok(await bets.place_bet(harness.platform.deps, user_id=await harness.user_id_of(user),
                                room_id=1, side=Side.YES if user == ALICE else Side.NO,
                                stake=sol(2), idempotency_key="v"))  # fmt: skip
    await harness.start(ADMIN, name="Admin")
    assert "Usage" in ((await harness.say(ADMIN, "/void 1")).text or "")
    done = await harness.say(ADMIN, "/void 1 the price feed was manipulated", expect="voided")
    assert "Room #1 voided; 4 SOL refunded to 2 bets." in (done.text or "")
    room = await harness.platform.get_room(1)
    assert room.state is RoomState.VOID
    assert room.close_reason == "the price feed was manipulated"
    assert await harness.balance(ALICE) == await harness.balance(BOB) == sol(10)

    await harness.deliver_notifications()
    note = await harness.api.wait_for_message(ALICE, lambda m: "refunded" in (m.text or ""))
    assert "Your 2 SOL bet in room #1 was refunded: the room was voided." in (note.text or "")


async def test_stats_and_solvency(harness: BotHarness) -> None:
    await make_rooms(harness, 2)
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(7))
    menu = await harness.say(ADMIN, "/admin", expect="Admin")
    stats = await harness.tap(ADMIN, menu, "Stats")
    text = stats.text or ""
    assert "Users: 4" in text  # two admins, the host, Alice
    assert "Rooms: 2 (waiting for players 2)" in text
    assert "User balances: 7 SOL" in text
    back = await harness.tap(ADMIN, stats, "Admin")
    answer = await harness.tap_for_answer(ADMIN, back, "Solvency")
    assert answer == "Custody is not configured in this bot process: there is no chain to measure."


async def test_solvency_with_custody_measures_the_chain() -> None:
    from rooms_core.services.custody import Custody, watch_deposits
    from tests.bot.conftest import TOKEN_ASSET
    from tests.bot.harness import running_bot
    from tests.support import SOL, make_platform

    platform = make_platform(assets=(SOL, TOKEN_ASSET))
    chain, signer = platform.container.chain(), platform.container.signer()
    hot = (await signer.create_wallet("platform:hot")).unwrap()
    chain.airdrop(hot, sol(1))
    async with running_bot(platform, admins=(ADMIN,), custody=Custody(chain, signer, hot)) as h:
        await h.start(ALICE)
        alice = await h.user_id_of(ALICE)
        address = (await signer.create_wallet(f"user:{alice}")).unwrap()
        chain.airdrop(address, sol(4))
        await watch_deposits(h.platform.deps, chain)
        assert await h.balance(ALICE) == sol(4)

        menu = await h.say(ADMIN, "/admin", expect="Admin")
        report = await h.tap(ADMIN, menu, "Solvency")
        text = report.text or ""
        assert "Solvency ✅" in text
        assert "Held on chain: 5 SOL (hot wallet 1, deposit addresses 4)" in text
        assert "Owed: 4 SOL" in text
        assert "Surplus: 1 SOL" in text
