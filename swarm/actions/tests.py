"""The tests action: a pytest module for one Python symbol, every kept test run, passing and
earning its place by coverage (issue 6).

Each writer reply goes through `parse_candidate` (repairs imports, refuses copies of the target)
and `judge_candidate` (imports, each test alone, flakiness, coverage gain, the whole module) in a
sandbox copy of the workspace. Kept tests accumulate across candidates and tiers: the job is
`complete` when the kept tests reach the coverage goal; until then the writer is shown what is
still uncovered. Once they reach it, they are scored against mutants of the target and the
survivors are shown to the writer until new tests kill them or the attempts run out (MuTAP's loop,
tests_mutants.py); without reaching it, the accepted module is scored at the end.
"""

from __future__ import annotations

import ast
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from swarm_lsp.swarm.actions.base import Action, ActionInputError, ActionJob, Evaluation
from swarm_lsp.swarm.actions.tests_mutants import SurvivorLoop, SurvivorState
from swarm_lsp.swarm.actions.tests_pinning import MutantPinner
from swarm_lsp.swarm.actions.tests_prompt import REVIEW_FOCUSES, review_material_for_test, writer_messages
from swarm_lsp.swarm.actions.tests_target import TestTarget, resolve_test_target
from swarm_lsp.swarm.backends.base import Message, Reply
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.codemods.pytest_candidate import Candidate, CandidateError, extract_code, parse_candidate
from swarm_lsp.swarm.codemods.pytest_module import merge_test_modules
from swarm_lsp.swarm.settings import ActionOptions
from swarm_lsp.swarm.types import ActionRequest, GateResult
from swarm_lsp.swarm.verify.differential import DifferentialLimits
from swarm_lsp.swarm.verify.sandbox import network_isolation
from swarm_lsp.swarm.verify.mutation import Mutant, MutationReport
from swarm_lsp.swarm.verify.pytest_bench import BenchError, BenchLimits, SuiteState, TestBench
from swarm_lsp.swarm.verify.pytest_gates import CandidateOutcome, judge_candidate, merged_module

log = logging.getLogger(__name__)

MAX_TOKENS = 1024  # a handful of short tests; the writer stops at the closing fence anyway
PIN_SECONDS = 10.0  # per surviving mutant: the side-by-side run that looks for an input to pin


class TestsAction(Action):
    __test__ = False
    kind = "tests"
    languages = ("python",)

    def prepare(self, request: ActionRequest) -> "TestsJob":
        return TestsJob(resolve_test_target(request), request.options)


@dataclass
class _Proposal:
    candidate: Candidate
    outcome: CandidateOutcome
    suite: SuiteState
    survivors: SurvivorState | None = None  # the survivor loop's state with this candidate's tests


@dataclass
class TestsJob(ActionJob):
    __test__ = False

    target: TestTarget
    settings: ActionOptions  # coverage_goal, test_timeout, test_memory_mb, mutants
    schema: dict[str, Any] | None = None
    stop: list[str] = field(default_factory=lambda: ["\n```\n"])
    max_tokens: int = MAX_TOKENS
    review_focuses: list[str] = field(default_factory=lambda: list(REVIEW_FOCUSES))

    def __post_init__(self) -> None:
        self.target_label = self.target.symbol.qualname
        self.bench = TestBench(self.target, BenchLimits(self.settings.test_timeout, self.settings.test_memory_mb))
        self.suite = SuiteState()
        self.generated = 0
        self.candidates = 0
        self.dropped: list[dict[str, Any]] = []
        self.fixes: list[str] = []
        self.timings: dict[str, float] = {}
        self.mutation: MutationReport | None = None
        self.survivor_loop = SurvivorLoop(self.bench, self.target, self.settings.mutants)
        self.survivor_state: SurvivorState | None = None
        self.pinner = MutantPinner(self.bench, self.target, self.survivor_loop, DifferentialLimits(
            self.settings.differential_inputs, min(self.settings.differential_seconds, PIN_SECONDS)))
        self.not_pinned = ""
        self.network_isolated: bool | None = None
        try:  # read once, here: a broken test module is an input error before any model call
            tree = ast.parse(self.target.test_text or "")
        except SyntaxError:
            raise ActionInputError(f"the existing test module {self.target.test_path} does not parse") from None
        self.existing_names = {node.name for node in tree.body
                               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}

    # ---- writer ------------------------------------------------------------------------------

    def messages(self, feedback: list[str]) -> list[Message]:
        state = self.survivor_state
        survivors = state.prompt(self.target.source_text) if state is not None else []
        return writer_messages(self.target, self.suite, feedback, survivors)

    def wants_tier(self, cloud: bool) -> bool:
        """Surviving mutants alone never send the job to another tier: once the kept tests reach the
        goal, the survivor loop has the rest of that tier's attempts (escalation is for failure)."""
        return not self.suite.covers(self.settings.coverage_goal)

    def review_material(self, evaluation: Evaluation) -> str:
        proposal: _Proposal = evaluation.state
        return "\n".join([
            f"Tests for `{self.target.symbol.qualname}` in {self.target.source_path}:",
            "```python", self.target.source(), "```",
            "The new tests below were run in a sandbox: each passes alone, three times together, and in the "
            f"whole module; together with the kept ones they run {proposal.suite.line_coverage:.0%} of the "
            f"lines and {proposal.suite.branch_coverage:.0%} of the branches.",
            "```python", evaluation.output.strip(), "```",
            "Judge whether the assertions check behaviour a user of the code relies on.",
        ])

    # ---- gates -------------------------------------------------------------------------------

    def _taken_names(self) -> set[str]:
        return self.existing_names | set(self.suite.tests) | {t.split("::")[0] for t in self.suite.tests}

    def evaluate(self, reply: Reply, cancel: CancelToken | None = None) -> Evaluation:
        self.candidates += 1
        try:
            candidate = parse_candidate(reply.text, self.target.target_import, self._taken_names())
        except CandidateError as exc:
            reason = str(exc)
            if reply.finish_reason == "length":
                reason += " (the reply was cut off at the token limit: write fewer, shorter tests)"
            return Evaluation([GateResult("parse", False, [reason])], output=extract_code(reply.text))
        self.fixes.extend(fix for fix in candidate.fixes if fix not in self.fixes)
        alive = list(self.survivor_state.survivors) if self.survivor_state is not None else []
        killed_by: dict[str, list[Mutant]] = {}

        def kills(scratch: str, test: str) -> bool:
            killed_by[test] = self.survivor_loop.kills(scratch, test, alive, cancel)
            for mutant in killed_by[test]:
                alive.remove(mutant)
            return bool(killed_by[test])

        try:
            outcome = judge_candidate(self.bench, candidate, self.suite, cancel, kills if alive else None)
        except BenchError as exc:
            return Evaluation([GateResult("sandbox", False, [str(exc)])], output=candidate.code)
        finally:  # counted after the gates split a failing test of independent checks into one per check
            self.generated += len(candidate.tests)
        self.network_isolated = network_isolation()
        for name, seconds in outcome.timings.items():
            self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 3)
        notes = [f"{test} was dropped: {reason}" for test, reason in outcome.dropped.items()]
        evaluation = Evaluation(outcome.gates, output=candidate.select(outcome.kept or candidate.tests), notes=notes)
        if outcome.proposed is None:
            self._record_drops(outcome.dropped)
            return evaluation
        evaluation.state = proposal = _Proposal(candidate, outcome, outcome.proposed)
        if self.survivor_state is not None:
            alive += [m for test, killed in killed_by.items() if test not in outcome.kept for m in killed]
            new_kills = [m.description for test in outcome.kept for m in killed_by.get(test, [])]
            proposal.survivors = SurvivorState(self.survivor_state.before, alive,
                                               self.survivor_state.killed_by_new_tests + new_kills)
        elif self.settings.mutants > 0 and outcome.proposed.covers(self.settings.coverage_goal):
            proposal.survivors = self.survivor_loop.score(outcome.proposed, cancel)
        evaluation.questions = {
            test: review_material_for_test(self.target, outcome.proposed, candidate.select([test]))
            for test in outcome.pending
        }
        return self._finish(evaluation)

    def _finish(self, evaluation: Evaluation) -> Evaluation:
        proposal: _Proposal = evaluation.state
        suite = proposal.suite
        evaluation.new_text = merged_module(self.target.test_text, suite.module_text)
        evaluation.path = str(self.target.workspace / self.target.test_path)
        evaluation.original_text = self.target.test_text
        evaluation.version = self.target.test_version
        alive = proposal.survivors.survivors if proposal.survivors is not None else []
        evaluation.complete = suite.covers(self.settings.coverage_goal) and not alive
        evaluation.summary = (
            f"{len(suite.tests)} kept test(s) run {suite.line_coverage:.0%} of the lines and "
            f"{suite.branch_coverage:.0%} of the branches of {self.target.symbol.qualname}"
            + (f"; {len(alive)} mutant(s) still survive them" if alive else "")
        )
        return evaluation

    def settle(self, evaluation: Evaluation, kept: list[str] | None) -> Evaluation:
        """Keep the no-gain tests the reviewers judged a distinct behaviour; drop the rest."""
        proposal: _Proposal = evaluation.state
        outcome = proposal.outcome
        chosen = [test for test in outcome.pending if test in (kept or [])]  # no reviewers: none
        if chosen and outcome.with_pending is not None:
            selected = proposal.candidate.select(outcome.kept + chosen)
            suite_text = merge_test_modules(self.suite.module_text, selected).text
            base = outcome.proposed if outcome.proposed is not None else self.suite  # no test added coverage
            proposal.suite = SuiteState(**{**base.__dict__, "module_text": suite_text,
                                           "tests": base.tests + chosen})
            outcome.kept = outcome.kept + chosen
        for test in outcome.pending:
            if test not in chosen:
                outcome.dropped[test] = "adds no coverage, and no reviewer kept it as a distinct behaviour"
                evaluation.notes.append(f"{test} was dropped: it runs no line or branch the kept tests do not")
        evaluation.questions = {}
        return self._finish(evaluation)

    def commit(self, evaluation: Evaluation) -> None:
        proposal: _Proposal = evaluation.state
        self._record_drops(proposal.outcome.dropped)
        self.suite = proposal.suite
        if proposal.survivors is not None:
            self.survivor_state = proposal.survivors

    def _record_drops(self, dropped: dict[str, str]) -> None:
        self.dropped.extend({"test": test, "candidate": self.candidates, "reason": reason}
                            for test, reason in dropped.items())

    # ---- after acceptance --------------------------------------------------------------------

    def finalize(self, accepted: Evaluation | None, cancel: CancelToken) -> bool:
        """Score the kept tests against mutants (once the goal was reached they were scored then, and
        the survivors tracked since), then pin what the survivors change (tests_pinning.py); True when
        pinning tests were added to the accepted module."""
        if accepted is None or self.settings.mutants <= 0 or not self.suite.tests:
            return False
        state = self.survivor_state or self.survivor_loop.score(self.suite, cancel)
        self.timings["mutation_s"] = state.before.duration_s
        added = False
        if state.survivors and self.settings.differential_inputs > 0:
            started = time.monotonic()
            pinned = self.pinner.pin(self.suite, state.survivors, self._taken_names(), cancel)
            self.timings["pinning_s"] = round(time.monotonic() - started, 3)
            self.not_pinned = pinned.not_pinned
            if pinned.tests:
                self.suite, added = pinned.suite, True
                state = SurvivorState(state.before, pinned.alive, state.killed_by_new_tests, pinned.killed)
                proposal: _Proposal = accepted.state
                proposal.suite, proposal.survivors = self.suite, state
                self._finish(accepted)  # the module, its summary and completeness with the pins
        self.survivor_state = state
        self.mutation = state.after()
        return added

    def evidence(self, accepted: Evaluation | None) -> dict[str, Any]:
        suite = self.suite
        evidence: dict[str, Any] = {
            "test_file": self.target.test_path,
            "test_file_exists": self.target.test_exists,
            "import": self.target.target_import.statement,
            "tests_generated": self.generated,
            "tests_kept": list(suite.tests),
            "tests_dropped": self.dropped,
            "line_coverage": round(suite.line_coverage, 4),
            "branch_coverage": round(suite.branch_coverage, 4),
            "missing_lines": suite.missing_lines,
            "missing_branches": [list(b) for b in suite.missing_branches],
            "coverage_goal": self.settings.coverage_goal,
            "complete": suite.covers(self.settings.coverage_goal),
            "mutation_score": None,
            "run_times_s": dict(self.timings),
            "repairs": list(self.fixes),
            "network_isolated": self.network_isolated,
            "python": self.bench.python,
        }
        if self.mutation is not None:
            evidence["mutation_score"] = None if self.mutation.score is None else round(self.mutation.score, 4)
            evidence["mutants"] = {"total": self.mutation.total, "killed": self.mutation.killed,
                                   "survived": self.mutation.survived, "not_run": self.mutation.skipped}
        state = self.survivor_state
        if state is not None:  # the survivor loop ran: the score when the goal was reached, and what it added
            evidence["mutation_score_before"] = None if state.before.score is None else round(state.before.score, 4)
            evidence["mutants"]["killed_by_new_tests"] = list(state.killed_by_new_tests)
            evidence["mutants"]["killed_by_pinning_tests"] = list(state.killed_by_pinning_tests)
            if self.not_pinned:
                evidence["mutants"]["not_pinned"] = self.not_pinned
        return evidence

    def close(self) -> None:
        self.bench.close()
