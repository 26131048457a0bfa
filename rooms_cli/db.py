"""`rooms db`: the PostgreSQL schema (migrations) of a deployment."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rooms_adapters.postgres.store import PostgresSettings

db = typer.Typer(help="The PostgreSQL database: apply and inspect schema migrations.")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="postgresql:// URL. Default: the ROOMS_DATABASE_URL environment variable.",
        show_default=False,
    ),
]


def database_settings(database_url: str | None) -> PostgresSettings:
    """The database settings from ``--database-url`` or the environment; exits on bad input."""
    try:
        from rooms_adapters.postgres.store import DatabaseSettingsError, PostgresSettings
    except ImportError:  # asyncpg comes with the `postgres` extra
        typer.echo("rooms db needs the postgres extra: pip install 'rooms[postgres]'", err=True)
        raise typer.Exit(2) from None
    env = None if database_url is None else {"ROOMS_DATABASE_URL": database_url}
    try:
        return PostgresSettings.from_env(env)
    except DatabaseSettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def _dsn(database_url: str | None) -> str:
    return database_settings(database_url).dsn


def _unreachable(dsn: str, error: BaseException) -> typer.Exit:
    typer.echo(f"error: cannot use the database at {redacted(dsn)}: {error}", err=True)
    return typer.Exit(1)


def redacted(dsn: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@db.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Apply the schema migrations not yet applied. Safe to run again, and from several
    processes at once (they take turns on an advisory lock)."""
    dsn = _dsn(database_url)
    from rooms_adapters.postgres.migrate import migrate_dsn

    try:
        applied = asyncio.run(migrate_dsn(dsn))
    except Exception as error:
        raise _unreachable(dsn, error) from None
    if not applied:
        typer.echo("The schema is up to date: nothing to apply.")
    for migration in applied:
        typer.echo(f"applied {migration.version:04d}_{migration.name}")


@db.command()
def status(database_url: DatabaseUrl = None) -> None:
    """List the migrations: applied (with when) and pending. Exit code 1 if any is pending."""
    dsn = _dsn(database_url)
    from rooms_adapters.postgres.migrate import migration_status

    try:
        rows = asyncio.run(migration_status(dsn))
    except Exception as error:
        raise _unreachable(dsn, error) from None
    pending = 0
    for migration, applied_at in rows:
        label = f"applied {applied_at:%Y-%m-%d %H:%M:%S %Z}" if applied_at else "pending"
        pending += applied_at is None
        typer.echo(f"{migration.version:04d}_{migration.name}: {label}")
    if pending:
        raise typer.Exit(1)
