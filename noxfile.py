"""Test matrix: `nox` runs every session; `nox -s tests-3.12` one of them."""

from __future__ import annotations

import shutil
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
# Every supported CPython this machine has: the matrix runs on all of them.
PYTHONS = [v for v in SUPPORTED if shutil.which(f"python{v}")] or ["3.11"]


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
