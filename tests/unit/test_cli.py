"""The CLI in-process, with the scripted backend standing in for the model (see tests/real for the
embedded model): output formats, --apply safety, exit codes and usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from swarm_lsp.server import cli
from swarm_lsp.server.session import build as session_build
from swarm_lsp.swarm.backends.scripted import ScriptedBackend

SOURCE = "def add(a, b):\n    return a + b\n"
GOOD = {"summary": "Add two numbers.", "params": {"a": "The first number.", "b": "The second number."},
        "returns": "The sum."}


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.swarm-lsp]\ncandidates = 2\nreviewers = 0\ntiers = [\"llamacpp:qwen2.5-coder-0.5b\"]\n"
    )
    (tmp_path / "calc.py").write_text(SOURCE)
    (tmp_path / "broken.py").write_text("def f(x):\n    return x +\n")
    return tmp_path


def script(monkeypatch, replies):
    backend = ScriptedBackend("llamacpp:qwen2.5-coder-0.5b", replies)
    monkeypatch.setattr(session_build, "create_backend", lambda name, settings: backend)
    return backend


def test_prints_a_diff_and_leaves_the_file_alone(project, monkeypatch, capsys):
    script(monkeypatch, [GOOD])
    code = cli.main(["run", "document", f"{project}/calc.py::add", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("--- a/calc.py\n+++ b/calc.py\n")  # paths relative to the workspace
    assert '+    """Add two numbers.' in out
    assert "accepted (llamacpp:qwen2.5-coder-0.5b)" in err
    assert (project / "calc.py").read_text() == SOURCE


def test_a_documented_function_says_how_many_claims_were_verified(project, monkeypatch, capsys):
    script(monkeypatch, [{**GOOD, "examples": ["add(2, 3)", "add('a', 'b')"]}])
    code = cli.main(["run", "document", f"{project}/calc.py::add", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "+        >>> add(2, 3)\n+        5\n+        >>> add('a', 'b')\n+        'ab'\n" in out
    assert "swarm-lsp: 2 of 6 claims verified (2 executed)\n" in err


def test_json_output_is_the_action_result(project, monkeypatch, capsys):
    script(monkeypatch, [GOOD])
    code = cli.main(["run", "document", f"{project}/calc.py:2", "--json", "--no-progress"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["status"] == "accepted" and data["applied"] is False
    assert data["target"] == "calc.py::add"
    assert data["edits"][0]["diff"].count("+") >= 3
    assert data["usage"]["cloud_tokens"] == 0


def test_apply_writes_the_file(project, monkeypatch, capsys):
    script(monkeypatch, [GOOD])
    (project / "calc.py").chmod(0o640)
    assert cli.main(["run", "document", f"{project}/calc.py::add", "--apply", "--no-progress"]) == 0
    text = (project / "calc.py").read_text()
    assert text.startswith('def add(a, b):\n    """Add two numbers.\n')
    assert (project / "calc.py").stat().st_mode & 0o777 == 0o640
    assert not list(project.glob(".calc.py.*"))  # no temp file left behind


def test_apply_refuses_a_file_changed_during_the_run(project, monkeypatch, capsys):
    def edit_then_reply(_messages):
        (project / "calc.py").write_text(SOURCE + "\n# edited meanwhile\n")
        return GOOD

    script(monkeypatch, edit_then_reply)
    code = cli.main(["run", "document", f"{project}/calc.py::add", "--apply", "--no-progress"])
    assert code == 1
    assert "changed after it was read" in capsys.readouterr().err
    assert (project / "calc.py").read_text().endswith("# edited meanwhile\n")


def test_rejected_run_exits_1(project, monkeypatch, capsys):
    script(monkeypatch, ["not json", "still not json"])
    assert cli.main(["run", "document", f"{project}/calc.py::add", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "rejected" in err and "json" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "document", "{p}/missing.py::f"], "no such file"),
        (["run", "document", "{p}/calc.py"], "names no symbol"),
        (["run", "document", "{p}/calc.py::ad"], "add"),
        (["run", "document", "{p}/calc.py::add", "--candidates", "0"], "candidates"),
        (["run", "document", "{p}/calc.py::add", "--tiers", "gpt:4"], "gpt:4"),
        (["run", "document", "{p}/calc.py::add", "--doc-style", "fancy"], "google"),
        (["symbols", "{p}/pyproject.toml"], ".py"),
        (["run", "document", "{p}/broken.py::f"], "does not parse"),
        (["run", "document", "{p}/pyproject.toml::f"], "supported extensions"),
    ],
)
def test_usage_errors_exit_2_with_a_message(project, monkeypatch, capsys, args, message):
    backend = script(monkeypatch, [GOOD])
    code = cli.main([a.replace("{p}", str(project)) for a in args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert backend.calls == []


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "summarise", "x.py::f"])
    assert exit_info.value.code == 2


def test_symbols_json(project, capsys):
    assert cli.main(["symbols", f"{project}/calc.py", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["language"] == "python"
    [symbol] = data["symbols"]
    assert symbol["qualname"] == "add" and symbol["params"] == ["a", "b"]
    assert symbol["span"]["start_line"] == 0 and symbol["span"]["end_line"] == 1


def test_config_shows_the_merged_configuration(project, monkeypatch, capsys):
    monkeypatch.setenv("SWARM_LSP_MAX_TOKENS", "300")
    assert cli.main(["config", str(project), "--temperature", "0.5"]) == 0
    config = json.loads(capsys.readouterr().out)["config"]
    assert config["candidates"] == 2 and config["max_tokens"] == 300 and config["temperature"] == 0.5


TESTS_REPLY = "```python\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n```"


def test_run_tests_prints_the_new_module_and_apply_creates_it(project, monkeypatch, capsys):
    script(monkeypatch, [TESTS_REPLY, TESTS_REPLY])
    assert cli.main(["run", "tests", f"{project}/calc.py::add", "--no-progress", "--mutants", "0"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("--- /dev/null\n+++ b/tests/test_calc.py\n") and "+def test_add():" in out
    assert "accepted (llamacpp:qwen2.5-coder-0.5b)" in err and not (project / "tests").exists()

    code = cli.main(["run", "tests", f"{project}/calc.py::add", "--apply", "--json", "--no-progress"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["applied"] is True
    assert data["evidence"]["tests_kept"] == ["test_add"] and data["evidence"]["line_coverage"] == 1.0
    assert data["evidence"]["mutation_score"] == 1.0  # `+` -> `-` and `return None` are both killed
    assert (project / "tests" / "test_calc.py").read_text() == data["edits"][0]["new_text"]


def test_run_tests_refuses_to_overwrite_a_test_module_created_meanwhile(project, monkeypatch, capsys):
    def create_then_reply(_messages):
        (project / "tests").mkdir(exist_ok=True)
        (project / "tests" / "test_calc.py").write_text("# mine\n")
        return TESTS_REPLY

    script(monkeypatch, create_then_reply)
    assert cli.main(["run", "tests", f"{project}/calc.py::add", "--apply", "--no-progress", "--mutants", "0"]) == 1
    assert "was created after the action ran" in capsys.readouterr().err
    assert (project / "tests" / "test_calc.py").read_text() == "# mine\n"


def test_run_refactor_needs_an_instruction_and_uses_it(project, monkeypatch, capsys):
    (project / "tests").mkdir()
    (project / "tests" / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    backend = script(monkeypatch, ["```python\ndef add(a, b):\n    return b + a\n```"])
    assert cli.main(["run", "refactor", f"{project}/calc.py::add", "--no-progress"]) == 2
    assert "refactor needs an instruction or a preset" in capsys.readouterr().err
    assert cli.main(["run", "document", f"{project}/calc.py::add", "--preset", "simplify", "--no-progress"]) == 2
    assert "option 'preset' in the command line does not apply to the document action" in capsys.readouterr().err
    code = cli.main(["run", "refactor", f"{project}/calc.py::add", "--instruction", "swap the operands", "--apply",
                     "--no-progress"])
    assert code == 0 and (project / "calc.py").read_text() == "def add(a, b):\n    return b + a\n"
    assert "Instruction: swap the operands" in backend.calls[0]["messages"][-1]["content"]


@pytest.mark.parametrize("module", ["swarm_lsp.server", "swarm_lsp.server.cli"])
def test_python_dash_m_behaves_like_the_installed_command(project, module):
    script = Path(sys.executable).parent / "swarm-lsp"
    for command in ([sys.executable, "-m", module], [str(script)]):
        done = subprocess.run([*command, "run", "document", f"{project}/nosuch.py::f"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.strip() == f"swarm-lsp: error: {project}/nosuch.py: no such file"
