"""Audit findings as diagnostics over the protocol (no model): `swarm.audit` on demand, the
debounced audit on save when `audit_on_save` is set, rules skipped by `audit_skip`, and the quick
fix offered for a finding."""

from __future__ import annotations

import asyncio

import pytest_lsp
import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from tests.lsp.conftest import (
    SERVER, initialize_params, open_document, prepare_workspace, raw_code_actions, record_raw_results,
)

VULNERABLE = '''import hashlib
import subprocess


def run(command):
    """Run a command."""
    label = "é"
    subprocess.call(command, shell=True)
    return label


def digest(data):
    return hashlib.md5(data).hexdigest()


def check(value):
    assert value
'''


async def wait_for_diagnostics(client: LanguageClient, uri: str, timeout: float = 20) -> list[types.Diagnostic]:
    for _ in range(int(timeout / 0.05)):
        if uri in client.diagnostics:
            return client.diagnostics[uri]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no diagnostics published for {uri}")


@pytest_lsp.fixture(config=SERVER, params=["visual-studio-code", "neovim"])
async def client(lsp_client: LanguageClient, request):
    root = prepare_workspace(request.getfixturevalue("tmp_path"))
    (root / "tools.py").write_text(VULNERABLE)
    record_raw_results(lsp_client)
    lsp_client.workspace_root = root
    await lsp_client.initialize_session(initialize_params(request.param, root, {"swarm-lsp": {"audit_on_save": True, "audit_skip": ["B101"]}}))
    yield
    await lsp_client.shutdown_session()


async def test_audit_publishes_cwe_diagnostics_with_links_and_severities(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "tools.py")
    summary = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="swarm.audit", arguments=[{"uri": uri}]))
    assert summary["published"] is True and summary["by_severity"]["high"] == 2, summary
    diagnostics = {d.data["rule"]: d for d in await wait_for_diagnostics(client, uri)}
    shell = diagnostics["B602"]
    assert shell.code == "CWE-78"
    assert shell.source == "swarm-lsp" and shell.severity == types.DiagnosticSeverity.Error
    assert shell.code_description.href == "https://cwe.mitre.org/data/definitions/78.html"
    assert shell.range.start == types.Position(line=7, character=4)  # after a line with a non-ASCII char
    assert "shell=True" in shell.message and "bandit B602" in shell.message
    assert diagnostics["B324"].code == "CWE-328" and diagnostics["B324"].range.start.line == 12
    assert diagnostics["B404"].severity == types.DiagnosticSeverity.Information  # low
    assert "B101" not in diagnostics  # audit_skip in the initialization options
    module_level = diagnostics["B404"]
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=module_level.range,
        context=types.CodeActionContext(diagnostics=[module_level], only=[types.CodeActionKind.QuickFix]))
    assert await raw_code_actions(client, params) is None  # outside any function: no fix


async def test_a_finding_in_a_function_gets_a_refactor_quick_fix(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "tools.py")
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="swarm.audit", arguments=[{"uri": uri}]))
    shell = next(d for d in await wait_for_diagnostics(client, uri) if "shell=True" in d.message)
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=shell.range,
        context=types.CodeActionContext(diagnostics=[shell], only=[types.CodeActionKind.QuickFix]))
    [fix] = await raw_code_actions(client, params)  # raw JSON: the client would read a CodeAction as a Command
    assert fix["kind"] == "quickfix" and fix["title"] == "Fix CWE-78 in run (swarm refactor)"
    assert fix["diagnostics"][0]["code"] == "CWE-78"
    [arguments] = fix["command"]["arguments"]
    assert arguments["action"] == "refactor" and arguments["symbol"] == "run"
    assert "CWE-78" in arguments["options"]["instruction"] and "line 8" in arguments["options"]["instruction"]


async def test_saving_audits_the_document_once_after_a_burst(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "tools.py")
    for _ in range(3):
        client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    diagnostics = await wait_for_diagnostics(client, uri)
    assert {d.code for d in diagnostics} >= {"CWE-78", "CWE-328"}


async def test_non_python_documents_are_refused_with_a_reason(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.ts", language="typescript")
    with pytest.raises(JsonRpcInvalidParams, match="Python files for now"):
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="swarm.audit", arguments=[{"uri": uri}]))
