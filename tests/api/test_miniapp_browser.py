"""The Mini App in headless Chromium at a phone's width: it shows the active rooms, and a
bet placed through the services moves the room's pools on screen (over the WebSocket); the
user's open bets and a room's price chart. Screenshots go to test-artifacts/."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Page, expect

from rooms_core.models import Side
from rooms_core.money import sol
from tests.api.support import init_data, make_api, serve
from tests.browser import ARTIFACTS
from tests.support import SOL

pytestmark = pytest.mark.heavy


async def phone(browser: Browser) -> Page:
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    return await context.new_page()


async def test_the_mini_app_shows_live_pools_my_bets_and_a_chart(browser: Browser) -> None:
    api = make_api()
    p = api.platform
    host = await p.user()
    room = await p.room(host)
    await p.room(host, target="120", minutes=90)
    me = await p.user(deposit=sol(10))
    await p.bet(me, room, Side.NO, sol("1.5"))
    for price in ("150", "152", "149", "151"):
        p.clock.advance(120)
        p.set_price(price)
        await p.deps.oracle.observe(SOL)
    assert me.telegram_id is not None
    launch = quote(init_data(me.telegram_id, p.clock.now()), safe="")
    page = await phone(browser)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    async with serve(api.app) as address:
        await page.goto(f"http://{address}/app#tgWebAppData={launch}&tgWebAppVersion=8.0")
        card = page.locator(f'#rooms [data-room-id="{room.id}"]')
        await expect(card.locator(".no-pool")).to_have_text("1.5 SOL")
        await expect(card.locator(".yes-pool")).to_have_text("0 SOL")
        await expect(page.locator("#live")).to_have_class("live on")
        await expect(page.locator("#balance")).to_have_text("8.5 SOL")
        await page.screenshot(path=ARTIFACTS / "miniapp-rooms-before.png")

        await p.bet(await p.user(), room, Side.YES, sol(3))  # through the services
        await expect(card.locator(".yes-pool")).to_have_text("3 SOL")
        await expect(card.locator(".badge")).to_have_text("OPEN")
        await expect(card.locator(".yes-mult")).to_have_text("×1.46")
        await page.wait_for_timeout(600)  # the pool bar slides to its new width
        await page.screenshot(path=ARTIFACTS / "miniapp-rooms-after-bet.png")

        await page.locator('.tab[data-tab="bets"]').click()
        bet = page.locator(f'#bets [data-room-id="{room.id}"]')
        await expect(bet.locator(".stake")).to_have_text("1.5 SOL")
        # T = 4.5 SOL, fee 3%: 4.365 SOL to my 1.5 SOL on NO if it wins.
        await expect(bet.locator(".payout")).to_have_text("4.365 SOL")
        await page.screenshot(path=ARTIFACTS / "miniapp-my-bets.png")

        await bet.click()
        await expect(page.locator("#chart polyline")).to_have_count(1)
        await expect(page.locator("#chart-price")).to_have_text("$151")
        await page.screenshot(path=ARTIFACTS / "miniapp-room-chart.png")
    assert errors == []
