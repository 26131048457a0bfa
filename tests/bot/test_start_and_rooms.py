"""/start, referral deep links, the main menu, the paginated room list and room cards."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from rooms_core.models import AssetKind, Comparator, Side
from rooms_core.money import sol
from rooms_core.services import bets, queries, rooms
from tests.bot.conftest import ALICE, BOB, CAROL
from tests.bot.harness import BotHarness
from tests.support import ok


async def test_start_registers_the_user_with_a_deposit_address(harness: BotHarness) -> None:
    update = await harness.api.send_message(ALICE, "/start", first_name="Alice", username="alice")
    welcome = await harness.api.wait_for_message(
        ALICE, lambda m: "Welcome to ROOMS" in (m.text or ""), after=update
    )
    menu = await harness.api.wait_for_message(
        ALICE, lambda m: "Choose what to do" in (m.text or ""), after=update
    )

    user = await queries.user_by_telegram_id(harness.platform.deps, telegram_id=ALICE)
    assert user is not None
    assert user.username == "alice"
    assert user.deposit_address is not None
    assert user.deposit_address in (welcome.text or "")
    labels = [b.text for row in menu.buttons for b in row]
    for wanted in ("Active rooms", "Create room", "Wallet", "Referrals", "Help"):
        assert any(wanted in label for label in labels), labels
    assert "balance 0 SOL" in (menu.text or "")


async def test_a_returning_user_sees_the_menu_without_a_second_sign_up(
    harness: BotHarness,
) -> None:
    await harness.start(ALICE)
    await harness.start(ALICE)
    welcomes = [m for m in harness.api.messages(ALICE) if "Welcome" in (m.text or "")]
    assert len(welcomes) == 1
    async with harness.platform.deps.uow() as uow:
        assert await uow.users.count() == 3  # Alice and the two admins


async def test_a_referral_deep_link_records_the_referrer(harness: BotHarness) -> None:
    await harness.start(ALICE, name="Alice")
    alice = await queries.user_by_telegram_id(harness.platform.deps, telegram_id=ALICE)
    assert alice is not None

    update = await harness.api.send_message(
        BOB, f"/start {alice.referral_code}", first_name="Bob", username="bob"
    )
    note = await harness.api.wait_for_message(
        BOB, lambda m: "invitation" in (m.text or ""), after=update
    )
    assert "alice" in (note.text or "")
    bob = await queries.user_by_telegram_id(harness.platform.deps, telegram_id=BOB)
    assert bob is not None
    assert bob.referrer_id == alice.id

    menu = await harness.start(ALICE)
    screen = await harness.tap(ALICE, menu, "Referrals")
    assert f"https://t.me/rooms_test_bot?start={alice.referral_code}" in (screen.text or "")
    assert "Level 1: 1 people" in (screen.text or "")
    assert "Level 2: 0 people" in (screen.text or "")


async def test_an_unknown_code_registers_without_a_referrer(harness: BotHarness) -> None:
    update = await harness.api.send_message(CAROL, "/start NOSUCHCODE", first_name="Carol")
    await harness.api.wait_for_message(
        CAROL, lambda m: "invitation code is not valid" in (m.text or ""), after=update
    )
    carol = await queries.user_by_telegram_id(harness.platform.deps, telegram_id=CAROL)
    assert carol is not None
    assert carol.referrer_id is None


async def test_anything_but_start_from_a_stranger_asks_for_start(harness: BotHarness) -> None:
    reply = await harness.say(CAROL, "/rooms")
    assert reply.text == "Send /start to begin."
    help_text = await harness.say(CAROL, "/help")  # help is for everyone
    assert "How ROOMS works" in (help_text.text or "")


async def make_rooms(harness: BotHarness, count: int, title: str = "Will SOL reach 200?") -> None:
    host_telegram = 5555
    await harness.start(host_telegram, name="Hosty")
    host = await harness.user_id_of(host_telegram)
    now = harness.platform.clock.now()
    for _ in range(count):
        spec = rooms.RoomSpec(
            title=title,
            asset_kind=AssetKind.COIN,
            asset_id="SOL",
            comparator=Comparator.GTE,
            target=Decimal(200),
            settle_at=now + timedelta(hours=1),
        )
        ok(await rooms.create_room(harness.platform.deps, host_id=host, spec=spec))


async def test_active_rooms_come_a_page_at_a_time(harness: BotHarness) -> None:
    await make_rooms(harness, 7)
    menu = await harness.start(ALICE)

    first = await harness.tap(ALICE, menu, "Active rooms")
    assert "page 1" in (first.text or "")
    assert [b.text.split()[0] for row in first.buttons for b in row if b.text.startswith("#")] == [
        "#1", "#2", "#3", "#4", "#5"
    ]  # fmt: skip
    second = await harness.tap(ALICE, first, "Next")
    assert "page 2" in (second.text or "")
    assert [b.text.split()[0] for row in second.buttons for b in row if b.text.startswith("#")] == [
        "#6", "#7"
    ]  # fmt: skip
    assert not any("Next" in b.text for row in second.buttons for b in row)
    back = await harness.tap(ALICE, second, "Previous")
    assert "page 1" in (back.text or "")


async def test_a_room_card_shows_question_times_pools_multiples_and_host(
    harness: BotHarness,
) -> None:
    await make_rooms(harness, 1)
    await harness.start(BOB, name="Bob")
    await harness.fund(BOB)
    bob = await harness.user_id_of(BOB)
    room_id = 1
    ok(await bets.place_bet(harness.platform.deps, user_id=bob, room_id=room_id, side=Side.NO,
                            stake=sol(1), idempotency_key="b"))  # fmt: skip
    menu = await harness.start(ALICE)
    listing = await harness.tap(ALICE, menu, "Active rooms")
    card = await harness.tap(ALICE, listing, "#1")

    text = card.text or ""
    assert "#1 · Will SOL reach 200?" in text
    assert "SOL ≥ $200.00" in text
    assert "State: waiting for players" in text
    assert "Locks in 45m · settles in 1h 00m" in text
    assert "YES pool: 0 SOL (0 bets) · pays —" in text
    assert "NO pool: 1 SOL (1 bets) · pays —" in text  # one-sided: a refund as it stands
    assert "Host: hosty" in text
    labels = [b.text for row in card.buttons for b in row]
    assert any(label.startswith("✅ Bet YES") for label in labels)
    assert any(label.startswith("❌ Bet NO") for label in labels)
