"""Load (issue 20, item 7): twenty jobs at once from an editor (LSP over stdio) and an assistant (MCP
over HTTP) in one combined server, the real `swarm-lsp` command line with scripted model tiers
(tests/load/scripted_server.py). Every job completes, or is refused at once with a message that
says which limit and to try again; cancelled jobs end as cancelled; nothing deadlocks; the ledger
has one action row per job that ran and every model call belongs to one of them."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from anyio import fail_after
from lsprotocol import types
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from pytest_lsp import ClientServerConfig, LanguageClient

from swarm_lsp.server.mcp.token import load_or_create_token
from swarm_lsp.swarm.ledger import Ledger
from tests.lsp.conftest import free_port, initialize_params, open_document, record_edits
from tests.mcp.conftest import make_root

REPO = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 120  # a deadlock guard, not a duration under test
QUEUE_FULL = "swarm jobs are already waiting (limit 8); try again later"
IN_FLIGHT = "too many requests in flight from this client (at most 8); wait for a call to finish"
CANCELLED = "cancelled"


async def start(root: Path, port: int) -> LanguageClient:
    command = [sys.executable, "-m", "tests.load.scripted_server", "--stdio",
               "--mcp-http", f"127.0.0.1:{port}", "--mcp-root", str(root)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "SWARM_LSP_SCRIPTED_DELAY_S": "0.3"}  # 9 jobs outlast 20 submissions
    lsp = await ClientServerConfig(server_command=command, server_env=env).start()
    record_edits(lsp)
    await lsp.initialize_session(initialize_params("visual-studio-code", root))
    return lsp


async def editor_job(lsp: LanguageClient, uri: str, msg_id: str) -> str:
    params = types.ExecuteCommandParams(command="swarm.run", arguments=[
        {"action": "document", "uri": uri, "symbol": "scale"}])
    try:
        summary = await lsp.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id)
    except Exception as exc:  # an error response: it must say why
        code = getattr(exc, "code", None)
        return f"error {code}: {exc}"
    return summary["status"]


async def assistant_call(client: Client) -> str:
    try:
        result = await client.call_tool("document", {"path": "pkg/scale.py", "symbol": "scale"})
    except Exception as exc:  # refused by the transport: the client shows the server's message
        return f"refused: {exc}"
    if result.is_error:
        return f"tool error: {result.content[0].text}"
    return result.structured_content["status"]


async def mcp_client_ready(url: str, token: str):
    for _ in range(100):  # the HTTP side starts beside the language server
        try:
            http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
            async with http:
                async with Client(streamable_http_client(url, http_client=http)) as client:
                    await client.list_tools()
            return
        except Exception:
            await asyncio.sleep(0.1)
    raise AssertionError(f"MCP at {url} never answered")


async def run_at_once(lsp: LanguageClient, uri: str, url: str, token: str, editors: int, assistants: int,
                      cancel: int = 0, round_name: str = "r") -> tuple[list[str], list[str], dict[str, Any]]:
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            ids = [f"{round_name}-{n}" for n in range(editors)]
            jobs = [asyncio.ensure_future(editor_job(lsp, uri, msg_id)) for msg_id in ids]
            calls = [asyncio.ensure_future(assistant_call(client)) for _ in range(assistants)]
            for msg_id in ids[-cancel:] if cancel else []:  # the last editor jobs, most likely still queued
                await asyncio.sleep(0.05)
                lsp.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
            with fail_after(HANG_GUARD_S):
                editor_outcomes = list(await asyncio.gather(*jobs))
                assistant_outcomes = list(await asyncio.gather(*calls))
                status = (await client.call_tool("swarm_status", {})).structured_content
    return editor_outcomes, assistant_outcomes, status


def ledger_rows() -> tuple[list, list]:
    ledger = Ledger()
    return ledger.recent_actions(1000), ledger.recent_calls(10_000)


def assert_ledger_consistent(actions: list, calls: list) -> None:
    assert len({a.action_id for a in actions}) == len(actions)  # no row written twice
    by_action: dict[str, list] = {a.action_id: [] for a in actions}
    for call in calls:
        assert call.action_id in by_action, call  # no call without its action
        by_action[call.action_id].append(call)
    for action in actions:
        spent = sum(c.prompt_tokens + c.completion_tokens for c in by_action[action.action_id])
        assert spent == action.local_tokens, action


async def test_twenty_jobs_at_once_complete_or_are_refused_clearly(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    monkeypatch.setenv("SWARM_LSP_MCP_TOKEN_FILE", str(tmp_path / "token"))
    token, port = load_or_create_token(), free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    lsp = await start(root, port)
    try:
        uri = open_document(lsp, root / "pkg" / "scale.py")
        await mcp_client_ready(url, token)

        # Round 1, the default limits: one job runs, 8 wait, the rest are refused at once.
        editor, assistant, status = await run_at_once(lsp, uri, url, token, editors=10, assistants=10, round_name="a")
        outcomes = editor + assistant
        accepted = outcomes.count("accepted")
        refused = [o for o in outcomes if o != "accepted"]
        assert all(QUEUE_FULL in o or IN_FLIGHT in o for o in refused), refused
        assert all(o.startswith("error -32803") for o in editor if o != "accepted"), editor  # RequestFailed
        assert accepted >= 9 and refused, outcomes  # a refusal means 8 were waiting behind a running one
        assert status["running"] == [] and status["queued"] == []
        actions, calls = ledger_rows()
        assert [a.status for a in actions] == ["accepted"] * accepted  # one row per job that ran
        assert_ledger_consistent(actions, calls)

        # Round 2, a queue of 20: all twenty complete, but three editor jobs cancelled on the way.
        lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"swarm-lsp": {"max_queued_jobs": 20}}))
        await asyncio.sleep(0.2)  # the notification is handled before the next requests
        editor, assistant, status = await run_at_once(lsp, uri, url, token, editors=12, assistants=8, cancel=3,
                                                      round_name="b")
        assert assistant == ["accepted"] * 8, assistant
        assert editor[:9] == ["accepted"] * 9, editor
        assert all(o == "accepted" or o.startswith("error -32800") for o in editor[9:]), editor  # RequestCancelled
        assert status["running"] == [] and status["queued"] == []
        actions, calls = ledger_rows()
        round_two = actions[: len(actions) - accepted]
        finished = (editor + assistant).count("accepted")
        assert sorted(a.status for a in round_two if a.status == "accepted") == ["accepted"] * finished
        assert {a.status for a in round_two} <= {"accepted", "cancelled"}  # a job cancelled while running
        assert_ledger_consistent(actions, calls)

        # Still serving: one more job from each side.
        editor, assistant, _ = await run_at_once(lsp, uri, url, token, editors=1, assistants=1, round_name="c")
        assert editor + assistant == ["accepted", "accepted"]
        await lsp.shutdown_session()
    finally:
        await lsp.stop()


async def test_a_queue_of_zero_runs_one_job_and_refuses_the_others(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    (root / "swarm-lsp.toml").write_text((root / "swarm-lsp.toml").read_text() + "max_queued_jobs = 0\n")
    monkeypatch.setenv("SWARM_LSP_MCP_TOKEN_FILE", str(tmp_path / "token"))
    token, port = load_or_create_token(), free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    lsp = await start(root, port)
    try:
        uri = open_document(lsp, root / "pkg" / "scale.py")
        await mcp_client_ready(url, token)
        editor, assistant, _ = await run_at_once(lsp, uri, url, token, editors=3, assistants=3, round_name="z")
        outcomes = editor + assistant
        assert outcomes.count("accepted") >= 1, outcomes
        assert all(o == "accepted" or "none may wait (max_queued_jobs = 0)" in o for o in outcomes), outcomes
        actions, calls = ledger_rows()
        assert len(actions) == outcomes.count("accepted")
        assert_ledger_consistent(actions, calls)
        await lsp.shutdown_session()
    finally:
        await lsp.stop()
