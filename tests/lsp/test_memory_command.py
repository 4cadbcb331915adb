"""The memory over the protocol: a save indexes the workspace on the memory's own thread (the
whole tree the first time, then the saved file), and `swarm.memory` reports its state and searches
it. Real Chroma store (SWARM_LSP_MEMORY_DIR, tests/conftest.py) and real WordLlama embeddings."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from tests.lsp.conftest import open_document


async def memory(client: LanguageClient, *arguments) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="swarm.memory", arguments=list(arguments)))


async def until_indexed(client: LanguageClient, chunks: int, files: int) -> dict:
    """The status once an update of `files` files has finished with `chunks` chunks in the store (the
    count can be seen before the update that made it is recorded)."""
    for _ in range(4800):  # polled, not timed: a loaded machine only makes it take longer
        status = await memory(client)
        update = status["last_update"]
        if status["chunks"] >= chunks and update is not None and update["files"] == files:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"the memory never held {chunks} chunks after updating {files} files: {status}")


def save(client: LanguageClient, uri: str) -> None:
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))


async def test_a_save_indexes_the_workspace_then_the_saved_file(client: LanguageClient):
    root = client.workspace_root
    before = await memory(client)
    assert (before["enabled"], before["embedder"], before["chunks"], before["indexed_tree"]) == (True, "wordllama", 0, False)
    uri = open_document(client, root / "textutils.py")
    save(client, uri)
    status = await until_indexed(client, 9, 2)  # textutils.py (5) and textutils.ts (4): the whole tree
    assert status["indexed_tree"] and status["last_update"]["files"] == 2 and status["unavailable"] is None

    (root / "textutils.py").write_text((root / "textutils.py").read_text() + "\n\ndef shout(text):\n    return text.upper() + '!'\n")
    save(client, uri)
    status = await until_indexed(client, 10, 1)
    assert (status["last_update"]["files"], status["last_update"]["embedded"]) == (1, 1)

    found = await memory(client, {"query": "upper case with an exclamation mark", "k": 2})
    assert found["hits"][0]["symbol"] == "shout" and found["hits"][0]["path"] == "textutils.py"


@pytest.mark.parametrize("arguments", [["x"], [{"query": ""}], [{"query": "x", "k": 0}], [{"q": "x"}]])
async def test_bad_memory_arguments_are_invalid_params(client: LanguageClient, arguments):
    with pytest.raises(JsonRpcInvalidParams, match="swarm.memory"):
        await memory(client, *arguments)
