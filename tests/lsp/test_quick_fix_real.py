"""The audit quick fix executed over the protocol on the embedded 0.5B model: a bandit finding
published as a diagnostic, its quick fix requested, and the command it carries run as a refactor
job aimed at the finding, whose tests run before and after, ending in an applied edit without the
flaw or a rejection that says why."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import (
    SERVER, initialize_params, open_document, prepare_workspace, raw_code_actions, record_edits, record_raw_results,
)
from tests.lsp.test_diagnostics import wait_for_diagnostics

pytestmark = pytest.mark.real

TOOLS = '''import subprocess


def run(command):
    """Run a shell command and return its exit code."""
    return subprocess.call(command, shell=True)
'''
TOOLS_TESTS = '''from tools import run


def test_run_returns_the_exit_code():
    assert run("true") == 0
    assert run("false") == 1
'''


def applied_to(text: str, edits: list[types.TextEdit]) -> str:
    """`text` after the LSP text edits (0-based lines and UTF-16 columns; ASCII here)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start = offsets[edit.range.start.line] + edit.range.start.character
        end = offsets[edit.range.end.line] + edit.range.end.character
        text = text[:start] + edit.new_text + text[end:]
    return text


@pytest_lsp.fixture(config=SERVER, params=["visual-studio-code"])
async def client(lsp_client: LanguageClient, request):
    root = prepare_workspace(request.getfixturevalue("tmp_path"))
    (root / "pyproject.toml").write_text(  # the default plan: the 0.5B first, the 1.5B when it fails
        '[tool.swarm-lsp]\ntiers = ["llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"]\n')
    (root / "tools.py").write_text(TOOLS)
    (root / "test_tools.py").write_text(TOOLS_TESTS)
    record_edits(lsp_client)
    record_raw_results(lsp_client)
    lsp_client.workspace_root = root
    await lsp_client.initialize_session(initialize_params(request.param, root))
    yield
    await lsp_client.shutdown_session()


async def test_the_quick_fix_runs_a_refactor_aimed_at_the_finding(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "tools.py")
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="swarm.audit", arguments=[{"uri": uri}]))
    shell = next(d for d in await wait_for_diagnostics(client, uri) if d.code == "CWE-78" and "shell=True" in d.message)
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=shell.range,
        context=types.CodeActionContext(diagnostics=[shell], only=[types.CodeActionKind.QuickFix]))
    [fix] = await raw_code_actions(client, params)
    command = fix["command"]
    summary = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command["command"], arguments=command["arguments"]))
    assert summary["status"] in ("accepted", "rejected"), summary
    evidence = summary["evidence"]
    assert "CWE-78" in evidence["instruction"] and "line 6" in evidence["instruction"]
    assert evidence["tests_run"] == ["test_tools.py::test_run_returns_the_exit_code"]  # before and after
    if summary["status"] == "accepted":
        [applied] = client.applied_edits
        [change] = applied.edit.document_changes or [None]
        edits = change.edits if change else next(iter(applied.edit.changes.values()))
        new_text = applied_to(TOOLS, edits)  # the edit covers the lines that changed, not the whole module
        assert "shell=True" not in new_text and "def run(command" in new_text, new_text
        compile(new_text, "tools.py", "exec")
    else:
        assert client.applied_edits == [] and summary["message"]
