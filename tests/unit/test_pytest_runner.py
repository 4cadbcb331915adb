"""Sandboxed pytest runs: outcomes, failure messages, target coverage, flakiness (issue 6)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from swarm_lsp.swarm.verify.pytest_runner import TestRunReport, run_tests_in_sandbox
from swarm_lsp.swarm.verify.sandbox import Sandbox
from swarm_lsp.swarm.verify.pytest_bench import project_python

CALC = textwrap.dedent(
    """\
    OFFSET = 0


    def sign(x):
        if x >= 0:
            label = "non-negative"
        else:
            label = "negative"
        return label


    def unrelated():
        return 42
    """
)
SIGN_LINES = (4, 9)

TESTS = textwrap.dedent(
    """\
    from calc import sign


    def test_positive():
        assert sign(3) == "non-negative"


    def test_wrong():
        assert sign(1) == "positive"


    def test_negative():
        assert sign(-2) == "negative"
    """
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "tests").mkdir(parents=True)
    (ws / "calc.py").write_text(CALC)
    (ws / "tests" / "test_calc.py").write_text(TESTS)
    return ws


def run(sandbox: Sandbox, names: list[str] | None, test_file: str = "tests/test_calc.py",
        **kwargs) -> TestRunReport:
    kwargs.setdefault("timeout_s", 20)
    return run_tests_in_sandbox(
        sandbox, test_file, names, target_file="calc.py", target_lines=SIGN_LINES, **kwargs
    )


def test_outcomes_failure_message_and_full_coverage(workspace: Path) -> None:
    with Sandbox(workspace) as sandbox:
        everything = run(sandbox, None)
        passing = run(sandbox, ["test_positive", "test_negative"])
    assert everything.tests == {
        "test_positive": "passed", "test_wrong": "failed", "test_negative": "passed"
    }
    assert set(everything.failures) == {"test_wrong"}
    assert 'assert sign(1) == "positive"' in everything.failures["test_wrong"] or (
        "'non-negative' == 'positive'" in everything.failures["test_wrong"]
    )
    assert everything.errors == [] and everything.flaky == [] and not everything.timed_out
    assert passing.tests == {"test_positive": "passed", "test_negative": "passed"}
    assert passing.line_coverage == 1.0 and passing.branch_coverage == 1.0
    assert passing.missing_lines == [] and passing.missing_branches == []
    assert passing.duration_s > 0


def test_one_test_gives_partial_coverage_with_what_is_missing(workspace: Path) -> None:
    with Sandbox(workspace) as sandbox:
        report = run(sandbox, ["test_positive"])
    assert report.tests == {"test_positive": "passed"}
    assert report.missing_lines == [8]  # the else body; unrelated() is outside the range
    assert report.missing_branches == [(5, 8)]
    assert report.line_coverage == pytest.approx(4 / 5)
    assert report.branch_coverage == pytest.approx(1 / 2)


def test_flaky_test_is_detected_across_repeats(workspace: Path) -> None:
    (workspace / "tests" / "test_flaky.py").write_text(textwrap.dedent(
        """\
        import os
        from pathlib import Path

        from calc import sign


        def test_alternates():
            counter = Path(os.environ["TMPDIR"]) / "counter"
            count = int(counter.read_text()) if counter.exists() else 0
            counter.write_text(str(count + 1))
            assert count % 2 == 0, f"odd run {count}"


        def test_stable():
            assert sign(0) == "non-negative"
        """
    ))
    with Sandbox(workspace) as sandbox:
        report = run(sandbox, None, "tests/test_flaky.py", repeats=3)
    assert report.flaky == ["test_alternates"]
    assert report.tests == {"test_alternates": "passed", "test_stable": "passed"}
    assert "odd run 1" in report.failures["test_alternates"]


def test_collection_error_is_reported_not_raised(workspace: Path) -> None:
    (workspace / "tests" / "test_broken.py").write_text("def test_x(:\n    pass\n")
    with Sandbox(workspace) as sandbox:
        report = run(sandbox, ["test_x"], "tests/test_broken.py")
        unnamed = run(sandbox, None, "tests/test_broken.py")
    assert report.tests == {"test_x": "error"}
    assert "SyntaxError" in report.failures["test_x"] or "syntax" in report.failures["test_x"]
    assert report.errors and unnamed.errors and unnamed.tests == {}
    assert "test_broken" in unnamed.errors[0]
    assert report.line_coverage == 0.0 and report.missing_lines == [4, 5, 6, 8, 9]


def test_a_test_that_never_ends_is_cut_at_the_timeout(workspace: Path) -> None:
    (workspace / "tests" / "test_hang.py").write_text(
        "import time\n\n\ndef test_forever():\n    while True:\n        time.sleep(1)\n"
    )
    with Sandbox(workspace) as sandbox:
        report = run(sandbox, ["test_forever"], "tests/test_hang.py", timeout_s=3, repeats=3)
    assert report.timed_out
    assert report.tests == {"test_forever": "error"}
    assert "timed out" in report.failures["test_forever"]
    assert report.duration_s < 10  # no repeat after a timeout


def test_executed_lines_and_taken_branches_are_reported(workspace: Path) -> None:
    with Sandbox(workspace) as sandbox:
        report = run(sandbox, ["test_positive"])
    assert report.executed_lines == [4, 5, 6, 9]
    assert report.taken_branches == [(5, 6)]


def test_parametrized_cases_fold_into_the_selected_name(workspace: Path) -> None:
    (workspace / "tests" / "test_params.py").write_text(textwrap.dedent(
        """\
        import pytest
        from calc import sign


        @pytest.mark.parametrize("x", [1, 2, -1])
        def test_many(x):
            assert sign(x) == "non-negative"


        @pytest.mark.parametrize("x", [1, 2])
        def test_all_good(x):
            assert sign(x) == "non-negative"
        """
    ))
    with Sandbox(workspace) as sandbox:
        report = run(sandbox, ["test_many", "test_all_good"], test_file="tests/test_params.py")
    assert report.tests == {"test_many": "failed", "test_all_good": "passed"}
    assert "negative" in report.failures["test_many"]


def test_without_measuring_there_is_no_coverage_and_x_stops_at_the_first_failure(workspace: Path) -> None:
    with Sandbox(workspace) as sandbox:
        report = run(sandbox, ["test_wrong", "test_negative"], measure=False, stop_on_failure=True)
    assert report.tests["test_wrong"] == "failed"
    assert report.tests["test_negative"] == "error"  # never run after -x stopped the session
    assert report.executed_lines == [] and report.line_coverage == 0.0


def test_a_project_virtualenv_with_pytest_and_coverage_is_used(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    (tmp_path / ".venv" / "bin" / "python").chmod(0o755)
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    assert project_python(tmp_path) == str(tmp_path / ".venv" / "bin" / "python")
    bare = tmp_path / "bare"
    (bare / ".venv" / "bin").mkdir(parents=True)
    (bare / ".venv" / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    (bare / ".venv" / "bin" / "python").chmod(0o755)
    assert project_python(bare) is None  # no pytest/coverage there: swarm-lsp's own interpreter
