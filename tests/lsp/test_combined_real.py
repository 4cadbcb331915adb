"""Combined mode: the server an editor starts (`--stdio`) also serves MCP over HTTP. An LSP job and
an MCP tool call run on one swarm and land in one ledger (real 0.5B model)."""

from __future__ import annotations

import asyncio
import sys

import pytest
from lsprotocol import types
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from pytest_lsp import ClientServerConfig

from swarm_lsp.server.mcp.token import load_or_create_token
from tests.lsp.conftest import free_port, initialize_params, open_document, prepare_workspace, record_edits

pytestmark = pytest.mark.real



async def mcp_call(url: str, token: str, name: str, arguments: dict):
    for _ in range(50):  # the HTTP side starts beside the language server; give it a moment
        try:
            async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http_client:
                async with Client(streamable_http_client(url, http_client=http_client)) as client:
                    return await client.call_tool(name, arguments)
        except Exception:
            await asyncio.sleep(0.2)
    raise AssertionError(f"MCP at {url} never answered")


async def test_an_lsp_job_and_an_mcp_call_share_one_swarm_and_one_ledger(tmp_path, monkeypatch):
    root = prepare_workspace(tmp_path)
    monkeypatch.setenv("SWARM_LSP_MCP_TOKEN_FILE", str(tmp_path / "token"))
    token = load_or_create_token()
    port = free_port()
    command = [sys.executable, "-m", "swarm_lsp.server.cli", "--stdio", "--mcp-http", f"127.0.0.1:{port}",
               "--mcp-root", str(root)]
    lsp = await ClientServerConfig(server_command=command).start()
    record_edits(lsp)
    try:
        await lsp.initialize_session(initialize_params("visual-studio-code", root))
        uri = open_document(lsp, root / "textutils.py")
        summary = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
            command="swarm.run", arguments=[{"action": "document", "uri": uri, "symbol": "slugify"}]))
        assert summary["status"] == "accepted", summary

        result = await mcp_call(f"http://127.0.0.1:{port}/mcp", token, "document",
                                {"path": "textutils.py", "symbol": "Truncator.truncate"})
        assert not result.is_error, result
        assert result.structured_content["status"] == "accepted"

        report = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(command="swarm.report"))
        assert report["all_time"]["actions"] == 2  # one from the editor, one from the assistant
        mcp_report = await mcp_call(f"http://127.0.0.1:{port}/mcp", token, "token_report", {})
        assert mcp_report.structured_content["all_time"]["actions"] == 2
        await lsp.shutdown_session()
    finally:
        await lsp.stop()
