"""The outbox dispatcher: rates, retries, permanent failures, and each message once."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from returns.result import Failure, Result, Success

from rooms_core.models import NotificationKind, OutboxMessage
from rooms_core.ports.clock import Clock
from rooms_core.ports.messenger import SendFailed
from rooms_core.services.dispatch import (
    DispatchSettings,
    SendRate,
    dispatch_due,
    render_notification,
)
from tests.support import START, Platform


class RecordingMessenger:
    """Records (time, chat, text); answers each chat's first sends with queued failures."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, int, str]] = []
        self.failures: dict[int, list[SendFailed]] = {}

    async def send(self, chat_id: int, text: str) -> Result[None, SendFailed]:
        queued = self.failures.get(chat_id)
        if queued:
            return Failure(queued.pop(0))
        self.sent.append((self.clock.now(), chat_id, text))
        return Success(None)


async def queue(platform: Platform, user_ids: list[int], per: int = 1) -> list[int]:
    ids = []
    async with platform.deps.uow() as uow:
        for n, user_id in enumerate(user_ids):
            for k in range(per):
                message_id = await uow.outbox.next_id()
                await uow.outbox.add(
                    OutboxMessage(
                        id=message_id,
                        user_id=user_id,
                        kind=NotificationKind.DEPOSIT_CREDITED,
                        payload={"amount": 1_000_000_000},
                        dedupe_key=f"m{n}-{k}",
                        created_at=platform.clock.now(),
                        next_attempt_at=platform.clock.now(),
                    )
                )
                ids.append(message_id)
        await uow.commit()
    return ids


async def drain(
    platform: Platform, messenger: RecordingMessenger, rate: SendRate, step: float = 0.5
) -> int:
    rounds = 0
    while True:
        async with platform.deps.uow() as uow:
            if await uow.outbox.pending_count() == 0:
                return rounds
        await dispatch_due(platform.deps, messenger, rate, render=lambda m: f"m{m.id}")
        platform.clock.advance(step)
        rounds += 1
        assert rounds < 100_000


async def test_ten_thousand_notifications_to_two_thousand_chats_respect_the_rates(
    platform: Platform,
) -> None:
    users = [await platform.user(deposit=0) for _ in range(2000)]
    rng = random.Random(3)
    recipients = [rng.choice(users).id for _ in range(10_000)]  # chats repeat, some adjacent
    ids = await queue(platform, recipients)
    messenger = RecordingMessenger(platform.clock)
    settings = DispatchSettings(messages_per_second=30, seconds_between_chat_messages=1.0)
    rate = SendRate(platform.clock, settings)

    await drain(platform, messenger, rate)

    texts = [text for _, _, text in messenger.sent]
    assert sorted(texts) == sorted(f"m{i}" for i in ids)  # every message, exactly once
    times = [at for at, _, _ in messenger.sent]
    start = 0
    for end, at in enumerate(times):  # any one-second window holds at most 30 sends
        while at - times[start] >= timedelta(seconds=1):
            start += 1
        assert end - start + 1 <= 30
    last: dict[int, datetime] = {}
    for at, chat, _ in messenger.sent:
        if chat in last:
            assert at - last[chat] >= timedelta(seconds=1)
        last[chat] = at
    span = (times[-1] - times[0]).total_seconds()
    assert span >= 10_000 / 30 - 1  # the budget was the limit...
    assert span < 10_000 / 30 * 1.2  # ...and it was used


async def test_failures_are_retried_then_given_up_and_flood_control_is_honoured(
    platform: Platform,
) -> None:
    flaky, blocked, flooded = [await platform.user(deposit=0) for _ in range(3)]
    await queue(platform, [flaky.id, blocked.id, flooded.id])
    messenger = RecordingMessenger(platform.clock)
    assert flaky.telegram_id
    assert blocked.telegram_id
    assert flooded.telegram_id
    messenger.failures[flaky.telegram_id] = [SendFailed("timeout")] * 2
    messenger.failures[blocked.telegram_id] = [SendFailed("blocked", permanent=True)]
    messenger.failures[flooded.telegram_id] = [SendFailed("flood", retry_after=20)]
    rate = SendRate(platform.clock, DispatchSettings(retry_delays=(2, 10)))

    first = await dispatch_due(platform.deps, messenger, rate)
    assert (first.sent, first.retried, first.gave_up, first.postponed) == (0, 1, 1, 1)
    await drain(platform, messenger, rate)

    # Flood control holds every send for 20 s; the flaky chat's second failure then waits
    # its second retry delay; the blocked chat gets nothing.
    assert [chat for _, chat, _ in messenger.sent] == [flooded.telegram_id, flaky.telegram_id]
    sent_at = {chat: at for at, chat, _ in messenger.sent}
    assert sent_at[flooded.telegram_id] - START >= timedelta(seconds=20)
    assert sent_at[flaky.telegram_id] - START >= timedelta(seconds=20 + 10)
    async with platform.deps.uow() as uow:
        assert await uow.outbox.pending_count() == 0


async def test_messages_without_a_chat_are_given_up(platform: Platform) -> None:
    user = await platform.user(deposit=0)
    async with platform.deps.uow() as uow:
        stored = await uow.users.get(user.id)
        assert stored is not None
        await uow.users.update(stored.model_copy(update={"telegram_id": None}))
        await uow.commit()
    await queue(platform, [user.id])
    messenger = RecordingMessenger(platform.clock)

    report = await dispatch_due(
        platform.deps, messenger, SendRate(platform.clock, DispatchSettings())
    )

    assert report.gave_up == 1
    assert messenger.sent == []


def test_every_kind_renders_to_text() -> None:
    for kind in NotificationKind:
        message = OutboxMessage(
            id=1,
            user_id=1,
            kind=kind,
            payload={"room_id": 7, "stake": 10**9, "payout": 2 * 10**9, "profit": 10**9,
                     "amount": 5 * 10**8, "side": "YES", "reason": "VOID"},
            dedupe_key="k",
            created_at=START,
            next_attempt_at=START,
        )  # fmt: skip
        text = render_notification(message)
        assert "Notification:" not in text
        assert text.endswith(".")
