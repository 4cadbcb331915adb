"""The audit action on the scripted backend: bandit first, one auditor call per function, the
location gate, reviewer votes on every finding, symbols and other languages, the CLI output."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarm_lsp.server import cli
from swarm_lsp.server.session import build as session_build
from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.backends.base import Reply, TokenUsage
from swarm_lsp.swarm.types import ActionRequest
from swarm_lsp.swarm.settings import ActionOptions

SOURCE = '''import hashlib
import os

BASE = "/srv/files"


def read_file(name):
    return open(os.path.join(BASE, name)).read()


def digest(data):
    return hashlib.md5(data).hexdigest()
'''
def operation(line, cwe, reaches=True, mitigated=False, text="the name reaches open() without a path check"):
    return {"line": line, "operation": text, "cwe": cwe, "untrusted_input_reaches_it": reaches,
            "mitigated": mitigated, "severity": "high"}


TRAVERSAL = {"untrusted_inputs": ["name"], "operations": [operation(8, 22)]}
NONE = {"untrusted_inputs": [], "operations": []}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "files.py").write_text(SOURCE)
    return tmp_path


def run_audit(project, replies, target="", reviewers=0, review=None, path="files.py"):
    writer = ScriptedBackend("llamacpp:scripted", replies)
    backends = {"llamacpp:scripted": writer, "llamacpp:reviewer": ScriptedBackend("llamacpp:reviewer", review or [])}
    settings = SwarmSettings(tiers=("llamacpp:scripted",), candidates=2, reviewers=reviewers,
                             reviewer_tiers=("llamacpp:reviewer",))
    request = ActionRequest("audit", read_snapshot(project / path), target, workspace=str(project))
    return Swarm(settings, backends.__getitem__).run(request), writer


async def test_bandit_and_the_auditors_findings_together_one_call_per_function(project):
    coroutine, writer = run_audit(project, [TRAVERSAL, NONE])
    result = await coroutine
    assert result.status == "accepted" and result.edits == []
    findings = {(f["source"], f["cwe"], f["start_line"]) for f in result.evidence["findings"]}
    assert ("swarm", 22, 8) in findings and ("bandit", 328, 12) in findings
    assert result.evidence["functions_audited"] == 2 and len(writer.calls) == 2
    first_prompt = writer.calls[0]["messages"][-1]["content"]
    assert "data to analyse" in writer.calls[0]["messages"][0]["content"] and "   8 |     return open(" in first_prompt
    assert "untrusted_input_reaches_it" in str(writer.calls[0]["schema"])
    assert "def digest" not in first_prompt  # each call reads one function
    swarm_finding = next(f for f in result.evidence["findings"] if f["source"] == "swarm")
    assert swarm_finding["snippet"] == "    return open(os.path.join(BASE, name)).read()"
    assert swarm_finding["start_column"] == 5 and swarm_finding["rule_id"] == "swarm-cwe-22"


async def test_findings_outside_the_function_are_dropped_and_bad_json_is_retried(project):
    outside = {"untrusted_inputs": [], "operations": [operation(12, 22), operation(8, 89, mitigated=True),
                                                      operation(8, 78, reaches=False)]}
    coroutine, writer = run_audit(project, ["not json", outside, NONE])
    result = await coroutine
    assert result.status == "accepted" and [a.passed for a in result.attempts] == [False, True, True]
    assert {f["source"] for f in result.evidence["findings"]} == {"bandit"}
    assert "not inside read_file" in result.evidence["dropped"][0]["reason"]


async def test_an_answer_cut_off_at_the_token_limit_is_retried_with_the_reason(project):
    cut = Reply(text='{"untrusted_inputs": [], "operations": [{"line": 8, "operation": "open(', parsed=None,
                usage=TokenUsage(prompt=10, completion=720), model="llamacpp:scripted", latency_s=0.0,
                finish_reason="length")
    coroutine, writer = run_audit(project, [cut, TRAVERSAL, NONE])
    result = await coroutine
    assert result.status == "accepted" and [a.passed for a in result.attempts] == [False, True, True]
    assert writer.calls[0]["max_tokens"] >= 720  # six operations with their named inputs fit
    [gate] = result.attempts[0].gates
    assert gate.name == "json" and "cut off at the token limit" in gate.reasons[0]
    assert "cut off at the token limit" in writer.calls[1]["messages"][-1]["content"]  # fed back


async def test_reviewers_answer_one_yes_no_question_per_finding_and_can_reject_one(project):
    def review(messages):
        return {"answer": "no" if "(swarm)" in messages[-1]["content"] else "yes"}

    coroutine, _ = run_audit(project, [TRAVERSAL, NONE], reviewers=2, review=review)
    result = await coroutine
    assert [f["source"] for f in result.evidence["findings"]] == ["bandit"]
    [dropped] = result.evidence["dropped"]
    assert dropped["reason"] == "rejected by the reviewers" and dropped["finding"]["cwe"] == 22
    assert [v["vote"] for v in dropped["votes"]] == ["reject"]  # polling stopped at the first rejection
    [(key, kept_votes)] = result.evidence["votes"].items()  # the kept finding says who approved it
    assert key.startswith("bandit:B324:") and [v["vote"] for v in kept_votes] == ["approve", "approve"]


async def test_each_finding_is_one_claim_after_the_code_with_the_audit_checkers_role(project):
    reviewer = ScriptedBackend("llamacpp:reviewer", lambda messages: {"answer": "yes"})
    writer = ScriptedBackend("llamacpp:scripted", [TRAVERSAL, NONE])
    backends = {"llamacpp:scripted": writer, "llamacpp:reviewer": reviewer}
    settings = SwarmSettings(tiers=("llamacpp:scripted",), candidates=2, reviewers=2,
                             reviewer_tiers=("llamacpp:reviewer",))
    request = ActionRequest("audit", read_snapshot(project / "files.py"), "", workspace=str(project))
    result = await Swarm(settings, backends.__getitem__).run(request)
    assert {f["cwe"] for f in result.evidence["findings"]} == {22, 328}
    # two reviewers per finding (bandit's md5 and the swarm's path), each with its own question
    assert len(reviewer.calls) == 4
    questions = [call["messages"][-1]["content"] for call in reviewer.calls]
    assert all(call["messages"][0]["content"].startswith("You check the findings of a security review")
               for call in reviewer.calls)
    traversal = [q for q in questions if "CWE-22" in q]
    assert len(traversal) == 2 and traversal[0].splitlines()[-1] != traversal[1].splitlines()[-1]
    code_end, claim = traversal[0].index("END "), traversal[0].index("> Line 8 is a real CWE-22")
    assert traversal[0].index("return open(") < code_end < claim
    assert all(call["schema"]["properties"]["answer"]["enum"] == ["yes", "no"] for call in reviewer.calls)


async def test_a_symbol_target_audits_only_that_function(project):
    coroutine, writer = run_audit(project, [NONE], target="digest")
    result = await coroutine
    assert len(writer.calls) == 1 and result.evidence["functions"] == 1
    assert [f["rule_id"] for f in result.evidence["findings"]] == ["B324"]


async def test_other_languages_get_the_swarm_auditors_only(project):
    (project / "app.ts").write_text("export function run(cmd: string) {\n  return exec(cmd);\n}\n")
    found = {"untrusted_inputs": ["cmd"], "operations": [operation(2, 78, text="exec of input")]}
    coroutine, _ = run_audit(project, [found], path="app.ts")
    result = await coroutine
    [finding] = result.evidence["findings"]
    assert finding["source"] == "swarm" and finding["cwe"] == 78
    assert finding["confidence"] == "low"  # no reviewer confirmed it


def test_findings_are_unmitigated_operations_reached_by_input_or_weak_primitives():
    from swarm_lsp.swarm.actions.audit_prompt import findings_from

    data = {"operations": [operation(1, 89), operation(2, 89, mitigated=True), operation(3, 78, reaches=False),
                           operation(4, 328, reaches=False), "junk"]}
    assert [f["line"] for f in findings_from(data)] == [1, 4]


def test_cli_run_audit_takes_a_bare_path_and_prints_findings(project, monkeypatch, capsys):
    backend = ScriptedBackend("llamacpp:qwen2.5-coder-0.5b", [TRAVERSAL, NONE])
    monkeypatch.setattr(session_build, "create_backend", lambda name, settings: backend)
    assert cli.main(["run", "audit", str(project / "files.py"), "--no-progress", "--tiers",
                     "llamacpp:qwen2.5-coder-0.5b"]) == 0
    out = capsys.readouterr().out
    assert "\nfiles.py:8:5: high CWE-22 [swarm swarm-cwe-22]" in "\n" + out  # workspace-relative and "CWE-328 [bandit B324]" in out


async def test_a_whole_file_audit_targets_the_file(project):
    coroutine, _ = run_audit(project, [NONE, NONE])
    result = await coroutine
    assert result.target == str(project / "files.py")


async def test_findings_on_a_nosec_line_or_of_a_skipped_rule_are_listed_as_suppressed(project):
    (project / "files.py").write_text(SOURCE.replace("read()", "read()  # nosec CWE-22"))
    writer = ScriptedBackend("llamacpp:scripted", [TRAVERSAL, NONE])
    request = ActionRequest("audit", read_snapshot(project / "files.py"), "", workspace=str(project),
                            options=ActionOptions(audit_skip=("B324",)))
    result = await Swarm(SwarmSettings(tiers=("llamacpp:scripted",)), {"llamacpp:scripted": writer}.__getitem__).run(request)
    assert result.evidence["findings"] == []
    assert {(s["finding"]["rule_id"], s["reason"]) for s in result.evidence["suppressed"]} == {
        ("swarm-cwe-22", "# nosec"), ("B324", "skipped in the configuration")}


async def test_a_swarm_finding_on_a_mitigated_operation_is_dropped_with_the_reason(project):
    (project / "files.py").write_text(SOURCE.replace(
        "    return open(os.path.join(BASE, name)).read()",
        "    path = os.path.realpath(os.path.join(BASE, name))\n"
        "    if os.path.commonpath([BASE, path]) != BASE:\n        raise PermissionError(name)\n"
        "    return open(path).read()"))
    flagged_input_line = {"untrusted_inputs": ["name"], "operations": [operation(8, 22)]}
    coroutine, _ = run_audit(project, [flagged_input_line, NONE])
    result = await coroutine
    assert [f["source"] for f in result.evidence["findings"]] == ["bandit"]
    [dropped] = [d for d in result.evidence["dropped"] if "finding" in d]
    assert dropped["finding"]["start_line"] == 11  # anchored on the open() the input flows into
    assert dropped["reason"].startswith("mitigated: the path is resolved and checked")
