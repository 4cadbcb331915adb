"""`swarm-lsp --tcp HOST:PORT`: the same server on a loopback socket."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from lsprotocol import types
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

from tests.lsp.conftest import free_port, open_document, prepare_workspace



async def connect(port: int, attempts: int = 100):
    for _ in range(attempts):
        client = make_test_lsp_client()
        try:
            await client.start_tcp("127.0.0.1", port)
            return client
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError("the server never listened")


async def test_tcp_server_answers_code_actions(tmp_path):
    root = prepare_workspace(tmp_path)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "swarm_lsp.server.cli", "--tcp", f"127.0.0.1:{port}"])
    try:
        client = await connect(port)
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("neovim"), root_uri=root.as_uri()))
        uri = open_document(client, root / "textutils.py")
        position = types.Position(line=10, character=4)
        result = await client.protocol.send_request_async(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=position, end=position),
            context=types.CodeActionContext(diagnostics=[])))
        assert [action.title for action in result][:3] == [
                "Document slugify (swarm)", "Generate tests for slugify (swarm)", "Refactor slugify: simplify (swarm)"]
        await client.shutdown_session()
        await client.stop()
    finally:
        server.terminate()
        server.wait(timeout=60)  # a hang guard


def test_tcp_address_must_be_host_and_port(capsys):
    from swarm_lsp.server import cli

    assert cli.main(["--tcp", "8080"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err
