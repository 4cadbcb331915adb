"""The gates a generated test passes before it is kept, cheap to expensive (issue 6, item 3).

Per candidate module: it parses (done by `parse_candidate`); its imports resolve; each test run on
its own passes; the passing ones pass three more times together (else flaky); each kept test adds
line or branch coverage of the target to what is already kept (TestGen-LLM's filter; tests that
add none are `pending` — reviewers may keep them as a distinct behaviour); the whole suite, old
and new tests in one module, passes. A gate failure drops a test with its reason; the candidate's
gates fail only when none of its tests survives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.codemods.pytest_candidate import Candidate
from swarm_lsp.swarm.codemods.pytest_module import merge_test_modules
from swarm_lsp.swarm.types import GateResult
from swarm_lsp.swarm.verify.pytest_runner import TestRunReport
from swarm_lsp.swarm.verify.pytest_bench import SuiteState, TestBench

FLAKE_REPEATS = 3
REASON_MAX_CHARS = 400


@dataclass
class CandidateOutcome:
    gates: list[GateResult]
    kept: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # pass, stable, but add no coverage
    dropped: dict[str, str] = field(default_factory=dict)  # test id -> reason
    proposed: SuiteState | None = None  # the suite with `kept` added
    with_pending: SuiteState | None = None  # ... and with `pending` too, when reviewers keep them
    timings: dict[str, float] = field(default_factory=dict)


def judge_candidate(bench: TestBench, candidate: Candidate, suite: SuiteState,
                    cancel: CancelToken | None = None,
                    kills: Callable[[str, str], bool] | None = None) -> CandidateOutcome:
    """`kills(scratch_file, test)`: whether a test that adds no coverage fails on a mutant the kept
    tests let survive (the survivor loop); such a test is kept too."""
    outcome = CandidateOutcome(gates=[GateResult("parse", True)])
    scratch = bench.scratch_file(candidate.code)
    started = time.perf_counter()
    alone: dict[str, TestRunReport] = {}
    for index, test in enumerate(candidate.tests):
        report = bench.run(scratch, [test], cancel=cancel)
        if index == 0 and _collection_failed(report):
            outcome.gates.append(GateResult("imports", False, [f"the test module does not import: {report.errors[0]}"]))
            outcome.dropped = {t: "the test module does not import" for t in candidate.tests}
            return outcome
        alone[test] = report
    outcome.gates.append(GateResult("imports", True))
    scratch = _split_failures(bench, candidate, alone, suite, cancel) or scratch
    outcome.timings["single_runs_s"] = round(time.perf_counter() - started, 3)

    passing = [t for t in candidate.tests if _passes(alone[t], t, outcome.dropped)]
    outcome.gates.append(_gate("pass", passing, outcome.dropped, "no test passed on its own"))
    if not passing:
        return outcome

    started = time.perf_counter()
    stable = _stable(bench.run(scratch, passing, repeats=FLAKE_REPEATS, measure=False, cancel=cancel),
                     passing, outcome.dropped)
    outcome.timings["flake_runs_s"] = round(time.perf_counter() - started, 3)
    outcome.gates.append(_gate("stable", stable, outcome.dropped, "every passing test was flaky"))
    if not stable:
        return outcome

    lines, branches = set(suite.lines), set(suite.branches)
    for test in stable:
        report = alone[test]
        new_lines = set(report.executed_lines) - lines
        new_branches = {(start, end) for start, end in report.taken_branches} - branches
        if new_lines or new_branches:
            outcome.kept.append(test)
            lines |= new_lines
            branches |= new_branches
        elif kills is not None and kills(scratch, test):
            outcome.kept.append(test)
        else:
            outcome.pending.append(test)
    if not outcome.kept:
        outcome.gates.append(GateResult("coverage_gain", False, [
            "none of the passing tests runs a line or branch of the target that the kept tests do not already run"
            + (", or fails on a change to the code that the kept tests let pass" if kills is not None else "")
        ]))
        outcome.dropped.update({t: "adds no coverage" for t in outcome.pending})
        return outcome
    outcome.gates.append(GateResult("coverage_gain", True))

    started = time.perf_counter()
    outcome.proposed = _whole_module(bench, candidate, suite, outcome.kept, outcome, cancel)
    survivors = [t for t in outcome.kept if t not in outcome.dropped]
    if outcome.proposed is None and survivors and all(t not in outcome.dropped for t in suite.tests):
        outcome.kept = survivors  # drop the ones that broke the module, try the rest once more
        outcome.proposed = _whole_module(bench, candidate, suite, outcome.kept, outcome, cancel)
    if outcome.proposed is not None and outcome.pending:
        outcome.with_pending = _whole_module(bench, candidate, suite, outcome.kept + outcome.pending,
                                             CandidateOutcome(gates=[]), cancel)
    outcome.timings["module_run_s"] = round(time.perf_counter() - started, 3)
    if outcome.proposed is None:
        outcome.gates.append(GateResult("module", False, [
            "the new tests pass alone but fail when the whole test module runs: "
            + "; ".join(f"{t}: {reason}" for t, reason in outcome.dropped.items() if reason.startswith("fails in"))
        ]))
        outcome.kept = []
        return outcome
    outcome.gates.append(GateResult("module", True))
    return outcome


def _split_failures(bench: TestBench, candidate: Candidate, alone: dict[str, TestRunReport],
                    suite: SuiteState, cancel: CancelToken | None) -> str | None:
    """A failing test made of independent checks becomes one test per check, each run alone, so
    the right expectations survive a wrong one (small models write many asserts per test).
    Returns the scratch file holding the split module, None when nothing was split."""
    taken = set(suite.tests) | set(candidate.tests)
    failing = [test for test in candidate.tests
               if alone[test].tests.get(test) in ("failed", "error") and not alone[test].timed_out]
    parts = [part for test in failing for part in candidate.split(test, taken)]
    if not parts:
        return None
    scratch = bench.scratch_file(candidate.code)
    for part in parts:
        alone[part] = bench.run(scratch, [part], cancel=cancel)
    return scratch


def merged_module(existing: str, suite_text: str) -> str:
    """The test file the user gets: their module (if any) with the generated suite merged in."""
    return merge_test_modules(existing, suite_text).text if suite_text else existing


def _whole_module(bench: TestBench, candidate: Candidate, suite: SuiteState, new: list[str],
                  outcome: CandidateOutcome, cancel: CancelToken | None) -> SuiteState | None:
    """Merge `new` into the suite, run the merged test file as the user will, and measure it."""
    suite_text = merge_test_modules(suite.module_text, candidate.select(new)).text
    bench.write(bench.target.test_path, merged_module(bench.target.test_text, suite_text))
    tests = suite.tests + new
    report = bench.run(bench.target.test_path, tests, cancel=cancel)
    failing = [t for t in tests if report.tests.get(t) != "passed"]
    for test in failing:
        outcome.dropped[test] = "fails in the whole module: " + _reason(report, test)
    bench.write(bench.target.test_path, bench.target.test_text)  # the next candidate starts clean
    if failing:
        return None
    return SuiteState(
        module_text=suite_text, tests=tests, lines=set(report.executed_lines),
        branches={(start, end) for start, end in report.taken_branches}, line_coverage=report.line_coverage,
        branch_coverage=report.branch_coverage, missing_lines=report.missing_lines,
        missing_branches=[(start, end) for start, end in report.missing_branches],
    )


def _collection_failed(report: TestRunReport) -> bool:
    return any(error.startswith("collection error") for error in report.errors) or (
        bool(report.errors) and all(state == "error" for state in report.tests.values())
        and not report.timed_out
    )


def _passes(report: TestRunReport, test: str, dropped: dict[str, str]) -> bool:
    state = report.tests.get(test, "error")
    if state == "passed":
        return True
    if report.timed_out:
        dropped[test] = "timed out"
    elif state == "skipped":
        dropped[test] = "skipped: a kept test must run"
    else:
        dropped[test] = f"{state}: {_reason(report, test)}"
    return False


def _stable(report: TestRunReport, passing: list[str], dropped: dict[str, str]) -> list[str]:
    stable = []
    for test in passing:
        if test in report.flaky:
            dropped[test] = f"flaky: its outcome changed over {FLAKE_REPEATS} runs"
        elif report.tests.get(test) != "passed":
            dropped[test] = "fails when run with the other new tests: " + _reason(report, test)
        else:
            stable.append(test)
    return stable


def _reason(report: TestRunReport, test: str) -> str:
    text = report.failures.get(test) or (report.errors[0] if report.errors else "no failure message")
    return text[:REASON_MAX_CHARS]


def _gate(name: str, survivors: list[str], dropped: dict[str, str], summary: str) -> GateResult:
    if survivors:
        return GateResult(name, True)
    return GateResult(name, False, [summary] + [f"{test}: {reason}" for test, reason in dropped.items()])
