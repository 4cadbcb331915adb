"""The refactor action end to end on the embedded models: the rewrite is only offered when the
tests that exercise the target (existing ones, or characterization tests generated first) pass
before and after; here we re-run them on the rewritten file outside the swarm."""

from __future__ import annotations

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
EXISTING_TESTS = '''from shop.pricing import apply_discount


def test_no_discount():
    assert apply_discount(10.0, 0) == 10.0


def test_full_discount():
    assert apply_discount(10.0, 100) == 0.0


def test_partial_discount():
    assert apply_discount(80.0, 25) == 60.0
'''


@pytest.fixture
def workspace(tmp_path):
    shutil.copytree(FIXTURE / "shop", tmp_path / "shop")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.swarm-lsp]\ntiers = ["llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"]\n')
    return tmp_path


async def refactor(workspace: Path, symbol: str, **options):
    config = load_config(workspace)
    request = ActionRequest("refactor", read_snapshot(workspace / "shop" / "pricing.py"), symbol,
                            workspace=str(workspace), options=config.action_options(**options))
    return await build_swarm(config).run(request)


def pytest_passes(workspace: Path, test_file: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file],
                          cwd=workspace, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(workspace),
                               "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})


async def test_a_preset_refactor_keeps_the_existing_tests_green(workspace):
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_pricing.py").write_text(EXISTING_TESTS)
    result = await refactor(workspace, "apply_discount", preset="modernise-types")
    assert result.status == "accepted", result.message
    assert len(result.evidence["tests_run"]) == 3 and result.evidence["complexity_before"] == 3
    differential = result.evidence["differential"]  # the accepted rewrite agreed with the original everywhere
    assert differential["status"] == "same" and differential["divergences"] == []
    assert differential["inputs"]["observed"] == 3 and differential["inputs"]["boundary"] > 0
    (workspace / "shop" / "pricing.py").write_text(result.edits[0].new_text)
    completed = pytest_passes(workspace, "tests/test_pricing.py")
    assert completed.returncode == 0 and "3 passed" in completed.stdout, completed.stdout


async def test_without_tests_characterization_tests_come_first_and_stay_green(workspace):
    result = await refactor(workspace, "parse_port", instruction="simplify the code")
    assert result.status == "accepted", result.message
    evidence = result.evidence
    assert evidence["characterization_tests"] == "tests/test_pricing.py" and evidence["tests_run"]
    assert evidence["differential"]["status"] == "same" and evidence["differential"]["inputs"]["observed"] > 0
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_pricing.py").write_text(evidence["characterization_module"])
    (workspace / "shop" / "pricing.py").write_text(result.edits[0].new_text)
    assert pytest_passes(workspace, "tests/test_pricing.py").returncode == 0
