"""Protocol tests that need no model: code actions, configuration, status and report commands, and
a bad command that must not take the server down."""

from __future__ import annotations

import asyncio

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from tests.lsp.conftest import SERVER, initialize_params, open_document, prepare_workspace, raw_code_actions, record_edits, record_raw_results


def code_action_params(uri: str, line: int, character: int = 4, only=None) -> types.CodeActionParams:
    position = types.Position(line=line, character=character)
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=position, end=position),
        context=types.CodeActionContext(diagnostics=[], only=only),
    )


async def test_document_action_is_offered_inside_a_function(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.py")
    action, tests, *refactors, audit = await raw_code_actions(client, code_action_params(uri, line=10))
    assert audit["kind"] == "source.swarm.audit" and audit["title"] == "Audit slugify (swarm)"
    assert [r["title"] for r in refactors] == [f"Refactor slugify: {p} (swarm)" for p in
                                               ("simplify", "extract-helper", "modernise-types", "rename-locals")]
    assert refactors[0]["kind"] == "refactor.rewrite.swarm"
    assert refactors[0]["command"]["arguments"][0]["options"] == {"preset": "simplify"}
    assert tests["kind"] == "source.swarm.tests" and tests["title"] == "Generate tests for slugify (swarm)"
    assert tests["command"]["arguments"][0]["action"] == "tests"
    assert action["kind"] == "source.swarm.document"  # a CodeAction, not a bare Command
    assert action["title"] == "Document slugify (swarm)"
    assert action["command"]["command"] == "swarm.run"
    [arguments] = action["command"]["arguments"]
    assert arguments["action"] == "document" and arguments["symbol"] == "slugify"
    assert arguments["uri"] == uri and arguments["version"] == 1 and arguments["line"] == 6


async def test_methods_typescript_and_outside_any_symbol(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.py")
    method, *_ = await raw_code_actions(client, code_action_params(uri, line=37))
    assert method["command"]["arguments"][0]["symbol"] == "Truncator.truncate"
    assert await raw_code_actions(client, code_action_params(uri, line=2)) is None  # imports
    ts_uri = open_document(client, client.workspace_root / "textutils.ts", language="typescript")
    ts_action, ts_audit = await raw_code_actions(client, code_action_params(ts_uri, line=18))  # tests: Python only
    assert ts_audit["kind"] == "source.swarm.audit"
    assert ts_action["command"]["arguments"][0]["symbol"] == "WordCounter.top"


async def test_only_filters_by_kind(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.py")
    assert await raw_code_actions(client, code_action_params(uri, 10, only=["quickfix"])) is None
    assert len(await raw_code_actions(client, code_action_params(uri, 10, only=["refactor"]))) == 4
    [action] = await raw_code_actions(client, code_action_params(uri, 10, only=["source.swarm.document"]))
    assert action["kind"] == "source.swarm.document"
    kinds = [a["kind"] for a in await raw_code_actions(client, code_action_params(uri, 10, only=["source"]))]
    assert kinds == ["source.swarm.document", "source.swarm.tests", "source.swarm.audit"]


async def test_incremental_changes_are_tracked(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.py")
    # Insert a new function at the top: slugify moves down by three lines.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(3, 0), end=types.Position(3, 0)),
            text="def fresh(a):\n    return a\n\n",
        )],
    ))
    fresh, *_ = await raw_code_actions(client, code_action_params(uri, line=4))
    assert fresh["command"]["arguments"][0]["symbol"] == "fresh" and fresh["command"]["arguments"][0]["version"] == 2
    slug, *_ = await raw_code_actions(client, code_action_params(uri, line=13))
    assert slug["command"]["arguments"][0]["symbol"] == "slugify"


async def test_status_report_and_a_bad_command(client: LanguageClient):
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="swarm.status"))
    assert status == {"running": [], "queued": [], "queue_limit": 8}
    report = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="swarm.report"))
    assert report["all_time"]["calls"] == 0 and "ledger" in report
    with pytest.raises(JsonRpcInvalidParams, match="unknown action 'summarise'"):  # an error response
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="swarm.run", arguments=[{"action": "summarise", "uri": "x", "symbol": "f"}]))
    assert any("unknown action" in m.message for m in client.messages)
    uri = open_document(client, client.workspace_root / "textutils.py")
    with pytest.raises(JsonRpcInvalidParams, match="unknown option 'candidatez'.*did you mean 'candidates'"):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(command="swarm.run", arguments=[
            {"action": "document", "uri": uri, "symbol": "slugify", "options": {"candidatez": 1}}]))
    assert (await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="swarm.status")))["queued"] == []  # nothing was queued
    # The server is still answering.
    assert await raw_code_actions(client, code_action_params(uri, line=10))


@pytest_lsp.fixture(config=SERVER)
async def configured_client(lsp_client: LanguageClient, request):
    root = prepare_workspace(request.getfixturevalue("tmp_path"))
    record_edits(lsp_client)
    record_raw_results(lsp_client)
    lsp_client.workspace_root = root
    await lsp_client.initialize_session(
        initialize_params("visual-studio-code", root, {"swarm-lsp": {"candidates": 0, "max_queued_jobs": 2}})
    )
    yield
    await lsp_client.shutdown_session()


async def test_invalid_initialization_options_fall_back_with_a_visible_message(configured_client: LanguageClient):
    client = configured_client
    await asyncio.sleep(0.2)
    [warning] = [m for m in client.messages if m.type == types.MessageType.Warning]
    assert "candidates = 0 in LSP initializationOptions" in warning.message
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="swarm.status"))
    assert status["queue_limit"] == 8  # the whole invalid section was ignored
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"swarm-lsp": {"max_queued_jobs": 3}}
    ))
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="swarm.status"))
    assert status["queue_limit"] == 3
