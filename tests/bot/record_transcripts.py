"""Record docs/bot-transcripts.md: a scripted session through the local Bot API server.

./run python -m tests.bot.record_transcripts > docs/bot-transcripts.md
"""

from __future__ import annotations

import asyncio
import re

from rooms_core.money import sol
from rooms_core.services import queries, settlement, wallet
from tests.bot.conftest import ADMIN, ADMIN2, ALICE, BOB, TOKEN_ASSET
from tests.bot.harness import BotHarness, running_bot
from tests.support import SOL, make_platform, ok

OUTSIDE = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
TITLES = {
    ALICE: "Alice: invited by Bob, creates a room, bets with a typed amount, wins, withdraws",
    BOB: "Bob: the inviter; bets with a preset, loses, earns a referral reward; /admin is not "
    "for him",
    ADMIN: "An admin: approves a large withdrawal, reads the stats, tries to void a finished room",
}
HEADER = """# Bot transcripts

Recorded from a scripted session through the local Bot API server (`tests/bot/harness.py`):
the real bot over real HTTP, in-memory storage, a virtual clock. Buttons are in brackets under
their message; `(edit N)` is the same message edited in place; notifications from the outbox
arrive as new messages. Regenerate with
`./run python -m tests.bot.record_transcripts > docs/bot-transcripts.md`.
"""


async def session(h: BotHarness) -> None:
    platform = h.platform
    await h.start(BOB, name="Bob")
    bob = await h.user_id_of(BOB)
    bob_user = await queries.get_user(platform.deps, user_id=bob)
    assert bob_user is not None
    menu = await h.start(ALICE, name="Alice", code=bob_user.referral_code)
    await h.fund(ALICE, sol(20))
    await h.fund(BOB, sol(20))
    step = await h.tap(ALICE, await h.tap(ALICE, menu, "Create room"), "Coin price")
    await h.say(ALICE, "SOL")
    comparator = await h.say(ALICE, "Will SOL reach $200 today?")
    await h.tap(ALICE, comparator, "at or above")
    await h.say(ALICE, "abc")
    durations = await h.say(ALICE, "200")
    await h.tap(ALICE, await h.tap(ALICE, durations, "1h"), "Create")
    assert step.text

    card = await h.tap(BOB, await h.tap(BOB, await h.start(BOB), "Active rooms"), "#1")
    confirm = await h.tap(BOB, await h.tap(BOB, card, "Bet NO"), "1 SOL")
    await h.tap(BOB, confirm, "Confirm")
    card = await h.tap(ALICE, await h.tap(ALICE, await h.start(ALICE), "Active rooms"), "#1")
    await h.tap(ALICE, await h.tap(ALICE, card, "Bet YES"), "Other amount")
    await h.say(ALICE, "0.001")
    await h.tap(ALICE, await h.say(ALICE, "2.5"), "Confirm")
    platform.clock.advance(120)
    hit = platform.observation("201")
    ok(await settlement.settle_room(platform.deps, room_id=1, observation=hit, instant=True))
    await h.deliver_notifications()

    await h.tap(ALICE, await h.start(ALICE), "My bets")
    await h.tap(ALICE, await h.tap(ALICE, await h.start(ALICE), "Wallet"), "History")
    await h.tap(ALICE, await h.tap(ALICE, await h.start(ALICE), "Wallet"), "Withdraw")
    await h.say(ALICE, "nope")
    await h.say(ALICE, OUTSIDE)
    await h.tap(ALICE, await h.say(ALICE, "1"), "Withdraw 1 SOL")
    await h.tap(BOB, await h.start(BOB), "Referrals")
    await h.say(BOB, "/admin")

    await h.fund(BOB, sol(200))
    ok(await wallet.request_withdrawal(platform.deps, user_id=bob, destination=OUTSIDE,
                                       amount=sol(150), idempotency_key="big"))  # fmt: skip
    admin = await h.say(ADMIN, "/admin", expect="Admin")
    pending = await h.tap(ADMIN, admin, "Withdrawals to approve")
    await h.tap(ADMIN, pending, "Approve")
    await h.tap(ADMIN, await h.tap(ADMIN, pending, "Admin"), "Stats")
    await h.say(ADMIN, "/void 1 test")


def readable(transcript: str) -> str:
    transcript = re.sub(r" -> [^\]]+\]", "]", transcript)  # the callback data
    transcript = re.sub(r" \(callback_data '[^']*'\)", "", transcript)
    transcript = transcript.replace("    bot answered the press: (no text)\n", "")
    return "\n".join(line.rstrip() for line in transcript.splitlines())


async def main() -> None:
    platform = make_platform(assets=(SOL, TOKEN_ASSET))
    async with running_bot(platform, admins=(ADMIN, ADMIN2)) as h:
        await session(h)
        parts = [HEADER]
        for user, title in TITLES.items():
            parts.append(f"## {title}\n\n```text\n{readable(h.api.transcript(user))}\n```\n")
    print("\n".join(parts), end="")


if __name__ == "__main__":
    asyncio.run(main())
