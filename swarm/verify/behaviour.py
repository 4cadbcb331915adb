"""Behaviour kept: the tests that exercise a target pass before a rewrite and after it.

"Exercise" is measured, not guessed: a test module that mentions the target's name (or else its
module's) is run in the sandbox on the original code under coverage of the target's lines, and its
passing tests count when the run covered at least one of them. After a rewrite, exactly those tests
must pass again.
"""

from __future__ import annotations

from pathlib import Path

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.codemods.pytest_module import scan_test_files
from swarm_lsp.swarm.verify.pytest_bench import TestBench

MAX_TEST_FILES = 20  # test modules mentioning the target that are run to find the exercising ones


def find_exercising_tests(bench: TestBench, name: str, cancel: CancelToken | None = None) -> dict[str, list[str]]:
    """{test file (workspace-relative): passing tests} for the modules whose tests run the target:
    those that mention its name, or else those that mention its module (a method the tests reach
    through a subclass, a function they call through `module.function`)."""
    workspace = bench.target.workspace
    by_name = _mentioning(workspace, name)
    exercising = _exercising(bench, by_name, cancel)
    if not exercising:
        module = bench.target.target_import.module.rsplit(".", 1)[-1]
        exercising = _exercising(bench, [p for p in _mentioning(workspace, module) if p not in by_name], cancel)
    return exercising


def _mentioning(workspace: Path, word: str) -> list[str]:
    found = []
    for path in scan_test_files(workspace):
        try:
            if word in path.read_text(encoding="utf-8"):
                found.append(path.relative_to(workspace).as_posix())
        except (OSError, UnicodeDecodeError):
            continue
    return found[:MAX_TEST_FILES]


def _exercising(bench: TestBench, test_files: list[str], cancel: CancelToken | None) -> dict[str, list[str]]:
    exercising: dict[str, list[str]] = {}
    for test_file in test_files:
        report = bench.run(test_file, [], cancel=cancel)
        passing = [test for test, state in report.tests.items() if state == "passed"]
        if report.executed_lines and passing:
            exercising[test_file] = passing
    return exercising


def failures_after(bench: TestBench, new_source: str, exercising: dict[str, list[str]],
                   cancel: CancelToken | None = None) -> list[str]:
    """Run the exercising tests against `new_source`; the failures (empty: behaviour kept)."""
    target = bench.target
    bench.write(target.source_path, new_source)
    failures = []
    try:
        for test_file, tests in exercising.items():
            report = bench.run(test_file, tests, measure=False, cancel=cancel)
            for test in tests:
                if report.tests.get(test) != "passed":
                    reason = report.failures.get(test) or (report.errors[0] if report.errors else "did not pass")
                    failures.append(f"{test_file}::{test} {report.tests.get(test, 'error')}: {reason[:300]}")
    finally:
        bench.write(target.source_path, target.source_text)
    return failures
