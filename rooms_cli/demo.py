"""`rooms demo`: the whole platform on one laptop, in a browser, with no configuration
(the composition is :mod:`rooms_cli.demo_platform`).

In one process: in-memory storage on the wall clock; the real Solana runtime in-process
(LiteSVM) with the local signer, so deposits, sweeps and withdrawals are real transfers;
simulated price feeds (random walks, fast enough that a room settles in minutes); the local
Bot API server with its Telegram-like web chat; the real bot polling it; the market engine
(oracle monitor, scheduler, notifications, custody); the web API with the Mini App; and a
small crowd of simulated players that bet on every room, so each has someone to win
against. ``/faucet`` in the chat sends 10 demo SOL to the user's deposit address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Annotated

import anyio
import typer


def demo(
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port of the chat page (the local Bot API server).", min=0)
    ] = 8090,
    api_port: Annotated[int, typer.Option(help="Port of the web API and Mini App.", min=0)] = 8091,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    """Try ROOMS in a browser: a chat that behaves like Telegram with the real bot, funded
    demo wallets on an in-process Solana, prices that move, rooms that settle in minutes.
    Nothing to configure; everything is gone when it stops (Ctrl-C)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )

    from rooms_cli.demo_platform import running_demo

    async def main() -> None:
        async with running_demo(host, port, api_port) as running:
            typer.echo(
                "\nROOMS demo is running.\n\n"
                f"  Open the chat:   {running.chat_url}\n"
                f"  Web API:         {running.api_url}/docs  (Mini App: {running.api_url}/app)\n\n"
                "In the chat: /faucet for 10 demo SOL, then Create room, bet, and watch it "
                "settle.\nCtrl-C stops it."
            )
            # Handled here, not left to Python's default: a process started in the
            # background of a script inherits SIGINT ignored, and would never stop.
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    break

    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(main())
        except OSError as error:
            typer.echo(f"error: cannot serve the demo: {error.strerror or error}", err=True)
            raise typer.Exit(1) from None
