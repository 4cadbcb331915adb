"""The tests action's survivor loop (MuTAP, issue 16 step 4): once the kept tests reach the coverage
goal, they are scored against mutants of the target; the mutants no test notices are shown to the
writer ("this change to line N survives your tests: write a test that fails on it"), and a new
test that adds no coverage is kept when it fails on a surviving mutant. The score is reported
before the loop and after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.verify.mutation import Mutant, MutationReport, generate_mutants, mutation_score
from swarm_lsp.swarm.verify.pytest_bench import SuiteState, TestBench
from swarm_lsp.swarm.verify.pytest_gates import merged_module

if TYPE_CHECKING:
    from swarm_lsp.swarm.actions.tests_target import TestTarget

SHOWN_SURVIVORS = 5  # mutants shown to the writer at a time
MIN_MUTANT_TIMEOUT_S = 2.0


@dataclass
class SurvivorState:
    """Where the loop stands: the score when the coverage goal was reached, the mutants still alive."""

    before: MutationReport
    survivors: list[Mutant]
    killed_by_new_tests: list[str] = field(default_factory=list)  # mutant descriptions
    killed_by_pinning_tests: list[str] = field(default_factory=list)  # tests_pinning.py's

    def after(self) -> MutationReport:
        report = MutationReport(total=self.before.total, killed=self.before.total - len(self.survivors),
                                survived=[m.description for m in self.survivors], skipped=self.before.skipped,
                                duration_s=self.before.duration_s)
        return report

    def prompt(self, target_text: str) -> list[str]:
        """What the writer is told about the surviving mutants, a few at a time."""
        lines = []
        for mutant in self.survivors[:SHOWN_SURVIVORS]:
            original = _line(target_text, mutant.line)
            changed = _line(mutant.source, mutant.line)
            lines.append(f"{mutant.description}: `{original}` becomes `{changed}`")
        return lines


def _line(text: str, number: int) -> str:
    lines = text.splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else ""


class SurvivorLoop:
    """Runs mutants against a suite in the job's sandbox and judges new tests against survivors."""

    def __init__(self, bench: TestBench, target: "TestTarget", limit: int) -> None:
        self.bench, self.target, self.limit = bench, target, limit
        self.timeout_s = MIN_MUTANT_TIMEOUT_S

    def score(self, suite: SuiteState, cancel: CancelToken | None) -> SurvivorState:
        """The suite's mutation score, keeping the surviving mutants themselves."""
        target = self.target
        mutants = generate_mutants(target.source_text, target.first_line, target.last_line)
        self.bench.write(target.test_path, merged_module(target.test_text, suite.module_text))
        survivors: list[Mutant] = []
        try:
            baseline = self.bench.run(target.test_path, suite.tests, measure=False, cancel=cancel)
            self.timeout_s = max(MIN_MUTANT_TIMEOUT_S, 3 * baseline.duration_s)

            def survives(mutant: Mutant) -> bool:
                self.bench.write(target.source_path, mutant.source)
                report = self.bench.run(target.test_path, suite.tests, measure=False, stop_on_failure=True,
                                        timeout_s=self.timeout_s, cancel=cancel)
                alive = not report.timed_out and all(report.tests.get(t) == "passed" for t in suite.tests)
                if alive:
                    survivors.append(mutant)
                return alive

            report = mutation_score(mutants, self.limit, survives, cancel)
        finally:
            self.bench.write(target.source_path, target.source_text)
            self.bench.write(target.test_path, target.test_text)
        return SurvivorState(report, survivors)

    def kills(self, scratch: str, test: str, alive: list[Mutant], cancel: CancelToken | None) -> list[Mutant]:
        """The mutants in `alive` on which `test` (in the scratch module) fails or hangs."""
        killed = []
        try:
            for mutant in alive:
                self.bench.write(self.target.source_path, mutant.source)
                report = self.bench.run(scratch, [test], measure=False, timeout_s=self.timeout_s, cancel=cancel)
                if report.timed_out or report.tests.get(test) != "passed":
                    killed.append(mutant)
        finally:
            self.bench.write(self.target.source_path, self.target.source_text)
        return killed
