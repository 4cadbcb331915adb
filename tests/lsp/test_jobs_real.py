"""Jobs over the protocol on the embedded 0.5B model: a document job ending in a versioned
applyEdit with progress, cancellation (progress cancel and $/cancelRequest), a stale edit
refused and an edit rebased onto a document that changed elsewhere."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from pytest_lsp.client import captured_exception_key

from swarm_lsp.swarm.ledger import Ledger
from tests.lsp.conftest import open_document

pytestmark = pytest.mark.real

GUARD_S = 60  # a hang guard, not an assertion: how fast a cancel ends a job is measured in bench/
JOB_GUARD_S = 600  # the same for a whole model job, on a 2-core machine that may be running other work
# The tests of what happens to a finished job's edit document a method the 0.5B documents at its first
# candidate (~10 s); slugify takes the whole plan (three 0.5B candidates refused, then the 1.5B: ~80 s),
# which the first test exercises.
QUICK = "Truncator.truncate"


def run_params(uri: str, symbol: str, line: int | None = None) -> types.ExecuteCommandParams:
    arguments = {"action": "document", "uri": uri, "symbol": symbol, "version": 1}
    if line is not None:
        arguments["line"] = line
    return types.ExecuteCommandParams(command="swarm.run", arguments=[arguments])


def edit_of(params: types.ApplyWorkspaceEditParams) -> tuple[int | None, types.TextEdit]:
    edit = params.edit
    if edit.document_changes:
        [change] = edit.document_changes
        [text_edit] = change.edits
        return change.text_document.version, text_edit
    [(_, [text_edit])] = edit.changes.items()
    return None, text_edit


def change(client: LanguageClient, uri: str, version: int, line: int, text: str, end_line: int | None = None):
    end = types.Position(end_line if end_line is not None else line, 0)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line, 0), end=end), text=text)],
    ))


async def wait_for_stage(client: LanguageClient, words: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reports = [r for values in client.progress_reports.values() for r in values]
        if any(words in (getattr(r, "message", "") or "") for r in reports):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no progress message containing {words!r}")


async def test_document_job_ends_in_a_versioned_apply_edit_with_progress(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.py")
    summary = await client.workspace_execute_command_async(run_params(uri, "slugify"))
    assert summary["status"] == "accepted" and summary["applied"] is True, summary
    [applied] = client.applied_edits
    version, text_edit = edit_of(applied)
    if client.capabilities.workspace.workspace_edit.document_changes:
        assert version == 1
    assert text_edit.range.start.line == 7 and '"""' in text_edit.new_text  # right after `def slugify(...):`
    assert "Args:" in text_edit.new_text and "ValueError" in text_edit.new_text
    [reports] = client.progress_reports.values()
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    messages = [r.message for r in reports[1:-1]]
    assert any("writing candidate 1" in m for m in messages) and any("passed the gates" in m for m in messages)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and "accepted" in reports[-1].message
    assert any("accepted from llamacpp:qwen2.5-coder-" in m.message for m in client.messages)
    assert summary["evidence"]["summary"] in summary["message"]  # e.g. "3 of 8 claims verified (3 executed)"
    assert re.search(r"\d+ of \d+ claims verified", summary["message"])


def model_calls() -> list:
    """The server's ledger (the test's SWARM_LSP_LEDGER_PATH, inherited by the server process)."""
    with Ledger() as ledger:
        return ledger.recent_calls(50)


async def wait_until_idle(client: LanguageClient) -> None:
    deadline = time.monotonic() + GUARD_S
    while time.monotonic() < deadline:
        status = await asyncio.wait_for(client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="swarm.status")), timeout=GUARD_S)
        if not status["running"] and not status["queued"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the job is still listed: {status}")


def reports_after(client: LanguageClient, token, count: int) -> list[str]:
    return [getattr(r, "message", "") or "" for r in client.progress_reports[token][count:]]


async def test_cancelling_from_the_progress_ends_the_job(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.py")
    job = asyncio.ensure_future(client.workspace_execute_command_async(run_params(uri, "slugify")))
    await wait_for_stage(client, "writing candidate 1")
    [token] = client.progress_reports
    seen = len(client.progress_reports[token])
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    summary = await asyncio.wait_for(job, timeout=GUARD_S)
    assert summary["status"] == "cancelled" and summary["applied"] is False
    assert client.applied_edits == []
    assert isinstance(client.progress_reports[token][-1], types.WorkDoneProgressEnd)
    later = reports_after(client, token, seen)
    assert not any("candidate 2" in m or "checking candidate" in m for m in later), later
    [call] = model_calls()  # the one call in flight was stopped; nothing was asked after the cancel
    assert call.outcome == "cancelled"


async def test_cancel_request_stops_the_job(client: LanguageClient):
    # Cancelled right as the first candidate starts, i.e. while this fresh server loads the model:
    # llama-cpp-python must not be allowed to redirect stdout then, or the response is lost.
    uri = open_document(client, client.workspace_root / "textutils.py")
    job = asyncio.ensure_future(
        client.protocol.send_request_async("workspace/executeCommand", run_params(uri, "slugify"), msg_id="run-1")
    )
    await wait_for_stage(client, "writing candidate 1")
    client.protocol.notify("$/cancelRequest", types.CancelParams(id="run-1"))
    with pytest.raises(Exception, match="cancel"):
        await asyncio.wait_for(job, timeout=GUARD_S)
    await wait_until_idle(client)  # pygls answers the cancelled request before the job has unwound
    assert client.applied_edits == []
    assert [call.outcome for call in model_calls()] == ["cancelled"]


async def test_swarm_cancel_stops_the_running_job(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.py")
    job = asyncio.ensure_future(client.workspace_execute_command_async(run_params(uri, "slugify")))
    await wait_for_stage(client, "writing candidate 1")
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="swarm.status"))
    [running] = status["running"]
    answer = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="swarm.cancel", arguments=[running["id"]]))
    assert answer == {"job": running["id"], "cancelled": True}
    summary = await asyncio.wait_for(job, timeout=GUARD_S)
    assert summary["status"] == "cancelled" and client.applied_edits == []
    await wait_until_idle(client)
    assert [call.outcome for call in model_calls()] == ["cancelled"]


async def test_an_edit_whose_target_changed_is_refused(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.py")
    job = asyncio.ensure_future(client.workspace_execute_command_async(run_params(uri, QUICK)))
    await wait_for_stage(client, "writing candidate 1")
    change(client, uri, 2, 37, "        return text\n", end_line=38)  # inside truncate's body
    summary = await asyncio.wait_for(job, timeout=JOB_GUARD_S)
    assert summary["status"] == "accepted" and summary["applied"] is False
    assert "target changed" in summary["message"]
    assert client.applied_edits == []
    assert any(m.type == types.MessageType.Warning and "not applied" in m.message for m in client.messages)


async def test_an_edit_the_client_answers_with_an_error_ends_the_job_and_its_progress(client: LanguageClient, request):
    uri = open_document(client, client.workspace_root / "textutils.py")
    client.edit_error = "the editor's edit handler threw"
    summary = await client.workspace_execute_command_async(run_params(uri, QUICK))
    # pytest-lsp fails a test whose client handler raised; here that error is the point
    request.node.stash[captured_exception_key] = None
    assert summary["status"] == "accepted" and summary["applied"] is False
    assert "answered the edit with an error" in summary["message"] and "handler threw" in summary["message"]
    [reports] = client.progress_reports.values()
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and "not applied" in reports[-1].message
    await wait_until_idle(client)


async def test_an_edit_is_rebased_when_only_other_code_changed(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.py")
    job = asyncio.ensure_future(client.workspace_execute_command_async(run_params(uri, QUICK)))
    await wait_for_stage(client, "writing candidate 1")
    change(client, uri, 2, 4, "VERSION = 2\n\n")  # two lines above, far from truncate
    summary = await asyncio.wait_for(job, timeout=JOB_GUARD_S)
    assert summary["applied"] is True, summary
    [applied] = client.applied_edits
    version, text_edit = edit_of(applied)
    if client.capabilities.workspace.workspace_edit.document_changes:
        assert version == 2  # stamped with the version it was rebased onto
    assert text_edit.range.start.line == 37  # right after `def truncate(self, text):`, two lines down


async def test_tests_job_creates_the_test_module_through_the_editor(client: LanguageClient):
    uri = open_document(client, client.workspace_root / "textutils.py")
    arguments = {"action": "tests", "uri": uri, "symbol": "slugify", "version": 1,
                 "options": {"mutants": 0, "coverage_goal": 0.3}}
    summary = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="swarm.run", arguments=[arguments]))
    assert summary["status"] == "accepted" and summary["applied"] is True, summary
    assert summary["evidence"]["test_file"] == "tests/test_textutils.py" and summary["evidence"]["tests_kept"]
    test_file = client.workspace_root / "tests" / "test_textutils.py"
    edit_capabilities = client.capabilities.workspace.workspace_edit
    operations = edit_capabilities.resource_operations or []
    if edit_capabilities.document_changes and types.ResourceOperationKind.Create in operations:  # VS Code
        [applied] = client.applied_edits
        create, insert = applied.edit.document_changes
        assert isinstance(create, types.CreateFile) and create.uri == test_file.as_uri()
        assert create.options.overwrite is False
        assert insert.text_document.uri == test_file.as_uri() and insert.text_document.version is None
        [text_edit] = insert.edits
        module = text_edit.new_text
        assert not test_file.exists()  # the editor creates it, not the server
    else:  # a client without CreateFile in documentChanges: the server creates the file in the workspace
        assert client.applied_edits == []
        module = test_file.read_text()
    assert "from textutils import slugify" in module
    messages = [r.message for values in client.progress_reports.values() for r in values if getattr(r, "message", None)]
    assert any("checking candidate 1" in m for m in messages)


async def test_an_audit_job_publishes_its_findings_as_diagnostics(client: LanguageClient):
    path = client.workspace_root / "shell.py"
    path.write_text("import subprocess\n\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n")
    uri = open_document(client, path)
    summary = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="swarm.run", arguments=[{"action": "audit", "uri": uri, "symbol": "run", "version": 1}]))
    assert summary["status"] == "accepted" and summary["applied"] is True, summary
    for _ in range(100):
        if uri in client.diagnostics:
            break
        await asyncio.sleep(0.05)
    codes = {(d.source, d.code) for d in client.diagnostics[uri]}
    assert ("swarm-lsp", "CWE-78") in codes  # at least bandit's B602; the model may add its own
