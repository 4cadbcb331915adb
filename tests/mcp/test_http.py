"""The MCP server over streamable HTTP: the secured app runs in-process under uvicorn on a free loopback
port in a background thread; the SDK's streamable HTTP client talks to it with and without the token.
Plus the token file (0600, reused, unsafe modes refused) and the CLI's refusal to bind non-loopback."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from swarm_lsp.server.cli import main
from swarm_lsp.server.mcp.app import create_mcp_server
from swarm_lsp.server.mcp.http import is_loopback_host, is_loopback_origin, parse_host_port, secured_app
from swarm_lsp.server.mcp.token import TokenFileError, load_or_create_token

from .conftest import scripted_factory

TOKEN = "test-token-" + "x" * 32
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "0"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@contextmanager
def serving(app) -> Iterator[str]:
    """Serves `app` with uvicorn on a loopback port in a thread; yields `http://127.0.0.1:PORT`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a hang guard for a loaded machine
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)  # a hang guard
        sock.close()
        assert not thread.is_alive(), "uvicorn thread did not stop"


@pytest.fixture
def http_server(root):
    """Yields the base URL `http://127.0.0.1:PORT`; stops the uvicorn thread afterwards."""
    with serving(secured_app(create_mcp_server(root, swarm_factory=scripted_factory()), TOKEN)) as url:
        yield url


def post(url: str, **headers: str) -> httpx.Response:
    return httpx.post(url + "/mcp", json=INIT, headers={**MCP_HEADERS, **headers}, timeout=5)


async def test_sdk_client_with_the_token_lists_the_tools(http_server):
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as http_client:
        transport = streamable_http_client(http_server + "/mcp", http_client=http_client)
        async with Client(transport) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
    assert {"document", "token_report", "swarm_status"} <= tools


def test_no_token_is_401(http_server):
    response = post(http_server)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize("authorization", [f"Bearer {TOKEN}x", "Bearer", "bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_wrong_token_is_401(http_server, authorization):
    response = post(http_server, Authorization=authorization)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "token" in response.json()["error_description"]


def test_foreign_origin_is_403_even_with_the_token(http_server):
    response = post(http_server, Authorization=f"Bearer {TOKEN}", Origin="http://evil.example")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_loopback_origin_with_the_token_is_accepted(http_server):
    port = http_server.rsplit(":", 1)[1]
    response = post(http_server, Authorization=f"Bearer {TOKEN}", Origin=f"http://localhost:{port}")
    assert response.status_code == 200, response.text
    assert "mcp-session-id" in response.headers


def test_loopback_origin_and_host_helpers():
    for origin in ("http://127.0.0.1", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"):
        assert is_loopback_origin(origin), origin
    for origin in ("http://evil.example", "http://localhost.evil.example", "http://127.0.0.1.nip.io",
                   "null", "http://localhost:99999", "http://user@localhost", "file://localhost"):
        assert not is_loopback_origin(origin), origin
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1") and is_loopback_host("localhost")
    assert not is_loopback_host("0.0.0.0") and not is_loopback_host("example.com")
    assert parse_host_port("[::1]:8765") == ("::1", 8765)
    with pytest.raises(ValueError):
        parse_host_port("127.0.0.1")


def test_token_file_is_created_0600_and_reused(tmp_path, monkeypatch):
    path = tmp_path / "cfg" / "mcp-token"
    monkeypatch.setenv("SWARM_LSP_MCP_TOKEN_FILE", str(path))
    token = load_or_create_token()
    assert len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_token() == token
    assert load_or_create_token(path) == token


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_group_readable_token_file_is_refused(tmp_path):
    path = tmp_path / "mcp-token"
    path.write_text("secret\n")
    path.chmod(0o640)
    with pytest.raises(TokenFileError, match="chmod 600"):
        load_or_create_token(path)


def test_mcp_token_command_prints_the_token(tmp_path, monkeypatch, capsys):
    path = tmp_path / "mcp-token"
    monkeypatch.setenv("SWARM_LSP_MCP_TOKEN_FILE", str(path))
    assert main(["mcp", "token"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == path.read_text().strip()
    path.chmod(0o644)
    assert main(["mcp", "token"]) == 2
    assert "chmod 600" in capsys.readouterr().err


def test_non_loopback_http_needs_allow_remote(root, capsys):
    assert main(["mcp", "--root", str(root), "--http", "0.0.0.0:8765"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    assert main(["mcp", "--root", str(root), "--http", "nonsense"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err
