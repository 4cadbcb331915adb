"""The deterministic audit pass and `swarm-lsp check`: bandit findings with CWE ids, the location
gate, SARIF 2.1.0 validated against the official schema, exit codes, formats and the cache."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from swarm_lsp.server import cli
from swarm_lsp.swarm.audit.bandit_pass import bandit_findings
from swarm_lsp.swarm.audit.findings import located
from swarm_lsp.swarm.audit.sarif import to_sarif

SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "sarif" / "sarif-2.1.0-rtm.5.json"

VULNERABLE = '''import hashlib
import subprocess


def run(command):
    subprocess.call(command, shell=True)


def digest(data):
    return hashlib.md5(data).hexdigest()
'''
SAFE = '''import hashlib
import subprocess


def run(arguments):
    subprocess.run(["ls", *arguments], check=True)


def digest(data):
    return hashlib.sha256(data).hexdigest()
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("SWARM_LSP_AUDIT_CACHE", str(tmp_path / "cache.sqlite3"))
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "app" / "vuln.py").write_text(VULNERABLE)
    (root / "app" / "safe.py").write_text(SAFE)
    (root / "web.ts").write_text("export const x = 1;\n")
    return root


def test_bandit_findings_carry_cwe_severity_confidence_and_a_located_snippet():
    findings = {f.rule_id: f for f in bandit_findings("app/vuln.py", VULNERABLE)}
    shell, md5 = findings["B602"], findings["B324"]
    assert (shell.cwe, shell.severity, shell.confidence, shell.source) == (78, "high", "high", "bandit")
    assert (shell.start_line, shell.start_column, shell.snippet) == (6, 5, "    subprocess.call(command, shell=True)")
    assert md5.cwe == 328 and md5.cwe_label == "CWE-328"  # refined from bandit's 327
    assert all(located(f, VULNERABLE) is None for f in findings.values())
    assert not [f for f in bandit_findings("app/safe.py", SAFE) if f.severity != "low"]


def test_the_location_gate_rejects_ranges_and_snippets_that_do_not_match():
    finding = next(f for f in bandit_findings("a.py", VULNERABLE) if f.rule_id == "B602")
    assert "outside the file" in located(finding, "x = 1\n")
    assert "does not match" in located(finding, VULNERABLE.replace("shell=True", "shell=False"))


def test_sarif_is_valid_against_the_schema_with_cwe_tags_and_properties():
    findings = bandit_findings("app/vuln.py", VULNERABLE)
    log = to_sarif(findings, tool_version="1.0", root_uri="file:///proj/")
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    run = log["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert "external/cwe/cwe-78" in rules["B602"]["properties"]["tags"]
    result = next(r for r in run["results"] if r["ruleId"] == "B602")
    assert result["properties"]["cwe"] == "CWE-78" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/vuln.py"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "B602"


def test_check_exits_1_on_findings_and_writes_valid_sarif(project, capsys):
    out = project / "report.sarif"
    code = cli.main(["check", str(project), "--format", "sarif", "--output", str(out), "--no-progress"])
    assert code == 1
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    paths = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert "app/vuln.py" in paths
    err = capsys.readouterr().err
    assert "2 file(s)" in err and "1 JavaScript/TypeScript/Go/Rust file(s) not audited" in err
    assert "1 dropped as mitigated" in err  # B603 on the argument list in app/safe.py


def test_fail_on_text_and_json_formats_and_the_cache(project, capsys):
    assert cli.main(["check", str(project / "app" / "safe.py"), "--fail-on", "medium", "--no-progress"]) == 0
    capsys.readouterr()
    assert cli.main(["check", str(project / "app"), "--fail-on", "high", "--no-progress"]) == 1
    out, err = capsys.readouterr()
    assert "app/vuln.py:6:5: high CWE-78 [bandit B602]" in out and "(0 from the cache)" not in err
    assert cli.main(["check", str(project / "app"), "--format", "json", "--no-progress"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["cached"] == 2 and data["summary"]["by_severity"]["high"] == 2
    assert {f["cwe"] for f in data["findings"]} >= {78, 328}


@pytest.mark.parametrize("args, message", [
    (["check", "/nonexistent/x.py"], "no such file or folder"),
    (["check", ".", "--jobs", "0"], "--jobs must be at least 1"),
])
def test_usage_errors_exit_2(project, capsys, args, message):
    assert cli.main(args) == 2
    assert message in capsys.readouterr().err


def test_a_bad_format_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["check", ".", "--format", "xml"])
    assert exit_info.value.code == 2
