"""The `rooms` entry point: help readable in a terminal of any width, a quick exit."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rooms_cli import app, unwrapped

runner = CliRunner()


def test_unwrapped_joins_lines_and_keeps_paragraphs() -> None:
    text = """First line
    goes on.

        Second paragraph,
        two lines."""
    assert unwrapped(text) == "First line goes on.\n\nSecond paragraph, two lines."


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        # the sim command's second paragraph, wrapped in its docstring
        (["sim", "--help"], "Exits with status 1 if any books-balance invariant fails"),
        # the worker's docstring, wrapped in the source, in the list of commands
        (["--help"], "poll prices and settle rooms whose target is hit"),
        # a command inside a group, in the group's list
        (["db", "--help"], "Safe to run again, and from several processes at once"),
    ],
)
def test_help_wraps_at_the_terminal_not_at_the_source(args: list[str], sentence: str) -> None:
    result = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert sentence in result.output


def test_the_console_script_leaves_its_objects_to_the_operating_system() -> None:
    # The collection at exit is skipped (gc.freeze) once a command has run: checked from an
    # exit handler, which runs after main() has returned or raised.
    script = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen:', gc.get_freeze_count() > 0))\n"
        "sys.argv = ['rooms', 'version']\n"
        "from rooms_cli import main\n"
        "main()\n"
    )
    assert "frozen: True" in _output_of(script)


def test_help_and_version_load_no_part_of_rooms_they_do_not_run() -> None:
    # `rooms --help` imports every command's module: each imports what its command runs
    # inside the command, so listing the commands stays quick (the simulator's imports
    # alone took longer than the rest of `rooms --help`).
    script = (
        "import sys\n"
        "sys.argv = ['rooms', 'version']\n"
        "from rooms_cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('rooms_sim', 'rooms_adapters.memory.container', 'rooms_core.services',\n"
        "         'rooms_api', 'rooms_bot', 'dependency_injector', 'matplotlib')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    assert _output_of(script).strip().splitlines()[-1] == "[]"


def _output_of(script: str) -> str:
    """What a Python script run in a fresh interpreter prints; it must exit with 0."""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
