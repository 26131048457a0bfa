"""Creating a room as a guided flow: each refused answer asks the same step again with the
reason; /cancel leaves at any step; the host is shown their fee."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from rooms_bot.local_api import ChatMessage
from rooms_core.models import Asset, AssetKind, Comparator, Metric
from tests.bot.conftest import ALICE, MINT, TOKEN_ASSET
from tests.bot.harness import BotHarness


async def begin(harness: BotHarness, kind: str = "Coin price") -> ChatMessage:
    menu = await harness.start(ALICE)
    first = await harness.tap(ALICE, menu, "Create room")
    assert "step 1/6" in (first.text or "")
    return await harness.tap(ALICE, first, kind)


async def test_a_coin_room_step_by_step_with_every_refusal_asked_again(
    harness: BotHarness,
) -> None:
    ask = await begin(harness)
    assert "Which coin?" in (ask.text or "")

    refused = await harness.say(ALICE, "S")
    assert "A coin symbol is 2-10 letters or digits" in (refused.text or "")
    assert "Which coin?" in (refused.text or "")
    refused = await harness.say(ALICE, "DOGE")
    assert "DOGE cannot be priced by the oracle" in (refused.text or "")
    known = await harness.say(ALICE, "sol")
    assert "SOL now: $150.00." in (known.text or "")
    assert "Step 3/6" in (known.text or "")

    refused = await harness.say(ALICE, "Hm")
    assert "The title must be 5-200 characters long; yours has 2." in (refused.text or "")
    comparator = await harness.say(ALICE, "Will SOL hit 200 today?")
    assert "YES wins if SOL is" in (comparator.text or "")
    ask_target = await harness.tap(ALICE, comparator, "at or above")
    assert "The target in USD" in (ask_target.text or "")

    assert "That is not a number" in ((await harness.say(ALICE, "a lot")).text or "")
    negative = await harness.say(ALICE, "-5")
    assert "The target must be a positive number." in (negative.text or "")
    durations = await harness.say(ALICE, "$200")
    assert "When does it settle?" in (durations.text or "")
    custom = await harness.tap(ALICE, durations, "Custom")
    assert "e.g." in (custom.text or "")
    assert "could not read that duration" in ((await harness.say(ALICE, "2 days")).text or "")
    too_long = await harness.say(ALICE, "30h")
    assert "between 15 minutes and 24 hours" in (too_long.text or "")
    assert "When does it settle?" in (too_long.text or "")  # back to the duration step
    custom = await harness.tap(ALICE, too_long, "Custom")
    review = await harness.say(ALICE, "1h30m")

    text = review.text or ""
    assert "Review your room" in text
    assert "Title: Will SOL hit 200 today?" in text
    assert "Question: SOL ≥ $200.00" in text
    assert "in 1h 30m" in text
    assert "As the host you earn 1% of the pool" in text
    done = await harness.tap(ALICE, review, "Create")
    assert "Room #1 is live: Will SOL hit 200 today?" in (done.text or "")

    room = await harness.platform.get_room(1)
    assert room.title == "Will SOL hit 200 today?"
    assert room.asset.id == "SOL"
    assert room.comparator is Comparator.GTE
    assert room.target == Decimal(200)
    assert room.settle_at - room.created_at == timedelta(minutes=90)
    assert room.host_id == await harness.user_id_of(ALICE)


async def test_a_pump_fun_room_and_a_token_too_new_to_price(harness: BotHarness) -> None:
    too_new = "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU"
    fresh = Asset(kind=AssetKind.TOKEN, id=too_new, metric=Metric.MARKET_CAP_USD)
    for source in harness.platform.sources:
        source.set_price(fresh, "1")
        source.unlisted.add(fresh.key)

    ask = await begin(harness, kind="pump.fun market cap")
    assert "mint address" in (ask.text or "")
    assert "not a valid Solana token mint" in ((await harness.say(ALICE, "pump")).text or "")
    refused = await harness.say(ALICE, too_new)
    assert "is too new to be priced yet" in (refused.text or "")
    known = await harness.say(ALICE, MINT)
    assert f"{MINT[:4]}…{MINT[-4:]} market cap now: $80,000.00." in (known.text or "")
    comparator = await harness.say(ALICE, "Does it moon past 1.5M?")
    ask_target = await harness.tap(ALICE, comparator, "at or above")
    assert "market cap in USD" in (ask_target.text or "")
    durations = await harness.say(ALICE, "1.5m")
    review = await harness.tap(ALICE, durations, "4h")
    assert "market cap ≥ $1,500,000.00" in (review.text or "")
    await harness.tap(ALICE, review, "Create")
    room = await harness.platform.get_room(1)
    assert room.asset == TOKEN_ASSET
    assert room.target == Decimal(1_500_000)


async def test_a_double_pressed_create_makes_one_room(harness: BotHarness) -> None:
    await begin(harness)
    await harness.say(ALICE, "SOL")
    comparator = await harness.say(ALICE, "Will SOL dip under 100?")
    await harness.tap(ALICE, comparator, "at or below")
    durations = await harness.say(ALICE, "100")
    review = await harness.tap(ALICE, durations, "15m")
    button = review.button("Create")
    first = await harness.api.press(ALICE, review, button)
    second = await harness.api.press(ALICE, review, button)
    await harness.answered(first)
    await harness.answered(second)
    assert len(harness.platform.store.rooms) == 1


@pytest.mark.parametrize("step", ["asset", "title", "target", "custom duration"])
async def test_cancel_leaves_the_form_at_any_step(harness: BotHarness, step: str) -> None:
    await begin(harness)
    if step != "asset":
        await harness.say(ALICE, "SOL")
    if step in ("target", "custom duration"):
        comparator = await harness.say(ALICE, "Will SOL hit 200 today?")
        await harness.tap(ALICE, comparator, "at or above")
    if step == "custom duration":
        durations = await harness.say(ALICE, "200")
        await harness.tap(ALICE, durations, "Custom")

    cancelled = await harness.say(ALICE, "/cancel", expect="Cancelled")
    assert cancelled.text == "Cancelled."
    leftover = await harness.say(ALICE, "200", expect="I did not understand")
    assert leftover.text == "I did not understand that. Use the buttons, or /start for the menu."
    assert harness.platform.store.rooms == {}


async def test_a_button_of_an_abandoned_form_is_refused(harness: BotHarness) -> None:
    menu = await harness.start(ALICE)
    step_one = await harness.tap(ALICE, menu, "Create room")
    await harness.say(ALICE, "/cancel", expect="Cancelled")

    answer = await harness.tap_for_answer(ALICE, step_one, "Coin price")

    assert answer == "This form has expired. Start again with ➕ Create room."
