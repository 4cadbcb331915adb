"""Ctrl-C on `swarm-lsp run`: SIGINT while the embedded 0.5B model writes the first candidate ends
the job as cancelled (exit code 1, nothing printed to stdout, nothing written even with --apply),
with the model call recorded as cancelled and no model asked again. Order, not time: how soon is
measured in bench/cancel_latency.py."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from swarm_lsp.swarm.ledger import Ledger

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[2]
GUARD_S = 120  # a hang guard, not an assertion


def run_and_interrupt(workspace: Path, interrupts: int) -> tuple[list[str], str, str, int]:
    """`swarm-lsp run document --apply`, sent `interrupts` SIGINTs once the first candidate is being
    written; returns the stderr lines before them, the rest of stderr, stdout and the exit code."""
    shutil.copy(REPO / "examples" / "textutils.py", workspace / "textutils.py")
    (workspace / "pyproject.toml").write_text('[tool.swarm-lsp]\ntiers = ["llamacpp:qwen2.5-coder-0.5b"]\n')
    command = [sys.executable, "-m", "swarm_lsp.server.cli", "run", "document", "textutils.py::slugify", "--apply"]
    process = subprocess.Popen(command, cwd=workspace, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(GUARD_S, process.kill)
    timer.start()
    try:
        before: list[str] = []
        for line in process.stderr:  # not a terminal: one progress line per event
            before.append(line)
            if "writing candidate 1" in line:
                for _ in range(interrupts):
                    process.send_signal(signal.SIGINT)
                break
        after = process.stderr.read()
        return before, after, process.stdout.read(), process.wait()
    finally:
        timer.cancel()


def test_ctrl_c_cancels_the_job_and_writes_nothing(tmp_path: Path):
    original = (REPO / "examples" / "textutils.py").read_text()
    before, after, out, code = run_and_interrupt(tmp_path, interrupts=1)
    assert any("writing candidate 1" in line for line in before), "".join(before)
    assert code == 1, after
    assert "cancelling (press Ctrl-C again to quit at once)" in after
    assert "swarm-lsp: cancelled" in after and "cancelled by the user" in after
    assert "candidate 2" not in after and "checking candidate" not in after
    assert out == "" and (tmp_path / "textutils.py").read_text() == original
    with Ledger() as ledger:  # the child's ledger: SWARM_LSP_LEDGER_PATH is inherited
        assert [call.outcome for call in ledger.recent_calls(10)] == ["cancelled"]
        assert [action.status for action in ledger.recent_actions(10)] == ["cancelled"]

