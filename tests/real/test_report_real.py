"""The savings report on a ledger written by a real action: one `swarm-lsp run document` on the
embedded Qwen2.5-Coder 0.5B (one candidate, no reviewers), then `swarm-lsp report --json`. Whatever
the model wrote, the report must agree with the action's own result and with the ledger."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.report import avoided_tokens, build_report

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[2]
MODEL = "llamacpp:qwen2.5-coder-0.5b"


def swarm_lsp(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "swarm_lsp.server.cli", *args], cwd=workspace,
                          capture_output=True, text=True, timeout=600)


def test_report_agrees_with_a_real_action_and_its_ledger(tmp_path: Path):
    shutil.copy(REPO / "examples" / "textutils.py", tmp_path / "textutils.py")
    (tmp_path / "pyproject.toml").write_text(f'[tool.swarm-lsp]\ntiers = ["{MODEL}"]\n')
    run = swarm_lsp(tmp_path, "run", "document", "textutils.py::slugify", "--json", "--no-progress",
                    "--candidates", "1", "--reviewers", "0", "--doc-examples", "off")
    assert run.returncode in (0, 1), run.stderr  # accepted or not: either is a ledger to report on
    result = json.loads(run.stdout)
    report_run = swarm_lsp(tmp_path, "report", "--json", "--workspace", str(tmp_path))
    assert report_run.returncode == 0, report_run.stderr
    report = json.loads(report_run.stdout)

    with Ledger() as ledger:  # the children's ledger: SWARM_LSP_LEDGER_PATH is inherited
        assert report == build_report(ledger, tmp_path.resolve(), workspace=str(tmp_path.resolve()))
        totals = ledger.totals(workspace=str(tmp_path.resolve()))
        calls = ledger.recent_calls(100)
    assert report["calls"]["total"] == totals["calls"] == len(calls) >= 1
    assert report["tokens"]["local"] == totals["local_tokens"] == result["usage"]["local_tokens"] > 0
    assert report["tokens"]["cloud"] == 0 and report["calls"]["cloud"] == 0
    assert report["calls"]["usage_estimated"] == sum(c.usage_estimated for c in calls)
    assert report["actions"]["total"] == 1 and report["actions"]["by_status"][result["status"]] == 1
    assert set(report["by_model"]) == {MODEL} and report["by_model"][MODEL]["calls"] == len(calls)
    document = report["by_action"]["document"]
    assert document["elapsed_s"]["median"] == document["elapsed_s"]["p90"] == round(result["elapsed_s"], 3)
    accepted = result["status"] == "accepted"
    assert report["actions"]["accepted_locally"] == int(accepted)
    assert report["avoided_cloud_tokens"]["estimate"] == (avoided_tokens(result["usage"]["local_tokens"]) if accepted else 0)
