"""A refactor aimed at an audit finding (`fixes`, the editor's quick fix) is accepted only when
the finding is gone from the rewritten target and its helpers: bandit's by re-running bandit,
the swarm's by the mitigation gate over the operations of its class."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.actions.base import ActionInputError
from swarm_lsp.swarm.audit.recheck import FindingToFix, lines_of_definitions, still_present
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.types import ActionRequest
from swarm_lsp.swarm.settings import ActionOptions

TOOLS = textwrap.dedent('''\
    import subprocess


    def run(command):
        return subprocess.call(command, shell=True)


    def other(command):
        return subprocess.call(command, shell=True)
''')
TESTS = "from tools import run\n\n\ndef test_run():\n    assert run('true') == 0\n"
STILL_SHELL = "```python\ndef run(command):\n    result = subprocess.call(command, shell=True)\n    return result\n```"
FIXED = ("```python\nimport shlex\n\n\ndef run(command):\n    return subprocess.call(_argv(command))\n\n\n"
         "def _argv(command):\n    return shlex.split(command)\n```")
BANDIT = FindingToFix("B602", 78, 5)
SWARM = FindingToFix("swarm-cwe-78", 78, 5)


def test_the_fixes_option_is_validated():
    assert FindingToFix.from_option({"rule": "B602", "cwe": 78, "line": 5}) == BANDIT
    for bad in ("B602", {"rule": "B602", "cwe": "78", "line": 5}, {"cwe": 78, "line": 5}):
        with pytest.raises(ValueError):
            FindingToFix.from_option(bad)


def test_only_the_target_and_its_helpers_are_rechecked():
    assert lines_of_definitions(TOOLS, ["run"]) == {4, 5}
    [where] = still_present(BANDIT, "tools.py", TOOLS, ["run"])
    assert where.startswith("bandit B602 still reports line 5") and "shell=True" in where
    [where] = still_present(SWARM, "tools.py", TOOLS, ["run"])
    assert where.startswith("line 5 still performs an operation open to OS command injection")
    fixed = TOOLS.replace("subprocess.call(command, shell=True)\n\n\ndef other",
                          'subprocess.call(["echo", "--", command])\n\n\ndef other')
    assert still_present(BANDIT, "tools.py", fixed, ["run"]) == []
    assert still_present(SWARM, "tools.py", fixed, ["run"]) == []
    assert still_present(FindingToFix("swarm-cwe-1", 1, 5), "tools.py", TOOLS, ["run"]) == []  # not a class it knows


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "tools.py").write_text(TOOLS)
    (tmp_path / "test_tools.py").write_text(TESTS)
    return tmp_path


def fix_request(project: Path, fixes) -> ActionRequest:
    return ActionRequest("refactor", read_snapshot(project / "tools.py"), "run", workspace=str(project),
                         options=ActionOptions(instruction="Fix CWE-78 at line 5", fixes=fixes))


async def test_a_rewrite_that_keeps_the_flaw_is_rejected_and_the_writer_told_where(project):
    backend = ScriptedBackend("llamacpp:scripted", [STILL_SHELL, FIXED])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:scripted",), candidates=2), lambda name: backend)
    result = await swarm.run(fix_request(project, {"rule": "B602", "cwe": 78, "line": 5}))
    assert result.status == "accepted", result.message
    first, second = result.attempts
    assert [g.name for g in first.gates if not g.passed] == ["fixed"]
    assert "bandit B602 still reports line 5" in backend.calls[1]["messages"][-1]["content"]
    assert "shlex.split" in result.edits[0].new_text and result.evidence["fixes"]["rule_id"] == "B602"
    assert result.evidence["tests_run"] == ["test_tools.py::test_run"]
    # a fix is compared with the original on the calls the tests make only: drawn values may be the attack
    assert result.evidence["differential"]["status"] == "same"
    assert result.evidence["differential"]["inputs"] == {"observed": 1}


async def test_a_malformed_fixes_option_is_an_input_error(project):
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:scripted",)), lambda name: ScriptedBackend(name, []))
    with pytest.raises(ActionInputError, match="fixes must"):
        await swarm.run(fix_request(project, {"rule": "B602"}))
