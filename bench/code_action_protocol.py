"""`textDocument/codeAction` round trips against the real `swarm-lsp --stdio` server.

bench/code_action.py measures the server's own work; this adds everything a client sees: JSON-RPC
framing, the pipe, (de)serialisation on both ends. A 5,000-line generated Python file is opened,
then code actions are requested at random positions, one at a time.

    .venv/bin/python bench/code_action_protocol.py [--requests 500] [--json] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from code_action import PYTHON_BLOCK, generate  # the same generated file as the in-process benchmark
from lsprotocol import types
from pytest_lsp import ClientServerConfig, client_capabilities
from report import write_section

BEGIN, END = "<!-- code-action-protocol-benchmark:begin -->", "<!-- code-action-protocol-benchmark:end -->"


async def measure(requests: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.py"
        path.write_text(generate(PYTHON_BLOCK, "#"))
        config = ClientServerConfig(server_command=[sys.executable, "-m", "swarm_lsp.server.cli", "--stdio"])
        client = await config.start()
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=Path(folder).as_uri()))
        text = path.read_text()
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=path.as_uri(), language_id="python", version=1, text=text)))
        lines = text.splitlines()
        rng = random.Random(0)
        samples = []
        for i in range(requests + 20):
            line = rng.randrange(len(lines))
            position = types.Position(line=line, character=min(4, len(lines[line])))
            started = time.perf_counter()
            await client.protocol.send_request_async(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                range=types.Range(start=position, end=position), context=types.CodeActionContext(diagnostics=[])))
            if i >= 20:  # warm-up requests are not counted
                samples.append(1000 * (time.perf_counter() - started))
        await client.shutdown_session()
        await client.stop()
    samples.sort()
    return {"requests": requests, "p50_ms": statistics.median(samples), "p99_ms": samples[int(0.99 * len(samples)) - 1],
            "max_ms": samples[-1]}


def markdown(result: dict) -> str:
    return "\n".join([
        BEGIN, f"### Code action round trips over the protocol ({date.today().isoformat()})", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. The real "
        f"server over stdio, pygls client, 5,000-line Python file, {result['requests']} sequential requests at random "
        "lines. Reproduce: `python bench/code_action_protocol.py`.", "",
        "| p50 (ms) | p99 (ms) | max (ms) | budget |", "|---|---|---|---|",
        f"| {result['p50_ms']:.2f} | {result['p99_ms']:.2f} | {result['max_ms']:.2f} | p99 < 10 ms |",
        END,
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description="codeAction round trips against the real server")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="MARKDOWN")
    args = parser.parse_args()
    result = asyncio.run(measure(args.requests))
    print(json.dumps(result, indent=2) if args.json else markdown(result))
    if args.write:
        write_section(Path(args.write), markdown(result), BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
