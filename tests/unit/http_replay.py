"""Helpers for tests that replay an HTTP API with pytest-httpserver."""

from __future__ import annotations

from pytest_httpserver import HTTPServer


def sent(server: HTTPServer, index: int = 0) -> dict:
    """The JSON body of the index-th request the server received."""
    request, _ = server.log[index]
    return request.get_json()
