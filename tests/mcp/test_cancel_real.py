"""MCP cancellation end to end: `swarm-lsp mcp` in a subprocess over stdio on the embedded 0.5B
model; the client abandons a `document` call while its first candidate is being written, which
sends `notifications/cancelled`. The tests assert what happened and in which order (the model
call stopped and was recorded as cancelled, nothing was asked of a model afterwards, no file was
written, the server is idle and answers); how soon is measured in bench/cancel_latency.py."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from swarm_lsp.swarm.ledger import Ledger

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[2]
GUARD_S = 120  # a hang guard, not an assertion


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copy(REPO / "examples" / "textutils.py", tmp_path / "textutils.py")
    (tmp_path / "pyproject.toml").write_text('[tool.swarm-lsp]\ntiers = ["llamacpp:qwen2.5-coder-0.5b"]\n')
    return tmp_path


async def wait_until_idle(client: Client) -> dict:
    with anyio.fail_after(GUARD_S):
        while True:
            status = (await client.call_tool("swarm_status", {})).structured_content
            if not status["running"]:
                return status
            await anyio.sleep(0.05)


async def test_a_cancelled_tool_call_stops_the_model_and_writes_nothing(workspace: Path):
    original = (workspace / "textutils.py").read_text()
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "swarm_lsp.server.cli", "mcp", "--root", str(workspace)],
                                   env=dict(os.environ))
    messages: list[str] = []
    writing = anyio.Event()

    async def on_progress(_progress: float, _total: float | None, message: str | None) -> None:
        messages.append(message or "")
        if "writing candidate 1" in (message or ""):
            writing.set()

    async with Client(params, read_timeout_seconds=GUARD_S) as client:
        async with anyio.create_task_group() as group:
            scope = anyio.CancelScope()

            async def call() -> None:
                with scope:
                    await client.call_tool("document", {"path": "textutils.py", "symbol": "slugify", "apply": True},
                                           progress_callback=on_progress)

            group.start_soon(call)
            with anyio.fail_after(GUARD_S):
                await writing.wait()
            seen = len(messages)
            scope.cancel()
        status = await wait_until_idle(client)
        answer = (await client.call_tool("swarm_status", {})).structured_content  # still serving

    assert scope.cancelled_caught and status["running"] == [] and answer["running"] == []
    assert (workspace / "textutils.py").read_text() == original
    assert not any("candidate 2" in m or "checking candidate" in m for m in messages[seen:]), messages
    with Ledger() as ledger:  # the server's ledger: SWARM_LSP_LEDGER_PATH is inherited
        calls, [action] = ledger.recent_calls(10), ledger.recent_actions(10)
    assert [call.outcome for call in calls] == ["cancelled"]
    assert action.status == "cancelled" and action.action == "document"
