"""A language server driven byte by byte, for fuzzing: `swarm-lsp --stdio` in a subprocess, raw
bytes in, framed JSON messages out (parsed on a thread). Shared by tests/fuzz and bench/fuzz.py."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

PROBE_GUARD_S = 60.0  # a hang guard for one answer, not a duration under test


class RawServer:
    def __init__(self, workspace: Path, env: dict[str, str] | None = None) -> None:
        self.workspace = workspace
        self.process = subprocess.Popen([sys.executable, "-m", "swarm_lsp.server.cli", "--stdio"], cwd=workspace,
                                        env={**os.environ, **(env or {})}, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.internal_errors: list[dict[str, Any]] = []  # answers with -32603: an exception the server did not expect
        self.stderr: list[bytes] = []
        self.next_id = 10_000
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _read(self) -> None:
        out = self.process.stdout
        assert out is not None
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                byte = out.read(1)
                if not byte:
                    return
                header += byte
            length = next(int(line.split(b":")[1]) for line in header.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            message = json.loads(out.read(length))
            if "method" in message and "id" in message:  # the server's own request: answer it
                self.send({"id": message["id"], "result": {"applied": True} if message["method"] == "workspace/applyEdit"
                           else None})
            if isinstance(message.get("error"), dict) and message["error"].get("code") == -32603:
                self.internal_errors.append(message)
            self.messages.put(message)

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, method: str, params: Any = None, guard_s: float = PROBE_GUARD_S) -> dict[str, Any] | None:
        """Send a request and wait for its answer (None: none came before the hang guard)."""
        self.next_id += 1
        wanted = self.next_id
        self.send({"id": wanted, "method": method, **({"params": params} if params is not None else {})})
        try:
            while True:
                message = self.messages.get(timeout=guard_s)
                if message.get("id") == wanted and "method" not in message:
                    return message
        except queue.Empty:
            return None

    def initialize(self) -> dict[str, Any] | None:
        answer = self.request("initialize", {"processId": os.getpid(), "rootUri": self.workspace.as_uri(),
                                             "capabilities": {}})
        self.send({"method": "initialized", "params": {}})
        return answer

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> int | None:
        if self.alive():
            try:
                self.request("shutdown", guard_s=10)
                self.send({"method": "exit"})
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        return self.process.returncode
