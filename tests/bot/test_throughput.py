"""1,000 users press a bet's Confirm button at the same moment, through the local Bot API
server: no update is lost or answered twice, each bet is placed once, the books balance.
(benchmarks/bot.py prints the rates and latencies of the same run; tests assert no time.)"""

from __future__ import annotations

import pytest

from benchmarks.bot import rooms_bot_storm

pytestmark = pytest.mark.heavy


async def test_a_thousand_users_pressing_at_once() -> None:
    storm = await rooms_bot_storm(1000)
    assert storm.presses == 1000
    assert storm.answered_once
    assert storm.bets_placed == 1000
    assert storm.books_balance
    assert len(storm.handler_ms) == 1000  # each press reached a handler exactly once
