"""Settings of the web API (the business settings are the core's ``RoomsSettings``, in
``Deps``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """``bot_token`` checks the Mini App's initData (it is never logged or shown).
    ``admin_telegram_ids``: Telegram users who are admins besides the ROOMS users listed
    in ``RoomsSettings.admin_user_ids`` (a Telegram id is known before its user registers:
    it counts from the user's first admin request)."""

    bot_token: str = field(repr=False)
    init_data_max_age: timedelta = timedelta(hours=24)
    admin_telegram_ids: frozenset[int] = frozenset()
    history_minutes: int = 60  # a room's price chart by default
    price_points: int = 120  # at most this many points in a chart
    price_seconds: float = 2.0  # how often watched prices are pushed
    ws_max_rooms: int = 50  # rooms one WebSocket may watch
    ws_max_queued: int = 256  # updates queued for one slow WebSocket before compacting
    health_timeout: float = 3.0  # seconds per health check
    title: str = "ROOMS"
