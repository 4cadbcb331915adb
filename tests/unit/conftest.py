"""Fixtures shared by the unit tests of the HTTP backends (replayed wire formats)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(scope="module")
def _second_server_for_module():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()  # takes up to 0.5 s, so once per module rather than per test


@pytest.fixture
def second_server(_second_server_for_module):
    """A second replaying server beside pytest-httpserver's `httpserver`, for failover tests."""
    _second_server_for_module.clear()
    yield _second_server_for_module
    _second_server_for_module.clear()
