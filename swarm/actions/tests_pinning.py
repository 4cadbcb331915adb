"""Pinning tests for the mutants the writer's tests let survive (issue 16, step 4).

Small writers rarely manage the test a surviving mutant asks for. But whether a mutant changes what
the function does on some input is a question the differential check answers by running: the
original and the mutant side by side on the inputs the kept tests use, boundary variations of them
and drawn values. Where they differ on plain-literal arguments and the original's outcome is a
literal (or a builtin exception), a test states that outcome:

    def test_slugify_pins_line_12():
        assert slugify('a b', max_len=1) == 'a'

It is kept only if it passes on the original and fails on a surviving mutant, like any test the
survivor loop keeps. Functions only: a method's instance is not a literal.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from swarm_lsp.swarm.actions.tests_mutants import SurvivorLoop
from swarm_lsp.swarm.actions.tests_target import TestTarget
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.codemods.pytest_module import merge_test_modules
from swarm_lsp.swarm.verify.differential import DifferentialCheck, DifferentialLimits, Divergence
from swarm_lsp.swarm.verify.mutation import Mutant
from swarm_lsp.swarm.verify.pytest_bench import SuiteState, TestBench
from swarm_lsp.swarm.verify.pytest_gates import merged_module

SINGLETONS = ("None", "True", "False")


@dataclass
class Pinned:
    suite: SuiteState  # the kept tests with the pinning tests added
    alive: list[Mutant]  # the mutants still surviving
    tests: list[str] = field(default_factory=list)
    killed: list[str] = field(default_factory=list)  # descriptions of the mutants the pins killed
    not_pinned: str = ""  # why nothing could be pinned, when nothing was


def pinning_test(name: str, call: str, divergence: Divergence, mutant: Mutant) -> str | None:
    """The source of a test stating the original's outcome on the divergence's input, or None."""
    if divergence.call_source is None or divergence.pin is None:
        return None
    expression = f"{call}{divergence.call_source}"
    comment = f"    # {mutant.description} changes this outcome\n"
    outcome, _, value = divergence.pin.partition(" ")
    if outcome == "raises":
        return f"def {name}():\n{comment}    with pytest.raises({value}):\n        {expression}\n"
    operator = "is" if value in SINGLETONS else "=="
    return f"def {name}():\n{comment}    assert {expression} {operator} {value}\n"


class MutantPinner:
    def __init__(self, bench: TestBench, target: TestTarget, loop: SurvivorLoop, limits: DifferentialLimits) -> None:
        self.bench, self.target, self.loop, self.limits = bench, target, loop, limits

    def pin(self, suite: SuiteState, survivors: list[Mutant], taken: set[str], cancel: CancelToken | None) -> Pinned:
        result = Pinned(suite, list(survivors))
        target = self.target
        if target.symbol.qualname != target.target_import.name:
            result.not_pinned = "a method's instance cannot be written as a literal"
            return result
        check = DifferentialCheck(self.bench, target.symbol.qualname, self.limits)
        try:
            self.bench.write(target.test_path, merged_module(target.test_text, suite.module_text))
            check.prepare({target.test_path: suite.tests}, cancel)
            if check.reason:
                result.not_pinned = check.reason
                return result
            for mutant in list(survivors):
                if mutant in result.alive:
                    self._pin_one(check, mutant, result, taken, cancel)
        finally:
            self.bench.write(target.source_path, target.source_text)
            self.bench.write(target.test_path, target.test_text)
        if not result.tests:
            result.not_pinned = result.not_pinned or "no input on which a survivor differs could be stated as a test"
        return result

    def _pin_one(self, check: DifferentialCheck, mutant: Mutant, result: Pinned, taken: set[str],
                 cancel: CancelToken | None) -> None:
        report = check.check(mutant.source, cancel)
        usable = sorted((d for d in report.divergences if d.call_source is not None and d.pin is not None),
                        key=lambda d: (len(d.call_source or ""), d.source != "observed"))
        if not usable:
            return
        name = _free_name(f"test_{self.target.symbol.qualname}_pins_line_{mutant.line}", taken)
        test = pinning_test(name, self.target.target_import.name, usable[0], mutant)
        if test is None:
            return
        header = self.target.target_import.statement + ("\nimport pytest" if "pytest.raises" in test else "")
        module = merge_test_modules(result.suite.module_text, f"{header}\n\n\n{test}").text
        if not _parses(module):
            return
        self.bench.write(self.target.test_path, merged_module(self.target.test_text, module))
        passed = self.bench.run(self.target.test_path, [name], measure=False, cancel=cancel)
        if passed.timed_out or passed.tests.get(name) != "passed":
            return  # the original does not do what the check saw (state the test could not set up)
        killed = self.loop.kills(self.target.test_path, name, result.alive, cancel)
        if not killed:
            return
        taken.add(name)
        result.suite = SuiteState(**{**result.suite.__dict__, "module_text": module,
                                     "tests": result.suite.tests + [name]})
        result.tests.append(name)
        result.killed += [m.description for m in killed]
        result.alive = [m for m in result.alive if m not in killed]


def _free_name(base: str, taken: set[str]) -> str:
    name, number = base.replace(".", "_"), 2
    while name in taken:
        name, number = f"{base}_{number}".replace(".", "_"), number + 1
    return name


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True
