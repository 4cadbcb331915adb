"""Mutation score of the kept tests: small libcst mutants of the target, run in the sandbox.

Operators (issue 6, item 5): comparison (`<` -> `<=`, `==` -> `!=`, `in` -> `not in`...),
arithmetic (`+` -> `-`, `*` -> `/`...), boolean (`and` <-> `or`, dropping `not`), constants
(`n` -> `n + 1`, `True` <-> `False`, a string -> another string) and return values (`return x` ->
`return None`). Only nodes inside the target's line range are mutated. The mutation libraries on
PyPI (mutmut, cosmic-ray) drive whole test suites over whole projects with their own config and
state; one target and a handful of tests are better served by this 150-line runner.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from swarm_lsp.swarm.cancel import CancelToken

log = logging.getLogger(__name__)

_COMPARISON_SWAPS: dict[type, Callable[[], cst.BaseCompOp]] = {
    cst.LessThan: cst.LessThanEqual, cst.LessThanEqual: cst.LessThan,
    cst.GreaterThan: cst.GreaterThanEqual, cst.GreaterThanEqual: cst.GreaterThan,
    cst.Equal: cst.NotEqual, cst.NotEqual: cst.Equal,
    cst.In: cst.NotIn, cst.NotIn: cst.In, cst.Is: cst.IsNot, cst.IsNot: cst.Is,
}
_ARITHMETIC_SWAPS: dict[type, Callable[[], cst.BaseBinaryOp]] = {
    cst.Add: cst.Subtract, cst.Subtract: cst.Add, cst.Multiply: cst.Divide, cst.Divide: cst.Multiply,
    cst.FloorDivide: cst.Multiply, cst.Modulo: cst.Multiply, cst.Power: cst.Multiply,
    cst.BitAnd: cst.BitOr, cst.BitOr: cst.BitAnd, cst.LeftShift: cst.RightShift, cst.RightShift: cst.LeftShift,
}
_BOOLEAN_SWAPS: dict[type, Callable[[], cst.BaseBooleanOp]] = {cst.And: cst.Or, cst.Or: cst.And}


@dataclass(frozen=True)
class Mutant:
    line: int
    description: str  # e.g. "line 12: `<` -> `<=`"
    source: str  # the whole mutated file


@dataclass
class MutationReport:
    total: int = 0
    killed: int = 0
    survived: list[str] = field(default_factory=list)  # descriptions of mutants no test noticed
    duration_s: float = 0.0
    skipped: int = 0  # mutants beyond the limit, not run

    @property
    def score(self) -> float | None:
        return self.killed / self.total if self.total else None


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node).strip()


def _replacements(node: cst.CSTNode) -> list[tuple[cst.CSTNode, str]]:
    """(replacement node, description) for every mutation of `node` itself."""
    if isinstance(node, cst.ComparisonTarget) and type(node.operator) in _COMPARISON_SWAPS:
        new = node.with_changes(operator=_COMPARISON_SWAPS[type(node.operator)]())
        return [(new, f"`{_code(node.operator)}` -> `{_code(new.operator)}`")]
    if isinstance(node, cst.BinaryOperation) and type(node.operator) in _ARITHMETIC_SWAPS:
        arithmetic = node.with_changes(operator=_ARITHMETIC_SWAPS[type(node.operator)]())
        return [(arithmetic, f"`{_code(node.operator)}` -> `{_code(arithmetic.operator)}`")]
    if isinstance(node, cst.BooleanOperation) and type(node.operator) in _BOOLEAN_SWAPS:
        boolean = node.with_changes(operator=_BOOLEAN_SWAPS[type(node.operator)]())
        return [(boolean, f"`{_code(node.operator)}` -> `{_code(boolean.operator)}`")]
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        return [(node.expression, f"`not {_code(node.expression)}` -> `{_code(node.expression)}`")]
    if isinstance(node, cst.Integer):
        value = int(node.value.replace("_", ""), 0)
        return [(cst.Integer(str(value + 1)), f"`{node.value}` -> `{value + 1}`")]
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        other = "False" if node.value == "True" else "True"
        return [(cst.Name(other), f"`{node.value}` -> `{other}`")]
    if isinstance(node, cst.SimpleString) and node.prefix.lower() in ("", "r", "u"):
        return [(cst.SimpleString('"XX"' if node.evaluated_value != "XX" else '"YY"'),
                 f"`{_code(node)[:30]}` -> `\"XX\"`")]
    if isinstance(node, cst.Return) and node.value is not None and not (
        isinstance(node.value, cst.Name) and node.value.value == "None"
    ):
        return [(node.with_changes(value=cst.Name("None")), f"`return {_code(node.value)[:30]}` -> `return None`")]
    return []


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last
        self.sites: list[tuple[cst.CSTNode, int, cst.CSTNode, str]] = []
        self._docstrings: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            docstring = node.body.body[0] if isinstance(node.body, cst.IndentedBlock) and node.body.body else None
            if isinstance(docstring, cst.SimpleStatementLine) and isinstance(docstring.body[0], cst.Expr):
                self._docstrings.add(id(docstring.body[0].value))
        if isinstance(node, cst.Decorator) or id(node) in self._docstrings:
            return False  # decorators and docstrings are not behaviour worth mutating
        if isinstance(node, cst.Annotation):
            return False
        position = self.get_metadata(PositionProvider, node, None)
        if position is not None and self.first <= position.start.line <= self.last:
            for replacement, description in _replacements(node):
                self.sites.append((node, position.start.line, replacement, description))
        return True


class _Replace(cst.CSTTransformer):
    def __init__(self, original: cst.CSTNode, replacement: cst.CSTNode) -> None:
        self.original, self.replacement = original, replacement

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # noqa: ANN201
        return self.replacement if original_node is self.original else updated_node


def generate_mutants(source: str, first_line: int, last_line: int) -> list[Mutant]:
    """Every single-point mutant of the code between the 1-based lines, in source order."""
    wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    collector = _Collector(first_line, last_line)
    wrapper.visit(collector)
    module = wrapper.module
    mutants = []
    for original, line, replacement, description in collector.sites:
        mutated = module.visit(_Replace(original, replacement)).code
        if mutated != source:
            mutants.append(Mutant(line, f"line {line}: {description}", mutated))
    return mutants


def pick(mutants: list[Mutant], limit: int) -> list[Mutant]:
    """At most `limit` mutants spread evenly over the list (deterministic)."""
    if limit <= 0 or len(mutants) <= limit:
        return list(mutants) if limit > 0 else []
    step = len(mutants) / limit
    return [mutants[int(i * step)] for i in range(limit)]


def mutation_score(mutants: list[Mutant], limit: int, run_tests: Callable[[Mutant], bool],
                   cancel: CancelToken | None = None) -> MutationReport:
    """Run the tests against each mutant; `run_tests(mutant)` installs the mutated source, runs
    the kept tests and returns True when they all still pass (the mutant survived)."""
    chosen = pick(mutants, limit)
    report = MutationReport(total=len(chosen), skipped=len(mutants) - len(chosen))
    started = time.perf_counter()
    for mutant in chosen:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if run_tests(mutant):
            report.survived.append(mutant.description)
        else:
            report.killed += 1
    report.duration_s = round(time.perf_counter() - started, 3)
    return report
