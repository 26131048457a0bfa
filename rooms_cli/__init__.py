"""The `rooms` command line: one entry point whose subcommands start each part of ROOMS."""

from __future__ import annotations

import typer

from rooms_cli.sim import sim

app = typer.Typer(
    name="rooms",
    help="ROOMS: parimutuel prediction rooms. Run `rooms COMMAND --help` for each command.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command(name="sim")(sim)


@app.command()
def version() -> None:
    """Print the installed version."""
    from importlib.metadata import version as installed_version

    typer.echo(installed_version("rooms"))


def main() -> None:
    app()
