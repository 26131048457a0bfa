from __future__ import annotations

import pytest

from tests.browser import browser  # noqa: F401 - headless Chromium for the browser tests
from tests.pg import pg_database  # noqa: F401 - a session fixture for every test folder
from tests.support import Platform, make_platform


@pytest.fixture
def platform() -> Platform:
    return make_platform()
