from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rooms_core.models import Asset, AssetKind, Metric
from tests.bot.harness import BotHarness, running_bot
from tests.support import SOL, make_platform

MINT = "6p6xgHyF7AeE6TZkSmFsko444wqoP15icUSqi2jfGiPN"
TOKEN_ASSET = Asset(kind=AssetKind.TOKEN, id=MINT, metric=Metric.MARKET_CAP_USD)
ALICE, BOB, CAROL = 1001, 1002, 1003
ADMIN, ADMIN2 = 9001, 9002


@pytest.fixture
async def harness() -> AsyncIterator[BotHarness]:
    platform = make_platform(assets=(SOL, TOKEN_ASSET))
    platform.set_price("80000", TOKEN_ASSET)
    async with running_bot(platform, admins=(ADMIN, ADMIN2)) as running:
        yield running
