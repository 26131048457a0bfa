"""The `rooms` command line: one entry point whose subcommands start each part of ROOMS."""

from __future__ import annotations

import gc
import inspect
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


def unwrapped(help_text: str) -> str:
    """``help_text`` with each paragraph on one line. Typer's rich help keeps a docstring's
    line breaks inside a paragraph (in the list of commands, and after the first paragraph),
    so text wrapped at 100 columns in the source would break at odd places in a terminal."""
    paragraphs = inspect.cleandoc(help_text).split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def _unwrap_help(app: typer.Typer) -> None:
    for command in app.registered_commands:
        text = command.help or (command.callback.__doc__ if command.callback else None)
        if text:
            command.help = unwrapped(text)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            _unwrap_help(group.typer_instance)


_register_commands(app)


@app.command()
def version() -> None:
    """Print the installed version."""
    typer.echo(installed_version("rooms"))


_unwrap_help(app)


def main() -> None:
    """The `rooms` console script (and `python -m rooms_cli`)."""
    try:
        app(prog_name="rooms")
    finally:
        # What a command leaves behind goes back to the operating system at exit instead of
        # being collected object by object: after `rooms sim stress` that collection took
        # 5.7 s of waiting on a finished run. Files are closed and streams flushed by then.
        gc.freeze()
