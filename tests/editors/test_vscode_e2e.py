"""VS Code itself (code-server 4.100.3 = VS Code 1.100.3) in headless Chromium with the packaged
extension installed: open a Python file, run "Swarm: Document Symbol" from the command palette on
the embedded model, and see the docstring appear in the editor; with a tier that cannot answer,
see the server's error as an error notification. Screenshots of the source-action menu and of the
result are saved in the test's folder, and copied to $SWARM_LSP_SCREENSHOTS (docs/images)."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest

from tests.editors.code_server import REPO, SETUP_HINT, VSIX, CodeServer, missing_parts, python_for_server
from tests.editors.workbench import (
    TRUNCATE, TRUNCATE_LINE, documented, editor_text, keep, notification, open_file_at, run_palette_command,
    wait_for_server, workbench,
)

pytestmark = [pytest.mark.real, pytest.mark.editor]
TIER, ESCALATION = "llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"
JOB_GUARD_S = 600  # hang guard for the model job, not a speed claim
SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "security.workspace.trust.enabled": False,
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "editor.minimap.enabled": False,
    "files.autoSave": "off",  # so the checks below see an edit stay in the editor, unsaved
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(REPO / "examples" / "textutils.py", folder / "textutils.py")
    # One candidate per tier, the default plan: a 0.5B docstring the claims gate rejects escalates to the 1.5B.
    (folder / "pyproject.toml").write_text(f'[tool.swarm-lsp]\ntiers = ["{TIER}", "{ESCALATION}"]\ncandidates = 1\n')
    return folder


def code_server(tmp_path: Path, settings: dict | None = None, env: dict | None = None) -> CodeServer:
    missing = missing_parts()
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: {SETUP_HINT}")
    server = CodeServer(tmp_path / "code-server", {**SETTINGS, "swarmLsp.path": str(python_for_server()),
                                                   **(settings or {})}, env)
    server.install_extension(VSIX)
    return server


def test_document_from_the_command_palette_puts_a_docstring_in_the_editor(workspace, tmp_path):
    before = (workspace / "textutils.py").read_text()
    with workbench(code_server(tmp_path), workspace, tmp_path) as page:
        open_file_at(page, "textutils.py", TRUNCATE_LINE)
        wait_for_server(page)
        page.keyboard.press("Control+.")  # quick fixes and refactorings: the refactor presets
        menu = page.locator(".action-widget")
        menu.wait_for(state="visible", timeout=60_000)
        assert "Refactor Truncator.truncate: simplify (swarm)" in menu.inner_text()
        page.keyboard.press("Escape")
        menu.wait_for(state="hidden")
        run_palette_command(page, "Source Action...")  # document, tests, audit
        menu.wait_for(state="visible", timeout=60_000)
        assert "Document Truncator.truncate (swarm)" in menu.inner_text()
        assert "Generate tests for Truncator.truncate (swarm)" in menu.inner_text()
        keep(page, tmp_path, "vscode-code-actions.png")
        page.keyboard.press("Escape")

        run_palette_command(page, "Swarm: Document Symbol")
        deadline = time.monotonic() + JOB_GUARD_S
        while not documented(editor_text(page), TRUNCATE) and time.monotonic() < deadline:
            page.wait_for_timeout(1000)
        assert documented(editor_text(page), TRUNCATE), editor_text(page)
        summary = notification(page, "accepted")
        assert "document" in summary.inner_text() and "truncate" in summary.inner_text()
        keep(page, tmp_path, "vscode-document-result.png")
    assert (workspace / "textutils.py").read_text() == before  # an edit in the editor, not a write


def test_a_tier_that_cannot_answer_is_an_error_notification_with_the_servers_message(workspace, tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once closed
    server = code_server(tmp_path, {"swarmLsp.tiers": ["ollama:qwen2.5-coder:0.5b"]},
                         {"OLLAMA_HOST": f"127.0.0.1:{port}"})
    with workbench(server, workspace, tmp_path) as page:
        open_file_at(page, "textutils.py", 7)
        wait_for_server(page)
        run_palette_command(page, "Swarm: Document Symbol")
        error = notification(page, "no Ollama host could serve the request", timeout_ms=JOB_GUARD_S * 1000)
        assert "document slugify: failed" in error.inner_text()
        assert error.locator(".codicon-error").count() == 1  # shown as an error, not as information
        assert not documented(editor_text(page))
