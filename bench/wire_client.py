"""A lean JSON-RPC client for the language server over stdio, for latency benchmarks.

pytest-lsp's client (pygls + cattrs) is right for protocol tests but spends 1-2 ms of its own
Python per message turning JSON into lsprotocol objects, on the same two cores as the server: in a
latency benchmark that cost lands in the figure. An editor's client (VS Code's TypeScript, Neovim's
Lua) does not pay it in the server's process either. This client frames, sends and parses JSON and
nothing more, so a round trip measures the pipe and the server.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

# The answers a client gives to the server's own requests (progress tokens, edits to apply).
SERVER_REQUEST_ANSWERS: dict[str, Any] = {"workspace/applyEdit": {"applied": True}}


class WireClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process, self.next_id = process, 0
        self.waiting: dict[int, asyncio.Future] = {}
        self.notifications: list[tuple[str, Any]] = []
        self.reading = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, command: list[str], *, cwd: Path, env: dict[str, str]) -> WireClient:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=str(cwd), env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, limit=1 << 26)  # diagnostics of a 10,000-line file are large
        return cls(process)

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            try:
                header = await stdout.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = next(int(line.split(b":")[1]) for line in header.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            message = json.loads(await stdout.readexactly(length))
            if "method" not in message:
                future = self.waiting.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif "id" in message:
                self._send({"id": message["id"], "result": SERVER_REQUEST_ANSWERS.get(message["method"])})
            else:
                self.notifications.append((message["method"], message.get("params")))
        for future in self.waiting.values():
            future.set_exception(ConnectionError("the server closed its output"))

    async def request(self, method: str, params: Any) -> Any:
        """The result; a JSON-RPC error is raised as RuntimeError."""
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = future
        self._send({"id": self.next_id, "method": method, "params": params})
        answer = await future
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def progress_messages(self) -> list[str | None]:
        return [params["value"].get("message") for method, params in self.notifications if method == "$/progress"]

    async def open(self, path: Path, language: str = "python") -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": path.as_uri(), "languageId": language, "version": 1, "text": path.read_text()}})

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.request("shutdown", None), 30)
            self.notify("exit", None)
            await asyncio.wait_for(self.process.wait(), 30)
        except (asyncio.TimeoutError, ConnectionError):
            self.process.kill()
            await self.process.wait()
        self.reading.cancel()


def server_env(folder: Path) -> dict[str, str]:
    """No cloud tier and no user overrides (the models dir stays); ledger and caches in `folder`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SWARM_LSP_", "ANTHROPIC_", "OLLAMA_")) or k == "SWARM_LSP_MODELS_DIR"}
    return env | {"SWARM_LSP_LEDGER_PATH": str(folder / "ledger.sqlite3"),
                  "SWARM_LSP_AUDIT_CACHE": str(folder / "audit-cache.sqlite3"),
                  "SWARM_LSP_CLOUD_AUDIT_LOG": str(folder / "cloud_calls.jsonl")}
