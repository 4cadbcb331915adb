"""Driving VS Code's workbench in the browser the way a user does: quick open, go to line, the
command palette, the notification list; reading what the editor shows."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tests.editors.code_server import CHROMIUM, CHROMIUM_ARGS, CodeServer

SLUGIFY = 'def slugify(text, max_len=40, separator="-"):'
TRUNCATE = "def truncate(self, text):"
TRUNCATE_LINE = 35  # examples/textutils.py: Truncator.truncate, which the small models document reliably


@contextmanager
def workbench(code_server: CodeServer, folder: Path, tmp_path: Path) -> Iterator:
    """A page with VS Code open on `folder`; a screenshot of it on failure (tmp_path/failure.png)."""
    from playwright.sync_api import sync_playwright

    with code_server.serving(folder) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            page.goto(url)
            page.locator(".monaco-workbench").wait_for(state="visible", timeout=120_000)
            yield page
        except BaseException:
            page.screenshot(path=str(tmp_path / "failure.png"))
            raise
        finally:
            browser.close()


def keep(page, tmp_path: Path, name: str) -> None:
    """A screenshot in the test's folder, copied to $SWARM_LSP_SCREENSHOTS when set (docs/images)."""
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


def wait_for_server(page) -> None:
    """The status bar reads "Swarm N local · M cloud": the server started and answered swarm.report."""
    page.locator(".statusbar-item", has_text="local").first.wait_for(state="visible", timeout=120_000)


def editor_text(page) -> str:
    """The editor's rendered lines in order (Monaco keeps its line elements in any order)."""
    lines = page.locator(".monaco-editor .view-lines").first.evaluate(
        "el => [...el.querySelectorAll('.view-line')].map(l => [parseFloat(l.style.top), l.innerText])")
    return "\n".join(text for _, text in sorted(lines)).replace("\u00a0", " ")


def documented(text: str, signature: str = SLUGIFY) -> bool:
    """The line under the function's signature opens a docstring (the file has others elsewhere)."""
    lines = text.split("\n")
    at = next((i for i, line in enumerate(lines) if line.strip() == signature), None)
    return at is not None and at + 1 < len(lines) and lines[at + 1].strip().startswith('"""')


def notification(page, text: str, timeout_ms: int = 60_000):
    """The notification list's entry containing `text` (toasts hide themselves; the list keeps them)."""
    run_palette_command(page, "Notifications: Show Notifications")
    entry = page.locator(".notifications-center .notification-list-item", has_text=text).first
    entry.wait_for(state="visible", timeout=timeout_ms)
    return entry
