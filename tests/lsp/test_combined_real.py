"""Combined mode: the server an editor starts (`--stdio`) also serves MCP over HTTP in the same
session: an LSP job and an MCP call wait in one queue, a settings change from the editor reaches the
MCP tools, and everything lands in one ledger (real 0.5B and 1.5B models)."""

from __future__ import annotations

import asyncio
import sys

import pytest
from anyio import fail_after as anyio_fail_after
from lsprotocol import types
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from pytest_lsp import ClientServerConfig

from swarm_lsp.server.mcp.token import load_or_create_token
from swarm_lsp.swarm.ledger import Ledger
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


async def wait_for_status(url: str, token: str, accept) -> dict:
    with anyio_fail_after(120):  # a hang guard, not an assertion
        while True:
            status = (await mcp_call(url, token, "swarm_status", {})).structured_content
            if accept(status):
                return status
            await asyncio.sleep(0.05)


async def test_one_session_one_queue_one_configuration_one_ledger(tmp_path, monkeypatch):
    root = prepare_workspace(tmp_path)
    monkeypatch.setenv("SWARM_LSP_MCP_TOKEN_FILE", str(tmp_path / "token"))
    token = load_or_create_token()
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    command = [sys.executable, "-m", "swarm_lsp.server.cli", "--stdio", "--mcp-http", f"127.0.0.1:{port}",
               "--mcp-root", str(root)]
    lsp = await ClientServerConfig(server_command=command).start()
    record_edits(lsp)
    try:
        await lsp.initialize_session(initialize_params("visual-studio-code", root))
        uri = open_document(lsp, root / "textutils.py")
        # An editor job, and an assistant's call submitted while it runs: one queue, one at a time.
        editor_job = asyncio.ensure_future(lsp.workspace_execute_command_async(types.ExecuteCommandParams(
            command="swarm.run", arguments=[{"action": "document", "uri": uri, "symbol": "slugify"}])))
        await wait_for_status(url, token, lambda s: [j["origin"] for j in s["running"]] == ["lsp"])
        assistant_call = asyncio.ensure_future(mcp_call(url, token, "document",
                                                        {"path": "textutils.py", "symbol": "Truncator.truncate"}))
        waiting = await wait_for_status(url, token, lambda s: [j["origin"] for j in s["queued"]] == ["mcp"]
                                        or not s["running"])
        summary, result = await editor_job, await assistant_call
        assert summary["status"] == "accepted", summary
        assert not result.is_error and result.structured_content["status"] == "accepted", result
        assert [j["origin"] for j in waiting["queued"]] == ["mcp"], waiting  # it waited behind the editor's job
        targets = {action.action_id: action.target for action in Ledger().recent_actions(10)}
        calls = sorted(Ledger().recent_calls(50), key=lambda call: call.time)
        order = [targets[call.action_id] for call in calls]
        # every model call of the editor's job, then every call of the assistant's
        assert order == sorted(order, key=lambda target: target != "textutils.py::slugify"), order
        assert set(order) == {"textutils.py::slugify", "textutils.py::Truncator.truncate"}

        # A settings change from the editor reaches the MCP tools: their next call uses the new tier.
        lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"swarm-lsp": {"tiers": ["llamacpp:qwen2.5-coder-1.5b"], "candidates": 1}}))
        status = await wait_for_status(url, token, lambda s: s["tiers"] == ["llamacpp:qwen2.5-coder-1.5b"])
        assert status["tiers"] == ["llamacpp:qwen2.5-coder-1.5b"]
        result = await mcp_call(url, token, "document", {"path": "textutils.py", "symbol": "count_words"})
        assert not result.is_error, result
        assert result.structured_content["usage"]["by_model"].keys() == {"llamacpp:qwen2.5-coder-1.5b"}

        report = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(command="swarm.report"))
        assert report["all_time"]["actions"] == 3  # the editor's and the assistant's, in one ledger
        mcp_report = await mcp_call(url, token, "token_report", {})
        assert mcp_report.structured_content["all_time"]["actions"] == 3
        await lsp.shutdown_session()
    finally:
        await lsp.stop()
