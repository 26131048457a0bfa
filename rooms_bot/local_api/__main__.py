"""``python -m rooms_bot.local_api``: run the local Bot API server (and its chat page) until
Ctrl-C; ``--demo`` also runs a small demo bot against it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from rooms_bot.local_api.server import LocalBotApi


async def serve(args: argparse.Namespace) -> None:
    api = LocalBotApi(
        args.token,
        args.username,
        args.host,
        args.port,
        bot_name=args.name,
        flood_limit=args.flood_limit,
    )
    async with api:
        print(
            f"Bot API:   {api.base_url}   (aiogram: TelegramAPIServer.from_base({api.base_url!r}))"
        )
        print(f"token:     {api.token}")
        print(f"chat page: {api.chat_url}   (?user=ID&name=NAME plays another user)", flush=True)
        if args.demo:
            from rooms_bot.local_api.demo import run_demo_bot

            await run_demo_bot(api.base_url, api.token)
        else:
            await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m rooms_bot.local_api",
        description="A local Telegram Bot API server with a web chat page.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--username", default="rooms_test_bot", help="the bot's username")
    parser.add_argument("--name", default="ROOMS", help="the bot's display name")
    parser.add_argument("--flood-limit", type=int, default=None, help="messages/s per chat")
    parser.add_argument("--demo", action="store_true", help="also run the demo bot")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
