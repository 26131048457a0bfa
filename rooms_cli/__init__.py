"""The `rooms` command line: one entry point whose subcommands start each part of ROOMS."""

from __future__ import annotations

from importlib.metadata import version as installed_version

import typer

from rooms_cli.api import api
from rooms_cli.audit import audit
from rooms_cli.bot import bot
from rooms_cli.db import db
from rooms_cli.demo import demo
from rooms_cli.sim import sim
from rooms_cli.worker import worker

app = typer.Typer(
    name="rooms",
    help="ROOMS: parimutuel prediction rooms. Run `rooms COMMAND --help` for each command.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register_commands(app: typer.Typer) -> None:
    """Every subcommand, in one place. Each part of ROOMS defines its command (or a
    `typer.Typer` group, added with `app.add_typer(group, name=...)`) in its own module here,
    `rooms_cli/<name>.py`, and is added to the app here."""
    app.command(name="sim")(sim)
    app.add_typer(db, name="db")
    app.add_typer(audit, name="audit")
    app.command(name="worker")(worker)
    app.command(name="bot")(bot)
    app.command(name="api")(api)
    app.command(name="demo")(demo)


_register_commands(app)


@app.command()
def version() -> None:
    """Print the installed version."""
    typer.echo(installed_version("rooms"))


def main() -> None:
    """The `rooms` console script (and `python -m rooms_cli`)."""
    app(prog_name="rooms")
