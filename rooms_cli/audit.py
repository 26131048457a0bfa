"""`rooms audit`: checks an operator runs by hand or from cron."""

from __future__ import annotations

from typing import Annotated

import anyio
import typer
from returns.result import Failure

from rooms_cli.db import DatabaseUrl, database_settings, redacted
from rooms_cli.wallets import HOT_WALLET_OWNER

audit = typer.Typer(help="Checks of the books against the outside world.")


def _sol(lamports: int) -> str:
    from rooms_core.money import format_sol

    return f"{format_sol(lamports)} SOL"


@audit.command()
def solvency(
    database_url: DatabaseUrl = None,
    rpc_url: Annotated[
        str,
        typer.Option(
            envvar="ROOMS_SOLANA_RPC_URLS",
            help="Solana RPC endpoint(s), comma-separated.",
            show_default=False,
        ),
    ] = "",
) -> None:
    """Compare what is held on chain (the hot wallet and the deposit addresses) with what is
    owed (user balances, stakes in open rooms, reserved withdrawals). Exit code 1 on a
    deficit (recorded in the audit log), 2 when it cannot be measured."""
    if not rpc_url.strip():
        typer.echo("error: give --rpc-url or set ROOMS_SOLANA_RPC_URLS", err=True)
        raise typer.Exit(2)
    settings = database_settings(database_url)
    code = anyio.run(_solvency, settings.dsn, rpc_url)
    raise typer.Exit(code)


async def _solvency(dsn: str, rpc_url: str) -> int:
    from rooms_adapters.live import live_deps
    from rooms_adapters.postgres.store import PostgresSettings
    from rooms_adapters.solana.postgres_vault import PostgresKeyVault
    from rooms_adapters.solana.rpc_chain import SolanaRpcChain
    from rooms_core.ports.storage import StorageUnavailable
    from rooms_core.services.custody import check_solvency

    chain = SolanaRpcChain([u.strip() for u in rpc_url.split(",") if u.strip()])
    try:
        async with live_deps(PostgresSettings(dsn=dsn), feeds=[]) as live:
            hot = await PostgresKeyVault(live.store).by_owner(HOT_WALLET_OWNER)
            if hot is None:
                typer.echo("error: no hot wallet yet (rooms worker creates it)", err=True)
                return 2
            report = await check_solvency(live.deps, chain, hot.address)
    except (StorageUnavailable, OSError) as error:
        typer.echo(f"error: cannot use the database at {redacted(dsn)}: {error}", err=True)
        return 2
    finally:
        await chain.close()
    if isinstance(report, Failure):
        typer.echo(f"error: {report.failure().message}", err=True)
        return 2
    r = report.unwrap()
    rows = [
        ("hot wallet", r.hot_wallet),
        ("deposit addresses (unswept)", r.deposit_addresses),
        ("held on chain", r.held),
        ("user balances", r.user_balances),
        ("stakes in open rooms", r.in_rooms),
        ("reserved withdrawals", r.pending_withdrawals),
        ("owed", r.owed),
        ("surplus" if r.solvent else "DEFICIT", r.surplus),
    ]
    for label, amount in rows:
        typer.echo(f"{label:<30} {_sol(amount):>24}")
    if not r.solvent:
        typer.echo("The platform cannot cover its balances: withdrawals are paused.", err=True)
        return 1
    return 0
