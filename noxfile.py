"""Test matrix: `nox` runs every default session; `nox -s tests-3.12` one of them."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True
nox.options.download_python = "never"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "layers", "tests", "tests_lowest"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
DEV = nox.project.dependency_groups(PYPROJECT, "dev")
# requires-python gives the lower bound; the newest CPython we support is set here.
SUPPORTED = nox.project.python_versions(PYPROJECT, max_version="3.13")


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


# Every supported CPython this machine has: the matrix runs on all of them (and fails if it has
# none). Their folders go first on PATH so nox and uv find them; neither downloads one.
INTERPRETERS = {v: path for v in SUPPORTED if (path := find_interpreter(v))}
PYTHONS = list(INTERPRETERS) or SUPPORTED[:1]
os.environ["PATH"] = os.pathsep.join(
    [str(Path(p).parent) for p in INTERPRETERS.values()] + [os.environ.get("PATH", "")]
)
os.environ["UV_PYTHON_DOWNLOADS"] = "never"


def install_project(session: nox.Session, *uv_options: str) -> None:
    """The project in editable mode with its extras and the `dev` dependency group."""
    session.install(*uv_options, "-e", ".[sim,postgres,feeds,solana,bot,api]", *DEV)


def dev_requirement(name: str) -> str:
    """The `dev` group's requirement for one tool, so sessions that need only it agree with
    pyproject.toml on its version."""
    return next(r for r in DEV if Requirement(r).name == name)


# Tests marked `heavy` (subprocess CLIs, headless browsers, 1,000-client load tests, benchmark
# smoke runs) take most of a run's time while exercising no code path that depends on the
# interpreter; they run once, on the lowest supported Python, and every other run leaves them
# out so the whole matrix stays within CI's time budget.
NOT_HEAVY = ("-m", "not heavy")
# One pytest process per session, its tests in parallel worker processes (pytest-xdist), a
# test file to a worker (a file's tests share fixtures and, some of them, a Redis database;
# each worker makes its own PostgreSQL database). `loadfile`, not `loadgroup` with marks
# given at collection: xdist's worker reads the marks before a conftest hook can add them,
# and pytest 9.2's node ids drop the group xdist 3.8 writes into them
# (pytest-dev/pytest-xdist#1386), so those groups were never kept and the two Redis tests of
# one file ran at once on two workers, one emptying the database under the other.
# (Under xdist, schemathesis reports its per-operation tests as one test per function; each
# operation is still called, and a failure names it.)
PARALLEL = ("-n", str(min(os.cpu_count() or 1, 4)), "--dist", "loadfile")


def run_tests(session: nox.Session, *, heavy: bool) -> None:
    if session.posargs:  # a selection given to the session runs as given, in one process
        session.run("pytest", *session.posargs)
    else:
        session.run("pytest", *PARALLEL, *(() if heavy else NOT_HEAVY))


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite, on every supported Python found here (the heavy tests on the first)."""
    install_project(session)
    run_tests(session, heavy=session.python == PYTHONS[0])


@nox.session(python=PYTHONS[0])
def tests_lowest(session: nox.Session) -> None:
    """The test suite on the lowest versions of our direct dependencies: keeps the lower
    bounds in pyproject.toml honest."""
    install_project(session, "--resolution=lowest-direct")
    run_tests(session, heavy=False)


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install(dev_requirement("ruff"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHONS[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict with the pydantic and returns plugins (config in pyproject.toml)."""
    install_project(session)
    session.run("mypy", *session.posargs)


@nox.session(python=PYTHONS[0])
def layers(session: nox.Session) -> None:
    """import-linter: layers, a framework-free core, bot and simulator independent."""
    install_project(session)
    session.run("lint-imports")
