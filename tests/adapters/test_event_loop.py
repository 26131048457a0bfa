"""The services' event loop: anyio on asyncio, on uvloop where the project installs it."""

from __future__ import annotations

import asyncio
import sys

import pytest

from rooms_adapters.system.event_loop import run_service, uvloop_available


async def loop_module(offset: int) -> tuple[str, int]:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__, offset + 1


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not run on Windows")
def test_services_run_on_uvloop_where_it_is_a_dependency() -> None:
    assert uvloop_available()  # the postgres, bot and api extras install it
    module, value = run_service(loop_module, 41)
    assert module.startswith("uvloop")
    assert value == 42
