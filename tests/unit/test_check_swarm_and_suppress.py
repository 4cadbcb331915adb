"""`swarm-lsp check --swarm` (the audit action per file on the scripted backend, cached, other
languages included, incomplete files retried) and suppression: `# nosec`, audit_skip/--skip,
audit_exclude/--exclude, suppressed results in SARIF."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import jsonschema
import pytest

from swarm_lsp.server import cli
from swarm_lsp.server.session import build as session_build
from swarm_lsp.swarm.audit.findings import Finding
from swarm_lsp.swarm.audit.suppress import Suppressions, parse_rule
from swarm_lsp.swarm.backends.scripted import ScriptedBackend

SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "sarif" / "sarif-2.1.0-rtm.5.json"
MODEL = "llamacpp:qwen2.5-coder-0.5b"

SHELL = '''import subprocess


def run(command):
    subprocess.call(command, shell=True)
'''
HASH = '''import hashlib


def digest(data):
    return hashlib.md5(data).hexdigest()
'''
WEB = "export function show(el: HTMLElement, html: string) {\n  el.innerHTML = html;\n}\n"
NONE = {"untrusted_inputs": [], "operations": []}
XSS = {"untrusted_inputs": ["html"], "operations": [
    {"line": 2, "operation": "innerHTML set from html", "cwe": 79, "untrusted_input_reaches_it": True,
     "mitigated": False, "severity": "high"}]}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("SWARM_LSP_AUDIT_CACHE", str(tmp_path / "cache.sqlite3"))
    monkeypatch.setenv("SWARM_LSP_LEDGER_PATH", str(tmp_path / "ledger.sqlite3"))
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "app" / "shell.py").write_text(SHELL)
    (root / "app" / "hashes.py").write_text(HASH)
    (root / "web.ts").write_text(WEB)
    return root


def scripted(monkeypatch, replies) -> ScriptedBackend:
    backend = ScriptedBackend(MODEL, replies)
    monkeypatch.setattr(session_build, "create_backend", lambda name, settings: backend)
    return backend


def check_json(project, capsys, *extra: str) -> tuple[int, dict, str]:
    code = cli.main(["check", str(project), "--format", "json", "--no-progress", "--tiers", MODEL, *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_check_swarm_audits_every_language_through_the_action_and_caches_by_content(project, monkeypatch, capsys):
    scripted(monkeypatch, [NONE, NONE, XSS])  # app/hashes.py, app/shell.py, web.ts
    code, data, err = check_json(project, capsys, "--swarm")
    assert code == 1 and data["summary"]["files"] == 3 and data["summary"]["cached"] == 0
    found = {(f["path"], f["source"], f["cwe"]) for f in data["findings"]}
    assert found == {("app/hashes.py", "bandit", 328), ("app/shell.py", "bandit", 78), ("app/shell.py", "bandit", 78),
                     ("web.ts", "swarm", 79)}
    assert "not audited" not in err
    replay = scripted(monkeypatch, [])  # every file comes from the cache: no model call at all
    code, again, _ = check_json(project, capsys, "--swarm")
    assert again["findings"] == data["findings"] and again["summary"]["cached"] == 3 and replay.calls == []


def test_a_file_whose_swarm_audit_did_not_finish_is_reported_incomplete_and_retried(project, monkeypatch, capsys):
    (project / "app" / "shell.py").unlink()
    (project / "web.ts").unlink()
    scripted(monkeypatch, ["not json", "still not json", "nor this", "no"])
    code, data, err = check_json(project, capsys, "--swarm", "--candidates", "2")
    assert data["summary"]["incomplete_files"] and "app/hashes.py: 0 of 1 function(s) audited" in err
    assert [f["rule_id"] for f in data["findings"]] == ["B324"]  # bandit's findings still reported
    retried = scripted(monkeypatch, [NONE])
    code, data, _ = check_json(project, capsys, "--swarm")
    assert retried.calls and data["summary"]["incomplete_files"] == [] and data["summary"]["cached"] == 0


def test_ctrl_c_stops_the_swarm_scan_and_reports_the_files_left(project, monkeypatch, capsys):
    def interrupt_then_answer(_messages):  # Ctrl-C arrives while the first file is being audited
        os.kill(os.getpid(), signal.SIGINT)
        return NONE

    backend = scripted(monkeypatch, interrupt_then_answer)
    code, data, err = check_json(project, capsys, "--swarm")
    assert "cancelling (press Ctrl-C again" in err
    assert len(backend.calls) == 1  # no model call after the interrupt
    assert "app/shell.py: not audited (interrupted)" in data["summary"]["incomplete_files"]
    assert "web.ts: not audited (interrupted)" in data["summary"]["incomplete_files"]


def test_skip_and_exclude_from_flags_and_the_configuration(project, capsys):
    code, data, err = check_json(project, capsys, "--skip", "CWE-328", "--fail-on", "high")
    assert code == 1 and "B324" not in {f["rule_id"] for f in data["findings"]}
    [suppressed] = data["summary"]["suppressed"]
    assert suppressed["finding"]["rule_id"] == "B324" and suppressed["reason"] == "skipped in the configuration"
    assert "1 suppressed" in err
    (project / "swarm-lsp.toml").write_text('audit_exclude = ["app/shell.py"]\naudit_skip = ["B404"]\n')
    code, data, _ = check_json(project, capsys, "--fail-on", "medium", "--skip", "B324")
    assert code == 0 and data["findings"] == [] and data["summary"]["files"] == 1
    code, data, _ = check_json(project, capsys, "--exclude", "app/**")
    assert code == 0 and data["summary"]["files"] == 0


def test_suppressed_findings_are_marked_in_sarif(project, capsys):
    out = project / "report.sarif"
    cli.main(["check", str(project), "--format", "sarif", "--output", str(out), "--no-progress", "--skip", "B324"])
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["B324"]["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "skipped in the configuration"}]
    assert "suppressions" not in results["B602"]


def test_a_bad_rule_name_is_a_usage_error(project, capsys):
    assert cli.main(["check", str(project), "--skip", "assert"]) == 2
    assert "'assert' is not a rule id" in capsys.readouterr().err


def finding(line: int, rule: str = "swarm-cwe-89", cwe: int = 89) -> Finding:
    return Finding("a.py", line, 1, line, 2, cwe, "high", "low", "m", "x", "swarm", rule)


def test_nosec_comments_silence_all_or_only_the_listed_rules_and_cwes():
    text = "a  # nosec\nb  # nosec: CWE-89\nc  # NOSEC B602, swarm-cwe-78\nd\n"
    suppressions = Suppressions()
    assert suppressions.why(finding(1), text) == "# nosec"
    assert suppressions.why(finding(2), text) == "# nosec"
    assert suppressions.why(finding(2, "swarm-cwe-78", 78), text) is None
    assert suppressions.why(finding(3, "swarm-cwe-78", 78), text) == "# nosec"
    assert suppressions.why(finding(3), text) is None
    assert suppressions.why(finding(4), text) is None
    shown, hidden = Suppressions.from_options(skip=["cwe-89"]).split([finding(4), finding(4, "B602", 78)], text)
    assert [f.rule_id for f in shown] == ["B602"] and hidden[0][1] == "skipped in the configuration"


@pytest.mark.parametrize("pattern, path, excluded", [
    ("tests/**", "tests/unit/test_a.py", True), ("tests/", "tests/a.py", True), ("tests", "tests/a.py", True),
    ("tests/**", "src/tests.py", False), ("*_pb2.py", "api/user_pb2.py", True), ("app/x.py", "app/xy.py", False),
])
def test_exclude_patterns(pattern, path, excluded):
    assert Suppressions.from_options(exclude=[pattern]).excluded(path) is excluded


def test_rule_names_are_normalised():
    assert [parse_rule(r) for r in ("b101", "cwe-703", "SWARM-CWE-89")] == ["B101", "CWE-703", "swarm-cwe-89"]
