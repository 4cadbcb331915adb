"""pytest-lsp fixtures: the real `swarm-lsp --stdio` server in a subprocess, driven by a client
that announces VS Code's or Neovim's capabilities. The client records workspace/applyEdit
requests (and applies nothing), so tests can assert on exactly what the server sent."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

REPO = Path(__file__).resolve().parents[2]
CLIENTS = ["visual-studio-code", "neovim"]
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "swarm_lsp.server.cli", "--stdio"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def initialize_params(spec: str, root: Path, options: dict | None = None) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=client_capabilities(spec),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        initialization_options=options,
    )


def prepare_workspace(root: Path) -> Path:
    shutil.copy(REPO / "examples" / "textutils.py", root / "textutils.py")
    shutil.copy(REPO / "examples" / "textutils.ts", root / "textutils.ts")
    # The default plan: a candidate the 0.5B gets wrong (the claims gate rejects false statements) escalates.
    (root / "pyproject.toml").write_text('[tool.swarm-lsp]\ntiers = ["llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"]\n')
    return root


def record_edits(client: LanguageClient, applied: bool = True) -> list[types.ApplyWorkspaceEditParams]:
    edits: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        if client.edit_error:  # answer with a JSON-RPC error, as a client whose handler throws does
            raise RuntimeError(client.edit_error)
        edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=applied)

    client.applied_edits = edits
    client.edit_error = None
    return edits


def record_raw_results(client: LanguageClient) -> dict:
    """Keep each response's raw JSON result by request id. The pygls client structures a
    `CodeAction | Command` result as a Command, so code-action tests read the raw message."""
    raw: dict = {}
    structure = client.protocol.structure_message

    def recording(data):
        if "jsonrpc" in data and "id" in data and "result" in data:
            raw[data["id"]] = data["result"]
        return structure(data)

    client.protocol.structure_message = recording
    client.raw_results = raw
    return raw


async def raw_code_actions(client: LanguageClient, params: types.CodeActionParams) -> list[dict] | None:
    request_id = f"code-action-{len(client.raw_results)}"
    await client.protocol.send_request_async(types.TEXT_DOCUMENT_CODE_ACTION, params, msg_id=request_id)
    return client.raw_results[request_id]


@pytest_lsp.fixture(config=SERVER, params=CLIENTS)
async def client(lsp_client: LanguageClient, request):
    root = prepare_workspace(request.getfixturevalue("tmp_path"))
    record_edits(lsp_client)
    record_raw_results(lsp_client)
    lsp_client.workspace_root = root
    await lsp_client.initialize_session(initialize_params(request.param, root))
    yield
    await lsp_client.shutdown_session()


def open_document(client: LanguageClient, path: Path, version: int = 1, language: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version, text=path.read_text())
    ))
    return uri
