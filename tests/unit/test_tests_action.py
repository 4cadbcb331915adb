"""The tests action end to end on the scripted backend (no model), with real pytest runs in the
sandbox: which tests are kept and why, accumulation until the target is covered, the edit to the
test module, the mutation score, cancellation, and containment of misbehaving tests."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.actions.base import ActionInputError
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.types import ActionRequest
from swarm_lsp.swarm.settings import ActionOptions

CALC = textwrap.dedent('''\
    def classify(n):
        if n < 0:
            return "negative"
        if n == 0:
            return "zero"
        return "positive"
''')

FIRST = textwrap.dedent('''\
    ```python
    def test_negative():
        assert classify(-2) == "negative"

    def test_negative_again():
        assert classify(-5) == "negative"

    def test_wrong():
        assert classify(3) == "big"
    ```
''')
SECOND = textwrap.dedent('''\
    ```python
    from pkg.calc import classify

    def test_zero():
        assert classify(0) == "zero"

    def test_positive():
        assert classify(7) == "positive"
    ```
''')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "calc.py").write_text(CALC)
    return tmp_path


def make_request(project: Path, target: str = "classify", **options) -> ActionRequest:
    snapshot = read_snapshot(project / "pkg" / "calc.py")
    return ActionRequest("tests", snapshot, target, workspace=str(project), options=ActionOptions(**{"test_timeout": 5, **options}))


def make_swarm(replies, candidates: int = 3) -> tuple[Swarm, ScriptedBackend]:
    backend = ScriptedBackend("llamacpp:scripted", replies)
    return Swarm(SwarmSettings(tiers=("llamacpp:scripted",), candidates=candidates), lambda name: backend), backend


async def test_tests_accumulate_until_the_target_is_covered(project):
    swarm, backend = make_swarm([FIRST, SECOND])
    result = await swarm.run(make_request(project))
    assert result.status == "accepted", result.message
    evidence = result.evidence
    assert evidence["tests_kept"] == ["test_negative", "test_zero", "test_positive"]
    assert evidence["tests_generated"] == 5
    reasons = {d["test"]: d["reason"] for d in evidence["tests_dropped"]}
    assert reasons["test_negative_again"].startswith("adds no coverage")
    assert reasons["test_wrong"].startswith("failed: AssertionError")
    assert evidence["line_coverage"] == 1.0 and evidence["branch_coverage"] == 1.0 and evidence["complete"] is True
    assert evidence["repairs"] == ["added the missing `from pkg.calc import classify`"]
    assert 0 < evidence["mutation_score"] <= 1 and evidence["mutants"]["total"] > 0
    assert set(evidence["run_times_s"]) >= {"single_runs_s", "flake_runs_s", "module_run_s", "mutation_s"}

    # the second prompt showed what was still missing and why tests were dropped
    second_prompt = backend.calls[1]["messages"][-1]["content"]
    assert "already written and kept" in second_prompt and "test_negative" in second_prompt
    assert "    return \"zero\"" in second_prompt and "`if n == 0:` never goes on to `return \"zero\"`" in second_prompt
    assert "test_wrong was dropped" in second_prompt

    [edit] = result.edits
    assert edit.created and edit.version == 0 and edit.path == "tests/test_calc.py" and edit.version_kind == "new"
    assert edit.diff.startswith("--- /dev/null\n+++ b/tests/test_calc.py\n")
    assert not (project / "tests").exists()  # nothing written to the user's tree before --apply

    # the module passes when re-run on its own, outside the swarm
    (project / "tests").mkdir()
    (project / "tests" / "test_calc.py").write_text(edit.new_text)
    rerun = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_calc.py"],
                           cwd=project, capture_output=True, text=True)
    assert rerun.returncode == 0 and "3 passed" in rerun.stdout, rerun.stdout


async def test_an_existing_test_module_is_merged_into_not_replaced(project):
    (project / "tests").mkdir()
    existing = "import os\n\n\ndef test_zero():\n    assert os.sep\n"
    (project / "tests" / "test_calc.py").write_text(existing)
    swarm, _ = make_swarm([SECOND], candidates=1)
    result = await swarm.run(make_request(project, mutants=0))
    [edit] = result.edits
    assert not edit.created and edit.version == (project / "tests" / "test_calc.py").stat().st_mtime_ns
    assert edit.new_text.startswith("import os\nfrom pkg.calc import classify\n")
    assert "def test_zero():\n    assert os.sep" in edit.new_text  # the user's test is untouched
    assert "def test_zero_2():" in edit.new_text and "def test_positive():" in edit.new_text
    assert result.evidence["mutation_score"] is None  # mutants = 0 turns it off
    assert result.evidence["complete"] is False  # the negative branch is still missing
    assert result.message.endswith("incomplete after every attempt: 2 kept test(s) run 83% of the lines and "
                                   "75% of the branches of classify")


async def test_a_reply_that_does_not_import_or_parse_is_fed_back(project):
    broken_import = "```python\nfrom pkg.nowhere import helper\n\ndef test_a():\n    assert helper()\n```"
    swarm, backend = make_swarm(["```python\ndef test_a(:\n```", broken_import, SECOND])
    result = await swarm.run(make_request(project, mutants=0, coverage_goal=0.5))
    gates = [[(g.name, g.passed) for g in attempt.gates] for attempt in result.attempts]
    assert gates[0] == [("parse", False)]
    assert gates[1] == [("parse", True), ("imports", False)]
    assert "No module named 'pkg.nowhere'" in backend.calls[2]["messages"][-1]["content"]
    assert result.status == "accepted" and result.evidence["complete"] is True  # 0.5 goal reached


async def test_misbehaving_tests_are_contained_dropped_and_reported(project, tmp_path):
    outside = tmp_path / "outside.txt"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    reply = textwrap.dedent(f'''\
        ```python
        import socket
        from pkg.calc import classify

        def test_negative():
            assert classify(-1) == "negative"

        def test_writes_into_the_users_tree():
            open({str(project / "pkg" / "calc.py")!r}, "w").write("broken")
            open({str(outside)!r}, "w").write("escaped")

        def test_forever():
            while True:
                pass

        def test_allocates():
            block = bytearray(4 * 1024 ** 3)
            assert block

        def test_socket():
            socket.create_connection(("127.0.0.1", {port}), timeout=2)
        ```
    ''')
    try:
        swarm, _ = make_swarm([reply], candidates=1)
        result = await swarm.run(make_request(project, mutants=0, test_timeout=2, test_memory_mb=512))
    finally:
        listener.close()
    reasons = {d["test"]: d["reason"] for d in result.evidence["tests_dropped"]}
    assert result.evidence["tests_kept"] == ["test_negative"]
    assert reasons["test_forever"] == "timed out"
    assert "MemoryError" in reasons["test_allocates"] or "memory" in reasons["test_allocates"]
    assert reasons["test_socket"].startswith(("failed", "error"))
    assert reasons["test_writes_into_the_users_tree"].startswith(("failed", "error"))
    assert (project / "pkg" / "calc.py").read_text() == CALC and not outside.exists()


def processes_running(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


async def test_cancelling_while_tests_run_stops_the_action_and_kills_pytest(project):
    marker = f"test_sleeps_{uuid.uuid4().hex}"
    reply = f"```python\nimport time\n\ndef {marker}():\n    time.sleep(600)\n```"
    swarm, _ = make_swarm([reply], candidates=1)
    cancel = CancelToken()
    task = asyncio.create_task(swarm.run(make_request(project, test_timeout=600), cancel=cancel))
    for _ in range(1200):  # hang guards throughout; the 10-minute test is what must not run on
        if processes_running(marker) or task.done():
            break
        await asyncio.sleep(0.1)
    assert processes_running(marker), "the sandboxed pytest never started"
    cancel.cancel()
    result = await asyncio.wait_for(task, timeout=120)
    assert result.status == "cancelled" and result.edits == []
    for _ in range(600):  # the sandboxed pytest, asleep for 10 minutes, was killed rather than left behind
        if not processes_running(marker):
            break
        await asyncio.sleep(0.1)
    assert processes_running(marker) == []


async def test_an_unknown_symbol_is_an_input_error(project):
    swarm, _ = make_swarm([])
    with pytest.raises(ActionInputError, match="nothing"):
        await swarm.run(make_request(project, "nothing"))


async def test_only_python_is_supported(project):
    (project / "calc.ts").write_text("export function f(a: number) { return a; }\n")
    request = ActionRequest("tests", read_snapshot(project / "calc.ts"), "f", workspace=str(project))
    with pytest.raises(ActionInputError, match="Python code only"):
        await make_swarm([])[0].run(request)


async def test_reviewers_may_keep_a_test_that_adds_no_coverage_as_a_distinct_behaviour(project):
    writer = ScriptedBackend("llamacpp:scripted", [FIRST, SECOND])
    verdict = {"observed": "checks classify", "claimed": "-", "reason": "", "confidence": 0.9}

    def review(messages):  # approve candidates and test_negative_again; turn down nothing else
        return {**verdict, "answer": "yes"}

    reviewer = ScriptedBackend("llamacpp:reviewer", review)
    settings = SwarmSettings(tiers=("llamacpp:scripted",), candidates=2, reviewers=3,
                             reviewer_tiers=("llamacpp:reviewer",))
    swarm = Swarm(settings, {"llamacpp:scripted": writer, "llamacpp:reviewer": reviewer}.__getitem__)
    result = await swarm.run(make_request(project, mutants=0))
    assert result.status == "accepted"
    assert result.evidence["tests_kept"] == ["test_negative", "test_negative_again", "test_zero", "test_positive"]
    assert "def test_negative_again():" in result.edits[0].new_text
    questions = [c for c in reviewer.calls if "runs no line or branch" in c["messages"][-1]["content"]]
    assert questions and "def test_negative_again" in questions[0]["messages"][-1]["content"]


async def test_a_failing_test_of_independent_checks_keeps_its_right_checks(project):
    reply = ("```python\nfrom pkg.calc import classify\n\ndef test_all():\n    assert classify(-1) == 'negative'\n"
             "    assert classify(0) == 'zero'\n    assert classify(5) == 'big'\n```")
    swarm, _ = make_swarm([reply], candidates=1)
    result = await swarm.run(make_request(project, mutants=0))
    evidence = result.evidence
    assert evidence["tests_kept"] == ["test_all_1", "test_all_2"] and evidence["tests_generated"] == 3
    [dropped] = evidence["tests_dropped"]
    assert dropped["test"] == "test_all_3" and "assert 'positive' == 'big'" in dropped["reason"]
    assert "def test_all_3" not in result.edits[0].new_text


async def test_an_incomplete_suite_escalates_and_the_next_tier_builds_on_it(project):
    small = ScriptedBackend("llamacpp:small", [FIRST])
    large = ScriptedBackend("llamacpp:large", [SECOND])
    settings = SwarmSettings(tiers=("llamacpp:small", "llamacpp:large"), candidates=1)
    swarm = Swarm(settings, {"llamacpp:small": small, "llamacpp:large": large}.__getitem__)
    result = await swarm.run(make_request(project, mutants=0))
    assert result.status == "accepted" and result.tier == "llamacpp:large" and result.evidence["complete"]
    assert result.evidence["tests_kept"] == ["test_negative", "test_zero", "test_positive"]
    assert "test_negative" in large.calls[0]["messages"][-1]["content"]  # the large tier saw what was kept


async def test_a_coroutine_target_is_tested_through_asyncio_run(project):
    (project / "pkg" / "calc.py").write_text(
        CALC + "\n\ndef traced(function):\n    return function\n\n\n@traced\nasync def double(x):\n    return 2 * x\n")
    reply = ("```python\nimport asyncio\nfrom pkg.calc import double\n\ndef test_double():\n"
             "    assert asyncio.run(double(2)) == 4\n```")
    swarm, backend = make_swarm([reply], candidates=1)
    result = await swarm.run(make_request(project, "double", mutants=0))
    assert "asyncio.run(...)" in backend.calls[0]["messages"][-1]["content"]
    assert result.status == "accepted" and result.evidence["complete"] is True


async def test_an_existing_test_module_that_does_not_parse_is_an_input_error_before_any_model_call(project):
    (project / "tests").mkdir()
    (project / "tests" / "test_calc.py").write_text("def test_x(:\n")
    swarm, backend = make_swarm([SECOND])
    with pytest.raises(ActionInputError, match="does not parse"):
        await swarm.run(make_request(project))
    assert backend.calls == []


FEE = textwrap.dedent('''\
    def fee(amount):
        if amount >= 100:
            return amount // 10
        return 5
''')
FEE_COVERED = "```python\nfrom pkg.calc import fee\n\ndef test_big():\n    assert fee(200) == 20\n\ndef test_small():\n    assert fee(50) == 5\n```"
FEE_AGAIN = "```python\nfrom pkg.calc import fee\n\ndef test_small_again():\n    assert fee(70) == 5\n```"
FEE_THRESHOLD = "```python\nfrom pkg.calc import fee\n\ndef test_threshold():\n    assert fee(100) == 10\n```"


async def test_surviving_mutants_go_back_to_the_writer_and_a_test_that_kills_one_is_kept(project):
    (project / "pkg" / "calc.py").write_text(FEE)
    swarm, backend = make_swarm([FEE_COVERED, FEE_AGAIN, FEE_THRESHOLD])
    result = await swarm.run(make_request(project, "fee"))
    assert result.status == "accepted", result.message
    evidence = result.evidence
    assert evidence["tests_kept"] == ["test_big", "test_small", "test_threshold"]  # no coverage gain, kills two
    dropped = {d["test"]: d["reason"] for d in evidence["tests_dropped"]}
    assert dropped["test_small_again"].startswith("adds no coverage")
    survivors = {"line 2: `>=` -> `>`", "line 2: `100` -> `101`"}
    assert set(evidence["mutants"]["killed_by_new_tests"]) == survivors
    total = evidence["mutants"]["total"]
    assert evidence["mutation_score_before"] == round((total - 2) / total, 4) and evidence["mutation_score"] == 1.0
    second_prompt = backend.calls[1]["messages"][-1]["content"]
    assert "leaves every kept test passing" in second_prompt
    assert "line 2: `>=` -> `>`: `if amount >= 100:` becomes `if amount > 100:`" in second_prompt


async def test_when_the_tiers_attempts_run_out_the_survivors_are_reported_and_no_other_tier_is_asked(project):
    (project / "pkg" / "calc.py").write_text(FEE)
    small = ScriptedBackend("llamacpp:small", [FEE_COVERED, FEE_AGAIN])
    large, cloud = ScriptedBackend("llamacpp:large", [FEE_THRESHOLD]), ScriptedBackend("anthropic:scripted", [FEE_THRESHOLD])
    backends = {"llamacpp:small": small, "llamacpp:large": large, "anthropic:scripted": cloud}
    swarm = Swarm(SwarmSettings(tiers=tuple(backends), candidates=2), backends.__getitem__)
    result = await swarm.run(make_request(project, "fee", differential_inputs=0))  # no pinning tests
    assert result.status == "accepted" and "2 mutant(s) still survive" in result.message
    assert large.calls == [] and cloud.calls == []  # escalation is for failure, not for surviving mutants
    assert set(result.evidence["mutants"]["survived"]) == {"line 2: `>=` -> `>`", "line 2: `100` -> `101`"}
    assert result.evidence["mutation_score"] == result.evidence["mutation_score_before"] < 1


async def test_what_the_writer_leaves_surviving_is_pinned_by_tests_that_state_the_originals_outcome(project):
    (project / "pkg" / "calc.py").write_text(FEE)
    swarm, backend = make_swarm([FEE_COVERED, FEE_AGAIN], candidates=2)
    result = await swarm.run(make_request(project, "fee"))
    assert result.status == "accepted" and result.message == "accepted from llamacpp:scripted", result.message
    evidence = result.evidence
    assert evidence["tests_kept"] == ["test_big", "test_small", "test_fee_pins_line_2"]  # one pin kills both
    assert set(evidence["mutants"]["killed_by_pinning_tests"]) == {"line 2: `>=` -> `>`", "line 2: `100` -> `101`"}
    assert evidence["mutants"]["survived"] == [] and evidence["mutation_score"] == 1.0
    assert evidence["mutation_score_before"] < 1 and evidence["run_times_s"]["pinning_s"] > 0
    [edit] = result.edits
    assert "def test_fee_pins_line_2():\n    # line 2: " in edit.new_text
    assert "    assert fee(100) == 10\n" in edit.new_text  # the boundary of `amount >= 100`, pinned
    assert (project / "tests" / "test_calc.py").exists() is False  # nothing written to the user's tree
