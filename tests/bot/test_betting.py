"""Betting from a phone: side, amount, a confirmation with the projected payout and the fee,
the result, and each precise refusal; a stale button of a finished room."""

from __future__ import annotations

from rooms_bot.local_api import ChatMessage
from rooms_core.models import Side
from rooms_core.money import sol
from rooms_core.services import bets, settlement
from tests.bot.conftest import ALICE, BOB
from tests.bot.harness import BotHarness
from tests.bot.test_start_and_rooms import make_rooms
from tests.support import ok


async def open_card(harness: BotHarness, user: int) -> ChatMessage:
    menu = await harness.start(user)
    listing = await harness.tap(user, menu, "Active rooms")
    return await harness.tap(user, listing, "#1")


async def bob_bets_no(harness: BotHarness, amount: int = sol(1)) -> None:
    await harness.start(BOB, name="Bob")
    await harness.fund(BOB)
    bob = await harness.user_id_of(BOB)
    ok(await bets.place_bet(harness.platform.deps, user_id=bob, room_id=1, side=Side.NO,
                            stake=amount, idempotency_key="bob"))  # fmt: skip


async def test_a_preset_bet_shows_the_projection_and_fee_then_the_result(
    harness: BotHarness,
) -> None:
    await make_rooms(harness, 1)
    await bob_bets_no(harness)
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(10))
    card = await open_card(harness, ALICE)

    chooser = await harness.tap(ALICE, card, "Bet YES")
    assert "You bet YES. How much?" in (chooser.text or "")
    assert "Balance: 10 SOL" in (chooser.text or "")
    confirm = await harness.tap(ALICE, chooser, "0.5 SOL")
    text = confirm.text or ""
    # Pools after the bet: YES 0.5, NO 1; the fee is 3% of 1.5 = 0.045; YES shares 1.455.
    assert "If YES wins at the current pools you get 1.455 SOL (profit 0.955 SOL)." in text
    assert "Fee: 3% of the pool at settlement (2% protocol, 1% host), now 0.045 SOL." in text

    placed = await harness.tap(ALICE, confirm, "Confirm 0.5 SOL on YES")
    assert "Bet placed: 0.5 SOL on YES in room #1." in (placed.text or "")
    assert "Balance: 9.5 SOL" in (placed.text or "")
    room = await harness.platform.get_room(1)
    assert (room.yes_pool, room.no_pool) == (sol("0.5"), sol(1))


async def test_a_double_pressed_confirmation_places_one_bet(harness: BotHarness) -> None:
    await make_rooms(harness, 1)
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(10))
    card = await open_card(harness, ALICE)
    chooser = await harness.tap(ALICE, card, "Bet NO")
    confirm = await harness.tap(ALICE, chooser, "1 SOL")
    button = confirm.button("Confirm")
    first = await harness.api.press(ALICE, confirm, button)
    second = await harness.api.press(ALICE, confirm, button)
    await harness.answered(first)
    await harness.answered(second)
    assert await harness.balance(ALICE) == sol(9)
    assert len(harness.platform.store.bets) == 1


async def test_a_typed_amount_is_asked_again_until_it_is_valid(harness: BotHarness) -> None:
    await make_rooms(harness, 1)
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(10))
    card = await open_card(harness, ALICE)
    chooser = await harness.tap(ALICE, card, "Bet YES")
    ask = await harness.tap(ALICE, chooser, "Other amount")
    assert "Type the amount in SOL" in (ask.text or "")

    assert "not an amount" in ((await harness.say(ALICE, "lots")).text or "")
    assert "minimum bet is 0.01 SOL" in ((await harness.say(ALICE, "0.001")).text or "")
    assert "maximum bet is 1000 SOL" in ((await harness.say(ALICE, "5000")).text or "")
    confirm = await harness.say(ALICE, "0,25")
    assert "YES · 0.25 SOL" in (confirm.text or "")
    assert "Nobody is on the other side yet" in (confirm.text or "")
    placed = await harness.tap(ALICE, confirm, "Confirm")
    assert "Bet placed: 0.25 SOL on YES" in (placed.text or "")


async def test_refusals_are_precise(harness: BotHarness) -> None:
    await make_rooms(harness, 2)
    await harness.start(ALICE)
    await harness.fund(ALICE, sol("0.2"))
    card = await open_card(harness, ALICE)
    chooser = await harness.tap(ALICE, card, "Bet YES")
    confirm = await harness.tap(ALICE, chooser, "0.5 SOL")
    refused = await harness.tap(ALICE, confirm, "Confirm")
    assert "Insufficient balance: you need 0.5 SOL and have 0.2 SOL." in (refused.text or "")
    assert "Insufficient balance" in harness.last_answer(ALICE)

    await harness.fund(ALICE, sol(10))
    chooser = await harness.tap(ALICE, await open_card(harness, ALICE), "Bet YES")
    placed = await harness.tap(ALICE, await harness.tap(ALICE, chooser, "0.1 SOL"), "Confirm")
    assert "Bet placed" in (placed.text or "")
    chooser = await harness.tap(ALICE, await open_card(harness, ALICE), "Bet NO")
    again = await harness.tap(ALICE, await harness.tap(ALICE, chooser, "0.1 SOL"), "Confirm")
    assert "You already have a bet in this room" in (again.text or "")


async def test_a_confirmation_pressed_after_the_lock_time_is_refused(harness: BotHarness) -> None:
    await make_rooms(harness, 1)
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(10))
    chooser = await harness.tap(ALICE, await open_card(harness, ALICE), "Bet YES")
    confirm = await harness.tap(ALICE, chooser, "1 SOL")
    harness.platform.clock.advance(46 * 60)  # lock_at is 45 minutes in: the button still shows

    refused = await harness.tap(ALICE, confirm, "Confirm")

    assert "This room is locked: no new bets." in (refused.text or "")
    assert harness.platform.store.bets == {}


async def test_a_stale_button_of_a_settled_room_shows_the_room_as_it_is(
    harness: BotHarness,
) -> None:
    await make_rooms(harness, 1)
    await bob_bets_no(harness)
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(10))
    card = await harness.say(ALICE, "/room 1", expect="State:")
    alice = await harness.user_id_of(ALICE)
    ok(await bets.place_bet(harness.platform.deps, user_id=alice, room_id=1, side=Side.YES,
                            stake=sol(1), idempotency_key="direct"))  # fmt: skip
    harness.platform.clock.advance(60)
    ok(await settlement.settle_room(harness.platform.deps, room_id=1,
                                    observation=harness.platform.observation("201"),
                                    instant=True))  # fmt: skip

    shown = await harness.tap(ALICE, card, "Bet NO")  # the card still shows its old buttons

    assert "Betting is closed in this room." in harness.last_answer(ALICE)
    assert "State: settled" in (shown.text or "")
    assert "Result: YES" in (shown.text or "")
    assert not any("Bet" in b.text for row in shown.buttons for b in row)


async def test_cancel_leaves_a_typed_amount(harness: BotHarness) -> None:
    await make_rooms(harness, 1)
    await harness.start(ALICE)
    await harness.fund(ALICE, sol(10))
    chooser = await harness.tap(ALICE, await open_card(harness, ALICE), "Bet YES")
    await harness.tap(ALICE, chooser, "Other amount")
    cancelled = await harness.say(ALICE, "/cancel", expect="Cancelled")
    assert cancelled.text == "Cancelled."
    leftover = await harness.say(ALICE, "0.5", expect="I did not understand")
    assert leftover.text
    assert harness.platform.store.bets == {}
    assert await harness.balance(ALICE) == sol(10)
