"""The language server forgets each handler once it is done (issue 20, item 7). pygls 2.1 filed
the future of every notification and of every step of a generator handler under a fresh id and
never removed it, so each `didChange` and each `swarm.report` or `swarm.run` stayed in memory for
the life of the server (the hour-long soak, bench/soak.py, grew 5 MB per 1,000 jobs)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from swarm_lsp.server.lsp.app import create_server

HANG_GUARD_S = 30  # waiting for answers, not a duration under test


class Collect:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        body = data.decode().split("\r\n\r\n", 1)[-1]
        self.messages.append(json.loads(body))

    def close(self) -> None:
        pass


async def test_finished_notifications_and_commands_leave_nothing_behind(tmp_path: Path):
    server = create_server("test")
    out = Collect()
    server.protocol.set_writer(out)

    def send(message: dict[str, Any]) -> None:
        server.protocol.handle_message(server.protocol.structure_message({"jsonrpc": "2.0", **message}))

    async def answered(ids: set[int]) -> None:
        async with asyncio.timeout(HANG_GUARD_S):
            while not ids <= {m.get("id") for m in out.messages if "result" in m or "error" in m}:
                await asyncio.sleep(0.01)

    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    uri = (tmp_path / "m.py").as_uri()
    send({"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": tmp_path.as_uri(),
                                                        "capabilities": {}}})
    await answered({1})
    send({"method": "initialized", "params": {}})
    send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": "def f():\n    return 1\n"}}})
    for version in range(2, 102):
        send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"text": f"def f():\n    return {version}\n"}]}})
    for request_id in range(10, 30):
        send({"id": request_id, "method": "workspace/executeCommand",
              "params": {"command": "swarm.report", "arguments": []}})
    await answered(set(range(10, 30)))
    await asyncio.sleep(0.1)  # the last done-callbacks

    assert server.workspace.get_text_document(uri).version == 101  # every change was handled
    assert all("result" in m for m in out.messages if m.get("id") in range(10, 30))
    assert server.protocol._request_futures == {}
