"""Deterministic repairs of a generated test module, each reported in `fixes`.

Small models reliably forget to import the code under test, import it from a guessed module,
paste a copy of it into the test file (whose tests then pass without exercising the real code),
or call their tests at module level. These are fixed here; everything else is left to the gates.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst import matchers


@dataclass(frozen=True)
class TargetImport:
    """How tests import the code under test: `from <module> import <name>`."""

    module: str
    name: str

    @property
    def statement(self) -> str:
        return f"from {self.module} import {self.name}"


def repair(module: cst.Module, target: TargetImport, fixes: list[str]) -> cst.Module:
    body = _drop_copies(list(module.body), target, fixes)
    body = _drop_module_level_runs(body, fixes)
    body = _drop_foreign_imports(body, target, fixes)
    return _add_missing_imports(module.with_changes(body=body), target, fixes)


def _drop_copies(body: list[cst.BaseStatement], target: TargetImport, fixes: list[str]) -> list[cst.BaseStatement]:
    kept = []
    for statement in body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == target.name:
            fixes.append(f"removed a copy of `{target.name}` from the test module: the tests must import the real one")
        else:
            kept.append(statement)
    return kept


def _drop_module_level_runs(body: list[cst.BaseStatement], fixes: list[str]) -> list[cst.BaseStatement]:
    """Remove `test_x()` calls and `if __name__ == "__main__":` blocks at module level: pytest runs
    the tests, and a call there runs at import time (and breaks when a test is renamed)."""
    main_block = matchers.If(test=matchers.Comparison(left=matchers.Name("__name__")))
    test_call = matchers.SimpleStatementLine(body=[matchers.Expr(value=matchers.Call(
        func=matchers.Name(value=matchers.MatchIfTrue(lambda name: name.startswith("test")))))])
    kept = [s for s in body if not (matchers.matches(s, main_block) or matchers.matches(s, test_call))]
    if len(kept) != len(body):
        fixes.append("removed module-level calls of the tests (pytest runs them)")
    return kept


def _binds(alias: cst.ImportAlias, name: str) -> bool:
    bound = alias.asname.name if alias.asname else alias.name
    return isinstance(bound, cst.Name) and bound.value == name


def _drop_foreign_imports(body: list[cst.BaseStatement], target: TargetImport, fixes: list[str]) -> list[cst.BaseStatement]:
    """Remove `from X import <name>` where X is not the target's module (a guessed module path)."""
    kept: list[cst.BaseStatement] = []
    for statement in body:
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
            kept.append(statement)
            continue
        small = statement.body[0]
        if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
            kept.append(statement)
            continue
        module = cst.Module(body=[]).code_for_node(small.module) if small.module else ""
        module = "." * len(small.relative) + module
        if module == target.module:
            kept.append(statement)
            continue
        aliases = [alias for alias in small.names if not _binds(alias, target.name)]
        if len(aliases) == len(small.names):
            kept.append(statement)
            continue
        fixes.append(f"replaced `from {module} import {target.name}` with `{target.statement}`")
        if aliases:
            aliases[-1] = aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            kept.append(statement.with_changes(body=[small.with_changes(names=aliases)]))
    return kept


def _bound_names(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for node in matchers.findall(module, matchers.Import() | matchers.ImportFrom()):
        if not isinstance(node, (cst.Import, cst.ImportFrom)) or isinstance(node.names, cst.ImportStar):
            continue
        for alias in node.names:
            bound: cst.BaseExpression = alias.asname.name if alias.asname else alias.name
            while isinstance(bound, cst.Attribute):
                bound = bound.value
            if isinstance(bound, cst.Name):
                names.add(bound.value)
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
    return names


def _used_names(module: cst.Module) -> set[str]:
    return {node.value for node in matchers.findall(module, matchers.Name()) if isinstance(node, cst.Name)}


def _add_missing_imports(module: cst.Module, target: TargetImport, fixes: list[str]) -> cst.Module:
    bound, used = _bound_names(module), _used_names(module)
    missing = []
    if "pytest" in used and "pytest" not in bound:
        missing.append("import pytest")
    if target.name in used and target.name not in bound:
        missing.append(target.statement)
        fixes.append(f"added the missing `{target.statement}`")
    if not missing:
        return module
    lines = [cst.parse_statement(statement + "\n") for statement in missing]
    body = list(module.body)
    last_import = max(
        (i for i, s in enumerate(body) if isinstance(s, cst.SimpleStatementLine)
         and all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in s.body)),
        default=-1,
    )
    body[last_import + 1:last_import + 1] = lines
    return module.with_changes(body=body)
