"""`rooms demo` in headless Chromium: in the Telegram-like chat page, a new user gets demo SOL,
opens the Mini App from the bot's menu (signed in by the chat's initData), creates a room,
bets, sees it settle, and withdraws to an outside wallet, which the in-process chain then
shows paid. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from rooms_cli.demo_platform import RunningDemo, running_demo
from tests.browser import ARTIFACTS

pytestmark = pytest.mark.heavy

USER = 777


@pytest.fixture
async def demo() -> AsyncIterator[RunningDemo]:
    async with running_demo() as running:
        yield running


class Chat:
    """The user's side of the chat page."""

    def __init__(self, page: Page) -> None:
        self.page = page

    async def wait_for(self, text: str, *, seconds: float = 30) -> None:
        await expect(self.page.locator(".row.in .text", has_text=text).last).to_be_visible(
            timeout=seconds * 1000
        )

    async def send(self, text: str) -> None:
        await self.page.locator("#input").fill(text)
        await self.page.locator("#input").press("Enter")

    async def click(self, label: str) -> None:
        await self.page.locator(".row.in .kb-btn", has_text=label).last.click()

    async def shot(self, name: str) -> None:
        await self.page.screenshot(path=ARTIFACTS / f"demo-{name}.png", full_page=False)


async def test_deposit_create_bet_settle_withdraw_in_the_browser(
    browser: Browser, demo: RunningDemo
) -> None:
    context = await browser.new_context(viewport={"width": 480, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    chat = Chat(page)
    await page.goto(f"{demo.chat_url}?user={USER}&name=Tess")

    await chat.wait_for("Choose what to do")  # the page sent /start by itself
    await chat.shot("1-start")
    await chat.send("/faucet")
    await chat.wait_for("Deposit credited: 10 SOL.")

    await chat.send("/start")
    await chat.wait_for("balance 10 SOL")
    async with page.expect_popup() as opened:  # the Mini App, signed in as this user
        await chat.click("Live view")
    mini_app = await opened.value
    await expect(mini_app.locator("#balance")).to_have_text("10 SOL", timeout=15_000)
    await mini_app.screenshot(path=ARTIFACTS / "demo-mini-app.png")
    await mini_app.close()
    await chat.click("Create room")
    await chat.click("Coin price")
    await chat.wait_for("Which coin?")
    await chat.send("SOL")
    await chat.wait_for("Step 3/6")
    await chat.send("Will SOL stay above $100?")
    await chat.click("at or above")
    await chat.wait_for("Step 5/6")
    await chat.send("100")
    await chat.click("5m")
    await chat.wait_for("Review your room")
    await chat.shot("2-review")
    await chat.click("Create")
    await chat.wait_for("is live")
    await chat.click("Will SOL stay above $100?")
    await chat.wait_for("State:")
    await chat.click("Bet YES")
    await chat.click("1 SOL")
    await chat.wait_for("Confirm your bet")
    await chat.click("Confirm 1 SOL on YES")
    await chat.wait_for("Bet placed")
    await chat.wait_for("You won in room", seconds=60)  # the crowd took NO; SOL ≥ 100
    await chat.shot("3-won")

    await chat.send("/wallet")
    await chat.click("Withdraw")
    await chat.wait_for("Send the Solana address")
    await chat.send(demo.outside_address)
    await chat.wait_for("How much SOL?")
    await chat.send("1")
    await chat.click("Withdraw 1 SOL")
    await chat.wait_for("requested")
    await chat.wait_for("Withdrawal of 1 SOL sent", seconds=60)
    await chat.shot("4-withdrawn")

    assert (await demo.chain.balance(demo.outside_address)).unwrap() == 10**9
    assert errors == []
    checks = demo.store.books_checks()
    assert all(checks.values()), checks
