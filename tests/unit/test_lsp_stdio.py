"""The language server reads a pipe on its event loop and anything else through pygls's thread:
both answer the same session (initialize, shutdown, exit) with the same bytes, and a body cut
short at the end of input ends the server instead of hanging it."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from swarm_lsp.server.lsp.stdio import PipeReader, pipe_reader, readable_by_selector


def frame(message: dict) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


SESSION = b"".join([
    frame({"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}}),
    frame({"method": "initialized", "params": {}}),
    frame({"id": 2, "method": "shutdown"}),
    frame({"method": "exit"}),
])


def answers(stdout: bytes) -> dict[int, dict]:
    found = {}
    while stdout:
        header, _, rest = stdout.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in header.split(b"\r\n") if line.startswith(b"Content-Length"))
        message, stdout = json.loads(rest[:length]), rest[length:]
        if "id" in message and "method" not in message:
            found[message["id"]] = message
    return found


def serve(stdin, tmp_path: Path, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "swarm_lsp.server.cli", "--stdio", "-v"], stdin=stdin, input=input,
                          capture_output=True, cwd=tmp_path, timeout=120)


def test_a_pipe_and_a_file_get_the_same_answers(tmp_path):
    piped = serve(None, tmp_path, input=SESSION)
    messages = tmp_path / "session.bin"
    messages.write_bytes(SESSION)
    with messages.open("rb") as handle:
        from_file = serve(handle, tmp_path)
    assert piped.returncode == from_file.returncode == 0, (piped.stderr, from_file.stderr)
    for result in (piped, from_file):
        by_id = answers(result.stdout)
        assert by_id[1]["result"]["serverInfo"]["name"] == "swarm-lsp" and by_id[2]["result"] is None
    assert b"not a pipe or socket" in from_file.stderr and b"not a pipe or socket" not in piped.stderr


def test_input_that_ends_inside_a_body_ends_the_server(tmp_path):
    cut = SESSION[: SESSION.index(b"shutdown") - 10]  # initialize and initialized whole, shutdown cut short
    result = serve(None, tmp_path, input=cut)
    assert answers(result.stdout)[1]["result"]["serverInfo"]["name"] == "swarm-lsp"
    assert 2 not in answers(result.stdout)


def test_only_pipes_and_sockets_are_read_by_the_selector(tmp_path):
    read_end, write_end = os.pipe()
    try:
        with open(read_end, "rb", closefd=False) as pipe:
            assert readable_by_selector(pipe)
        (tmp_path / "f").write_bytes(b"")
        with (tmp_path / "f").open("rb") as regular:
            assert not readable_by_selector(regular)
        assert not readable_by_selector(io.BytesIO(b""))
    finally:
        os.close(read_end)
        os.close(write_end)


def test_pipe_reader_gives_lines_bodies_and_the_partial_rest():
    async def scenario() -> list[bytes]:
        read_end, write_end = os.pipe()
        os.write(write_end, b"Content-Length: 5\r\n\r\nhelloabc")
        os.close(write_end)
        with open(read_end, "rb") as pipe:
            reader = await pipe_reader(pipe)
            assert isinstance(reader, PipeReader)
            return [await reader.readline(), await reader.readline(), await reader.readexactly(5),
                    await reader.readexactly(10), await reader.readline()]

    assert asyncio.run(scenario()) == [b"Content-Length: 5\r\n", b"\r\n", b"hello", b"abc", b""]
