"""Sending the outbox: notifications recorded with the changes they report go out through
the messenger port, within the messenger's rate limits, once each.

Each call of :func:`dispatch_due` claims due messages (a database adapter locks them and
skips those another dispatcher holds), sends them, and marks each sent, postponed (a rate
limit said wait), rescheduled (a failure; attempts counted) or given up (permanent failure
or too many attempts), all in the unit of work that claimed them. A message is marked sent
in the same transaction that sent it, so two dispatchers never send it twice; only a crash
between the send and the commit can repeat one (at-least-once across crashes).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from returns.result import Success

from rooms_core.models import NotificationKind, OutboxMessage
from rooms_core.money import format_sol
from rooms_core.ports.clock import Clock
from rooms_core.ports.messenger import Messenger
from rooms_core.services.deps import Deps


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    """Telegram's published limits: about 30 messages a second overall, 1 a second per chat."""

    messages_per_second: int = 30
    seconds_between_chat_messages: float = 1.0
    batch: int = 100
    retry_delays: tuple[float, ...] = (2, 10, 60, 300, 1800)
    max_attempts: int = 8


class SendRate:
    """The sending budget on a clock: at most ``messages_per_second`` in any second, and one
    message per chat every ``seconds_between_chat_messages``; a messenger's retry-after holds
    everything back."""

    def __init__(self, clock: Clock, settings: DispatchSettings) -> None:
        self.clock = clock
        self.settings = settings
        self._recent: deque[datetime] = deque()
        self._last_by_chat: dict[int, datetime] = {}
        self._held_until: datetime | None = None

    def _trim(self, now: datetime) -> None:
        while self._recent and now - self._recent[0] >= timedelta(seconds=1):
            self._recent.popleft()

    def available(self) -> int:
        """How many messages may go out right now."""
        now = self.clock.now()
        if self._held_until is not None and now < self._held_until:
            return 0
        self._trim(now)
        return max(0, self.settings.messages_per_second - len(self._recent))

    def next_slot(self) -> datetime:
        """When the overall budget next allows a message."""
        now = self.clock.now()
        self._trim(now)
        at = now
        if len(self._recent) >= self.settings.messages_per_second:
            at = self._recent[0] + timedelta(seconds=1)
        if self._held_until is not None and self._held_until > at:
            at = self._held_until
        return at

    def chat_wait(self, chat_id: int) -> datetime | None:
        """When the chat may get its next message, if that is still to come (else None).
        Read against the clock at the moment of asking: a wall clock moves while we work."""
        last = self._last_by_chat.get(chat_id)
        if last is None:
            return None
        ready = last + timedelta(seconds=self.settings.seconds_between_chat_messages)
        return ready if ready > self.clock.now() else None

    def record(self, chat_id: int) -> None:
        now = self.clock.now()
        self._recent.append(now)
        self._last_by_chat[chat_id] = now

    def hold(self, seconds: float) -> None:
        until = self.clock.now() + timedelta(seconds=seconds)
        if self._held_until is None or until > self._held_until:
            self._held_until = until


@dataclass(frozen=True, slots=True)
class DispatchReport:
    sent: int = 0
    postponed: int = 0
    retried: int = 0
    gave_up: int = 0


def render_notification(message: OutboxMessage) -> str:
    """Plain English text of a notification (the bot may render its own)."""
    p = message.payload

    def sol(key: str) -> str:
        value = p.get(key, 0)
        return format_sol(value if isinstance(value, int) else int(value))

    room = f"room #{p.get('room_id', '?')}"
    match message.kind:
        case NotificationKind.BET_CONFIRMED:
            return f"Bet confirmed: {sol('stake')} SOL on {p.get('side', '?')} in {room}."
        case NotificationKind.ROOM_OPENED:
            return f"{room.capitalize()} is open for bets."
        case NotificationKind.ROOM_LOCKED:
            return f"{room.capitalize()} is locked: no more bets, waiting for the result."
        case NotificationKind.BET_WON:
            return f"You won in {room}: {sol('payout')} SOL paid out (profit {sol('profit')} SOL)."
        case NotificationKind.BET_LOST:
            return f"You lost your {sol('stake')} SOL bet in {room}."
        case NotificationKind.BET_REFUNDED:
            return f"Your {sol('stake')} SOL bet in {room} was refunded ({p.get('reason', '')})."
        case NotificationKind.DEPOSIT_CREDITED:
            return f"Deposit credited: {sol('amount')} SOL."
        case NotificationKind.WITHDRAWAL_SENT:
            return f"Withdrawal of {sol('amount')} SOL sent."
        case NotificationKind.WITHDRAWAL_FAILED:
            return f"Withdrawal of {sol('amount')} SOL failed and was returned to your balance."
        case NotificationKind.REFERRAL_REWARD:
            return f"Referral reward: {sol('amount')} SOL from {room}."
        case NotificationKind.ADMIN_ALERT:
            return f"Admin alert: {p.get('text', '')}."
    return f"Notification: {message.kind.value}"  # pragma: no cover - every kind is listed


async def dispatch_due(
    deps: Deps,
    messenger: Messenger,
    rate: SendRate,
    *,
    settings: DispatchSettings | None = None,
    render: Callable[[OutboxMessage], str] = render_notification,
) -> DispatchReport:
    """Send what is due now, as far as the rate allows (see the module docstring)."""
    settings = settings or rate.settings
    budget = min(rate.available(), settings.batch)
    if budget == 0:
        return DispatchReport()
    sent = postponed = retried = gave_up = 0
    async with deps.uow() as uow:
        now = deps.clock.now()
        for message in await uow.outbox.claim_due(now, budget):
            user = await uow.users.get(message.user_id)
            chat_id = None if user is None else user.telegram_id
            if chat_id is None:
                await uow.outbox.give_up(message.id, now, "the user has no chat")
                gave_up += 1
                continue
            wait_until = rate.chat_wait(chat_id)
            if wait_until is not None or rate.available() == 0:
                await uow.outbox.postpone(message.id, max(wait_until or now, rate.next_slot()))
                postponed += 1
                continue
            result = await messenger.send(chat_id, render(message))
            rate.record(chat_id)
            if isinstance(result, Success):
                await uow.outbox.mark_sent(message.id, now)
                sent += 1
                continue
            failure = result.failure()
            if failure.retry_after is not None:  # flood control: everything waits
                rate.hold(failure.retry_after)
                await uow.outbox.postpone(message.id, now + timedelta(seconds=failure.retry_after))
                postponed += 1
            elif failure.permanent or message.attempts + 1 >= settings.max_attempts:
                await uow.outbox.give_up(message.id, now, failure.reason)
                gave_up += 1
            else:
                delays = settings.retry_delays
                delay = delays[min(message.attempts, len(delays) - 1)]
                await uow.outbox.reschedule(
                    message.id, now + timedelta(seconds=delay), failure.reason
                )
                retried += 1
        await uow.commit()
    return DispatchReport(sent, postponed, retried, gave_up)
