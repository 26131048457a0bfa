from __future__ import annotations

import pytest

from tests.browser import browser  # noqa: F401 - headless Chromium for the browser tests
from tests.pg import pg_database  # noqa: F401 - a session fixture for every test folder
from tests.support import Platform, make_platform


@pytest.fixture
def platform() -> Platform:
    return make_platform()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups for pytest-xdist's ``--dist loadgroup`` (how the nox sessions run the suite):
    the tests of one file in one worker (they share fixtures and, some of them, a Redis
    database), and every heavy test in one worker, one after another (some put the machine
    under load or drive a browser). Without xdist the marks change nothing."""
    for item in items:
        group = "heavy" if item.get_closest_marker("heavy") else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
