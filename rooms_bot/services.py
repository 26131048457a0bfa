"""What the handlers are given: the core's ports and settings, and the bot's own options.

Built once by the composition root (:mod:`rooms_bot.app`) and handed to every handler
through the dispatcher's workflow data (a handler asks for ``services: BotServices``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rooms_core.money import sol
from rooms_core.ports.signer import Signer
from rooms_core.services.custody import Custody
from rooms_core.services.deps import Deps

DEFAULT_STAKE_PRESETS = (sol("0.1"), sol("0.5"), sol(1), sol(5))
DEFAULT_DURATION_PRESETS = (15, 30, 60, 120, 240)


@dataclass(frozen=True, slots=True)
class BotServices:
    deps: Deps
    signer: Signer  # makes each user's deposit address
    custody: Custody | None = None  # chain access, for the admins' solvency report
    bot_username: str = "rooms_bot"  # for referral links (read from getMe at start)
    mini_app_url: str | None = None  # the web API's Mini App page, if one is deployed
    stake_presets: tuple[int, ...] = DEFAULT_STAKE_PRESETS
    duration_presets: tuple[int, ...] = DEFAULT_DURATION_PRESETS  # minutes, in Create room
    rooms_per_page: int = 5
