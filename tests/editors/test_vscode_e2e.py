"""VS Code itself (code-server 4.100.3 = VS Code 1.100.3) in headless Chromium with the packaged
extension installed: open a Python file, run "Swarm: Document" from the command palette on the
embedded model, and see the docstring appear in the editor. Screenshots of the code-action menu
and of the result are saved in the test's folder, and copied to the folder named by
SWARM_LSP_SCREENSHOTS (docs/images for the README's)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.editors.code_server import (
    CHROMIUM, CHROMIUM_ARGS, REPO, SETUP_HINT, VSIX, CodeServer, missing_parts, python_for_server,
)

pytestmark = [pytest.mark.real, pytest.mark.editor]
TIER = "llamacpp:qwen2.5-coder-0.5b"
JOB_GUARD_S = 600  # hang guard for the model job, not a speed claim


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(REPO / "examples" / "textutils.py", folder / "textutils.py")
    (folder / "pyproject.toml").write_text(f'[tool.swarm-lsp]\ntiers = ["{TIER}"]\ncandidates = 1\n')
    return folder


@pytest.fixture
def code_server(tmp_path: Path) -> CodeServer:
    missing = missing_parts()
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: {SETUP_HINT}")
    server = CodeServer(tmp_path / "code-server", {
        "swarmLsp.path": str(python_for_server()),
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "security.workspace.trust.enabled": False,
        "extensions.autoUpdate": False,
        "extensions.ignoreRecommendations": True,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "editor.minimap.enabled": False,
        "window.zoomLevel": 0,
        "files.autoSave": "off",  # so the check below sees the edit stay in the editor, unsaved
    })
    server.install_extension(VSIX)
    return server


def keep(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name))
    target = os.environ.get("SWARM_LSP_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, Path(target) / name)


def run_palette_command(page, title: str) -> None:
    page.keyboard.press("F1")
    box = page.locator(".quick-input-widget input")
    box.wait_for(state="visible")
    box.fill(f">{title}")
    page.locator(".quick-input-list .monaco-list-row", has_text=title).first.wait_for(state="visible")
    page.keyboard.press("Enter")


def open_file_at(page, name: str, line: int) -> None:
    page.keyboard.press("Control+P")
    box = page.locator(".quick-input-widget input")
    box.wait_for(state="visible")
    box.fill(name)
    page.locator(".quick-input-list .monaco-list-row", has_text=name).first.wait_for(state="visible")
    page.keyboard.press("Enter")
    page.locator(".monaco-editor .view-lines").first.wait_for(state="visible")
    run_palette_command(page, "Go to Line/Column")
    page.keyboard.type(str(line))
    page.keyboard.press("Enter")
    page.keyboard.press("End")


def editor_text(page) -> str:
    """The editor's rendered lines in order (Monaco keeps its line elements in any order)."""
    lines = page.locator(".monaco-editor .view-lines").first.evaluate(
        "el => [...el.querySelectorAll('.view-line')].map(l => [parseFloat(l.style.top), l.innerText])")
    return "\n".join(text for _, text in sorted(lines)).replace("\u00a0", " ")


def documented(text: str, signature: str = 'def slugify(text, max_len=40, separator="-"):') -> bool:
    """The line under the function's signature opens a docstring (the file has others elsewhere)."""
    lines = text.split("\n")
    at = next((i for i, line in enumerate(lines) if line.strip() == signature), None)
    return at is not None and at + 1 < len(lines) and lines[at + 1].strip().startswith('"""')


def test_document_from_the_command_palette_puts_a_docstring_in_the_editor(code_server, workspace, tmp_path):
    from playwright.sync_api import sync_playwright

    before = (workspace / "textutils.py").read_text()
    with code_server.serving(workspace) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            page.goto(url)
            page.locator(".monaco-workbench").wait_for(state="visible", timeout=120_000)
            open_file_at(page, "textutils.py", 7)  # def slugify(...)
            # "Swarm N local · M cloud": the server started and answered swarm.report
            page.locator(".statusbar-item", has_text="local").first.wait_for(state="visible", timeout=120_000)

            page.keyboard.press("Control+.")  # quick fixes and refactorings: the refactor presets
            menu = page.locator(".action-widget")
            menu.wait_for(state="visible", timeout=60_000)
            assert "Refactor slugify: simplify (swarm)" in menu.inner_text()
            page.keyboard.press("Escape")
            menu.wait_for(state="hidden")
            run_palette_command(page, "Source Action...")  # document, tests, audit
            menu.wait_for(state="visible", timeout=60_000)
            assert "Document slugify (swarm)" in menu.inner_text() and "Generate tests for slugify (swarm)" in menu.inner_text()
            keep(page, tmp_path, "vscode-code-actions.png")
            page.keyboard.press("Escape")

            run_palette_command(page, "Swarm: Document Symbol")
            deadline = time.monotonic() + JOB_GUARD_S
            while not documented(editor_text(page)) and time.monotonic() < deadline:
                page.wait_for_timeout(1000)
            assert documented(editor_text(page)), editor_text(page)
            run_palette_command(page, "Notifications: Show Notifications")  # toasts hide themselves; the list stays
            summary = page.locator(".notifications-center .notification-list-item", has_text="accepted").first
            summary.wait_for(state="visible", timeout=60_000)
            assert "document slugify" in summary.inner_text()
            keep(page, tmp_path, "vscode-document-result.png")
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))  # what the editor showed
            raise
        finally:
            browser.close()
    assert (workspace / "textutils.py").read_text() == before  # an unsaved edit in the editor, not a write
