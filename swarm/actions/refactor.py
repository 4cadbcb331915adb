"""The refactor action: one Python symbol rewritten per an instruction or preset, behaviour kept.

Gates, cheap to expensive: the reply defines the target and the file parses; the public signature
is unchanged (unless the instruction asks for a new one); nothing outside the target changes but
added helpers and imports; the code really changed; when the refactor is aimed at an audit finding
(`fixes`, the editor's quick fix), the finding is gone from the target and its helpers
(`audit.recheck`); the tests that exercise the target (measured in the sandbox) pass after the
rewrite as they did before (with no such tests, the tests action runs first and its
characterization tests must pass before and after); and the original and the rewrite, run side by
side on the calls those tests make, boundary variations of them and values drawn by hypothesis,
agree on every one (`verify.differential`: a divergence rejects the candidate and the smallest one
is fed back). Cyclomatic complexity (radon) is reported before and after.
"""

from __future__ import annotations

import ast
import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from radon.complexity import cc_visit

from swarm_lsp.swarm.actions.base import Action, ActionInputError, ActionJob, Evaluation
from swarm_lsp.swarm.actions.refactor_prompt import PRESETS, REVIEW_FOCUSES, SIGNATURE_WORDS, review_material, writer_messages
from swarm_lsp.swarm.actions.tests_target import TestTarget, resolve_test_target
from swarm_lsp.swarm.backends.base import Message, Reply
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.codemods.replace_definition import (
    ReplacementError, changes_outside, replace_definition, signature_changes,
)
from swarm_lsp.swarm.codemods.pytest_candidate import extract_code
from swarm_lsp.swarm.audit.recheck import FindingToFix, still_present
from swarm_lsp.swarm.settings import ActionOptions
from swarm_lsp.swarm.types import ActionRequest, ActionResult, DocumentSnapshot, GateResult
from swarm_lsp.swarm.verify.behaviour import failures_after, find_exercising_tests
from swarm_lsp.swarm.verify.differential import DifferentialCheck, DifferentialLimits, DifferentialReport
from swarm_lsp.swarm.verify.pytest_bench import BenchLimits, TestBench

log = logging.getLogger(__name__)

MAX_TOKENS = 1024


class RefactorAction(Action):
    kind = "refactor"
    languages = ("python",)
    option_keys = ("instruction", "preset", "fixes")
    variants = tuple((preset, {"preset": preset}) for preset in PRESETS)  # offered as editor code actions

    def prepare(self, request: ActionRequest) -> "RefactorJob":
        options = request.options
        instruction = (options.instruction or "").strip()
        preset = (options.preset or "").strip()
        if preset and preset not in PRESETS:
            raise ActionInputError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
        if not instruction and not preset:
            raise ActionInputError(f"refactor needs an instruction or a preset ({', '.join(PRESETS)})")
        try:
            fixes = FindingToFix.from_option(options.fixes) if options.fixes else None
        except ValueError as exc:
            raise ActionInputError(str(exc)) from exc
        target = resolve_test_target(request)
        limits = BenchLimits(options.test_timeout, options.test_memory_mb)
        differential = DifferentialLimits(options.differential_inputs, options.differential_seconds)
        return RefactorJob(target, instruction or PRESETS[preset], preset, limits, fixes=fixes,
                           differential_limits=differential)


def complexity(text: str, qualname: str) -> int | None:
    """Cyclomatic complexity (radon) of the function, method or class `qualname` in `text`."""
    parts = qualname.split(".")
    try:
        blocks = cc_visit(text)
    except SyntaxError:
        return None
    for block in blocks:
        owner = getattr(block, "classname", None)
        if block.name == parts[-1] and (owner == (parts[-2] if len(parts) > 1 else None)):
            return block.complexity
    return None


@dataclass
class RefactorJob(ActionJob):
    target: TestTarget
    instruction: str
    preset: str
    limits: BenchLimits
    fixes: FindingToFix | None = None  # an audit finding the rewrite must remove (the editor's quick fix)
    differential_limits: DifferentialLimits = DifferentialLimits()
    schema: dict[str, Any] | None = None
    stop: list[str] = field(default_factory=lambda: ["\n```\n"])
    max_tokens: int = MAX_TOKENS
    review_focuses: list[str] = field(default_factory=lambda: list(REVIEW_FOCUSES))

    def __post_init__(self) -> None:
        self.target_label = self.target.symbol.qualname
        self.bench = TestBench(self.target, self.limits)
        self.exercising: dict[str, list[str]] = {}
        self.characterization: str | None = None  # the generated test module's path, if one was needed
        self.characterization_module = ""
        self.signature_may_change = any(word in self.instruction.lower() for word in SIGNATURE_WORDS)
        self.complexity_before = complexity(self.target.source_text, self.target_label)
        self.complexity_after: int | None = None
        self.helpers: list[str] = []
        self.differential = DifferentialCheck(self.bench, self.target_label, self.differential_limits,
                                              observed_only=self.fixes is not None)
        self.differential_report: DifferentialReport | None = None
        self._differential_ready = False

    # ---- tests that pin the behaviour --------------------------------------------------------

    def prerequisite(self, cancel: CancelToken) -> ActionRequest | None:
        name = self.target.target_import.name
        self.exercising = find_exercising_tests(self.bench, name, cancel)
        if self.exercising:
            return None
        document = DocumentSnapshot(self.target.source_path, self.target.source_text, 0)
        options = ActionOptions(coverage_goal=0.8, mutants=0, test_timeout=self.limits.timeout_s,
                                test_memory_mb=self.limits.memory_mb)
        return ActionRequest("tests", document, self.target_label, workspace=str(self.target.workspace),
                             options=options)

    def adopt(self, result: ActionResult, cancel: CancelToken) -> str | None:
        kept = result.evidence.get("tests_kept") or []
        if result.status != "accepted" or not result.edits or not kept:
            return (f"no tests exercise {self.target_label} and no characterization tests could be generated "
                    f"({result.message or result.status}); a refactor without tests is not offered")
        test_file = result.evidence["test_file"]
        self.bench.write(test_file, result.edits[0].new_text)
        self.exercising = {test_file: list(kept)}
        self.characterization, self.characterization_module = test_file, result.edits[0].new_text
        return None

    # ---- writer and gates --------------------------------------------------------------------

    def _source(self) -> str:
        return self.target.source()

    def messages(self, feedback: list[str]) -> list[Message]:
        return writer_messages(self.target_label, self.target.source_path, self._source(), self.instruction, feedback)

    def review_material(self, evaluation: Evaluation) -> str:
        return review_material(self.target_label, self.instruction, self._source(), evaluation.output,
                               [g.name for g in evaluation.gates])

    def evaluate(self, reply: Reply, cancel: CancelToken | None = None) -> Evaluation:
        code = extract_code(reply.text)
        original = self.target.source_text
        try:
            replacement = replace_definition(original, self.target_label, self.target.first_line, code)
        except ReplacementError as exc:
            return Evaluation([GateResult("definition", False, [str(exc)])], output=code)
        gates = [GateResult("definition", True)]
        try:
            ast.parse(replacement.text)
            gates.append(GateResult("parses", True))
        except SyntaxError as exc:
            return Evaluation(gates + [GateResult("parses", False, [f"line {exc.lineno}: {exc.msg}"])], output=code)
        changes = signature_changes(replacement.old_definition, replacement.new_definition)
        if changes and not self.signature_may_change:
            gates.append(GateResult("signature", False, [c + " (the instruction does not ask for that)" for c in changes]))
        else:
            gates.append(GateResult("signature", True))
        gates.append(GateResult("scope", not (outside := changes_outside(original, replacement, self.target_label)), outside))
        unchanged = replacement.text == original
        gates.append(GateResult("changed", not unchanged, ["the code is unchanged: apply the instruction"] if unchanged else []))
        if self.fixes is not None:
            remaining = still_present(self.fixes, self.target.source_path, replacement.text,
                                      [self.target_label, *replacement.helpers])
            gates.append(GateResult("fixed", not remaining, remaining[:3]))
        if not all(g.passed for g in gates):
            return Evaluation(gates, output=code)
        failures = failures_after(self.bench, replacement.text, self.exercising, cancel)
        gates.append(GateResult("behaviour", not failures, failures[:5]))
        if not failures:
            report = self._differential(replacement.text, cancel)
            gates.append(GateResult("differential", report.passed, report.feedback(self.target.symbol.name)))
        evaluation = Evaluation(gates, new_text=replacement.text, output=code)
        if evaluation.passed:
            self.helpers = replacement.helpers
            self.complexity_after = complexity(replacement.text, self.target_label)
        return evaluation

    def _differential(self, new_text: str, cancel: CancelToken | None) -> DifferentialReport:
        if self.signature_may_change:
            report = DifferentialReport("not_run", "the instruction changes the signature")
        elif self.differential_limits.inputs == 0:
            report = DifferentialReport("not_run", "differential_inputs is 0")
        else:
            if not self._differential_ready:
                self.differential.prepare(self.exercising, cancel)
                self._differential_ready = True
            report = self.differential.check(new_text, cancel)
        self.differential_report = report
        return report

    def evidence(self, accepted: Evaluation | None) -> dict[str, Any]:
        return {
            "instruction": self.instruction, "preset": self.preset or None,
            "fixes": dataclasses.asdict(self.fixes) if self.fixes else None,
            "signature_may_change": self.signature_may_change,
            "complexity_before": self.complexity_before,
            "complexity_after": self.complexity_after if accepted is not None else None,
            "tests_run": [f"{f}::{t}" for f, tests in self.exercising.items() for t in tests],
            "characterization_tests": self.characterization,  # generated because no test exercised it
            "characterization_module": self.characterization_module or None,
            "helpers_added": self.helpers if accepted is not None else [],
            "differential": self.differential_report.evidence() if self.differential_report else None,
        }

    def close(self) -> None:
        self.bench.close()
