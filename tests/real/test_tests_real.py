"""The tests action end to end on the embedded models (llama.cpp), over fixtures of rising
difficulty: a pure function, a function that raises, a small class.

Whatever the model writes, what is kept must hold: every kept test passes when the written
module is re-run on its own, outside the swarm, and the evidence matches that re-run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from swarm_lsp.server.config import load_config
from swarm_lsp.server.session.build import build_swarm
from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.types import ActionRequest

pytestmark = pytest.mark.real

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "testgen"
CONFIG = """[tool.swarm-lsp]
tiers = ["llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"]
coverage_goal = 0.5
mutants = 12
"""


@pytest.fixture
def workspace(tmp_path):
    shutil.copytree(FIXTURE / "shop", tmp_path / "shop")
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    return tmp_path


def rerun(workspace: Path, test_file: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", test_file],
        cwd=workspace, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(workspace), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )


@pytest.mark.parametrize("target", ["apply_discount", "parse_port", "Stack"])
async def test_written_tests_pass_when_rerun_independently(workspace, target):
    pricing = workspace / "shop" / "pricing.py"
    original = pricing.read_text()
    request = ActionRequest("tests", read_snapshot(pricing), target, workspace=str(workspace),
                            options=load_config(workspace).action_options())
    result = await build_swarm(load_config(workspace)).run(request)

    assert result.status == "accepted", result.message
    evidence = result.evidence
    kept = evidence["tests_kept"]
    written = [name for name in kept if "_pins_line_" not in name]  # the pinning tests are not the model's
    assert kept and evidence["tests_generated"] >= len(written)
    assert evidence["line_coverage"] >= 0.5 and 0 < evidence["branch_coverage"] <= 1
    assert 0 <= evidence["mutation_score"] <= 1 and evidence["mutants"]["total"] > 0
    # the survivor loop and the pinning tests only add kills to the score the kept tests had
    killed = evidence["mutants"]["killed_by_new_tests"] + evidence["mutants"]["killed_by_pinning_tests"]
    assert evidence["mutation_score"] * evidence["mutants"]["total"] == pytest.approx(
        evidence["mutation_score_before"] * evidence["mutants"]["total"] + len(killed), abs=0.01)
    assert all(d["reason"] for d in evidence["tests_dropped"])
    assert pricing.read_text() == original and not (workspace / "tests").exists()  # nothing written yet

    [edit] = result.edits
    assert edit.created and edit.path == "tests/test_pricing.py"  # relative to the workspace
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_pricing.py").write_text(edit.new_text)
    completed = rerun(workspace, "tests/test_pricing.py")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"{len(kept)} passed" in completed.stdout


def test_cli_run_tests_applies_the_module(workspace):
    cli = Path(sys.executable).parent / "swarm-lsp"
    completed = subprocess.run(
        [str(cli), "run", "tests", "shop/pricing.py::parse_port", "--apply", "--json", "--no-progress",
         "--mutants", "0"],
        cwd=workspace, capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert data["applied"] is True and data["evidence"]["test_file"] == "tests/test_pricing.py"
    assert (workspace / "tests" / "test_pricing.py").read_text() == data["edits"][0]["new_text"]
    assert rerun(workspace, "tests/test_pricing.py").returncode == 0
