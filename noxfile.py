"""Test matrix: `nox` runs every session; `nox -s tests-3.12` one of them."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "layers", "tests"]

PYPROJECT = tomllib.loads(Path("pyproject.toml").read_text())
DEV = nox.project.dependency_groups(PYPROJECT, "dev")
SUPPORTED = ("3.11", "3.12", "3.13")


def find_interpreter(version: str) -> str | None:
    """A working ``pythonX.Y`` on PATH or in a pyenv/uv install directory (pyenv's shims
    exist for every installed version but only run the active ones, so each is tried)."""
    candidates = [shutil.which(f"python{version}")]
    pyenv = os.path.expanduser(os.environ.get("PYENV_ROOT", "~/.pyenv"))
    for pattern in (
        f"{pyenv}/versions/{version}*/bin/python{version}",
        os.path.expanduser(f"~/.local/share/uv/python/cpython-{version}*/bin/python{version}"),
    ):
        candidates += sorted(glob.glob(pattern), reverse=True)
    for candidate in candidates:
        if (
            candidate
            and subprocess.run(
                [candidate, "-c", "import sys"], capture_output=True, check=False
            ).returncode
            == 0
        ):
            return candidate
    return None


# Every supported CPython this machine has: the matrix runs on all of them. Their folders go
# first on PATH so uv finds them, and uv never downloads an interpreter of its own.
INTERPRETERS = {v: path for v in SUPPORTED if (path := find_interpreter(v))}
PYTHONS = list(INTERPRETERS) or ["3.11"]
os.environ["PATH"] = os.pathsep.join(
    [str(Path(p).parent) for p in INTERPRETERS.values()] + [os.environ.get("PATH", "")]
)
os.environ["UV_PYTHON_DOWNLOADS"] = "never"


def install_project(session: nox.Session) -> None:
    session.install("-e", ".[sim]", *DEV)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite, on every supported Python found here."""
    install_project(session)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHONS[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict with the pydantic and returns plugins (config in pyproject.toml)."""
    install_project(session)
    session.run("mypy")


@nox.session(python=PYTHONS[0])
def layers(session: nox.Session) -> None:
    """import-linter: the core imports no adapter, adapters no bot or simulator."""
    install_project(session)
    session.run("lint-imports")
