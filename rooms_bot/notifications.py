"""The outbox's notifications as the bot words them (the dispatcher sends them)."""

from __future__ import annotations

from rooms_bot.texts import CATALOGUE, LAMPORT_FIELDS, t
from rooms_core.models import NotificationKind, OutboxMessage
from rooms_core.money import format_sol

_LAMPORTS = LAMPORT_FIELDS | {"payout", "profit"}


def render_notification(message: OutboxMessage) -> str:
    """Fill the notification's catalogue text from its payload (lamports shown as SOL,
    refund reasons in words)."""
    params: dict[str, object] = {}
    for name, value in message.payload.items():
        if name in _LAMPORTS and isinstance(value, int):
            params[name] = format_sol(value)
        else:
            params[name] = value
    if message.kind is NotificationKind.BET_REFUNDED:
        reason = str(message.payload.get("reason", ""))
        key = f"refund.{reason}"
        params["reason"] = t(key) if key in CATALOGUE else (reason or "—")
    return t(f"note.{message.kind.value}", **(_MISSING | params))


# What a template shows for a field an older payload lacks.
_MISSING: dict[str, object] = dict.fromkeys(
    ("room_id", "stake", "side", "amount", "payout", "profit", "reason", "signature", "text"),
    "?",
)
