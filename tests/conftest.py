from __future__ import annotations

import pytest

from tests.support import Platform, make_platform


@pytest.fixture
def platform() -> Platform:
    return make_platform()
