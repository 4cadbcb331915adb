"""A writer's reply as a pytest module: extracted, parsed, normalised and cut down to chosen tests.

Small models reliably forget to import the code under test, import it from the wrong module, or
paste a copy of it into the test file (whose tests then pass without exercising the real code).
`parse_candidate` repairs those deterministically and says what it changed; everything else is
left to the gates. Test ids are pytest node ids relative to the module: `test_x` or `TestC::test_y`.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field

import libcst as cst
from libcst import matchers

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:\n```|\Z)", re.DOTALL)


class CandidateError(ValueError):
    """The reply holds no usable test module; the message is feedback for the writer."""


@dataclass(frozen=True)
class TargetImport:
    """How tests import the code under test: `from <module> import <name>`."""

    module: str
    name: str

    @property
    def statement(self) -> str:
        return f"from {self.module} import {self.name}"


@dataclass
class Candidate:
    module: cst.Module
    tests: list[str]
    fixes: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.module.code

    def select(self, keep: set[str] | list[str]) -> str:
        """The module's code with only the tests in `keep`; imports and helpers stay."""
        wanted = set(keep)
        body: list[cst.BaseStatement] = []
        for statement in self.module.body:
            if isinstance(statement, cst.FunctionDef) and _is_test_function(statement):
                if statement.name.value in wanted:
                    body.append(statement)
            elif isinstance(statement, cst.ClassDef) and _is_test_class(statement):
                kept = _class_with_tests(statement, wanted)
                if kept is not None:
                    body.append(kept)
            else:
                body.append(statement)
        return self.module.with_changes(body=body).code


    def split(self, test: str, taken: set[str]) -> list[str]:
        """Replace a top-level test made only of independent checks (`assert` statements and
        `with pytest.raises(...)` blocks) by one test per check, so one wrong expectation does not
        cost the others; the new names. [] (nothing changed) when the test is not like that."""
        index, node = next(((i, s) for i, s in enumerate(self.module.body)
                            if isinstance(s, cst.FunctionDef) and s.name.value == test), (None, None))
        if node is None or node.decorators or not isinstance(node.body, cst.IndentedBlock):
            return []
        checks = [s for s in node.body.body if not _is_docstring_line(s)]
        if len(checks) < 2 or not all(_is_check(s) for s in checks):
            return []
        names, parts = [], []
        for number, check in enumerate(checks, 1):
            name = f"{test}_{number}"
            while name in taken or name in self.tests:
                name += "_"
            taken.add(name)
            names.append(name)
            part = node.with_changes(name=cst.Name(name), body=node.body.with_changes(body=[check]))
            parts.append(part if number == 1 else part.with_changes(
                leading_lines=[cst.EmptyLine(), cst.EmptyLine()]))
        body = list(self.module.body)
        body[index:index + 1] = parts
        self.module = self.module.with_changes(body=body)
        position = self.tests.index(test)
        self.tests[position:position + 1] = names
        return names


def _is_docstring_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and isinstance(
        statement.body[0], cst.Expr) and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def _is_check(statement: cst.CSTNode) -> bool:
    """A self-contained check: one `assert`, or a `with pytest.raises(...)` block."""
    if isinstance(statement, cst.SimpleStatementLine):
        return len(statement.body) == 1 and isinstance(statement.body[0], cst.Assert)
    if isinstance(statement, cst.With) and len(statement.items) == 1 and statement.items[0].asname is None:
        call = statement.items[0].item
        return matchers.matches(call, matchers.Call(func=matchers.Attribute(
            value=matchers.Name("pytest"), attr=matchers.Name("raises"))))
    return False


def extract_code(reply: str) -> str:
    """The first fenced code block of `reply` (unterminated fences run to the end), else all of it."""
    match = _FENCE.search(reply)
    return textwrap.dedent((match.group(1) if match else reply).strip("\n")) + "\n"


def parse_candidate(reply: str, target: TargetImport, taken: set[str] = frozenset()) -> Candidate:
    """Parse and normalise a reply; test and class names already in `taken` get a numeric suffix."""
    code = extract_code(reply)
    try:
        ast.parse(code)  # CPython's own message and line are the clearest feedback
        module = cst.parse_module(code)
    except SyntaxError as error:
        raise CandidateError(f"the test module does not parse: line {error.lineno}: {error.msg}") from None
    except cst.ParserSyntaxError as error:
        raise CandidateError(f"the test module does not parse: {_syntax_message(error)}") from None
    fixes: list[str] = []
    body = _drop_copies(list(module.body), target, fixes)
    body = _drop_module_level_runs(body, fixes)
    body = _drop_foreign_imports(body, target, fixes)
    body = _rename_duplicates(body, set(taken))
    module = module.with_changes(body=body)
    module = _add_missing_imports(module, target, fixes)
    module = _spaced(module)
    tests = _test_ids(module)
    if not tests:
        raise CandidateError(
            "the reply has no test functions: write functions named test_<behaviour> at module level"
        )
    return Candidate(module, tests, fixes)


def _spaced(module: cst.Module) -> cst.Module:
    """Two blank lines before every top-level function and class (PEP 8), comments kept."""
    body = []
    for index, statement in enumerate(module.body):
        if index > 0 and isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            comments = [line for line in statement.leading_lines if line.comment is not None]
            statement = statement.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *comments])
        body.append(statement)
    return module.with_changes(body=body)


def _syntax_message(error: cst.ParserSyntaxError) -> str:
    first_line = str(error).strip().splitlines()[0]
    return f"line {error.raw_line}: {first_line}"


def _is_test_function(node: cst.FunctionDef) -> bool:
    return node.name.value.startswith("test")


def _is_test_class(node: cst.ClassDef) -> bool:
    return node.name.value.startswith("Test")


def _class_tests(node: cst.ClassDef) -> list[cst.FunctionDef]:
    return [s for s in node.body.body if isinstance(s, cst.FunctionDef) and _is_test_function(s)]


def _class_with_tests(node: cst.ClassDef, wanted: set[str]) -> cst.ClassDef | None:
    prefix = node.name.value + "::"
    body = [
        statement for statement in node.body.body
        if not (isinstance(statement, cst.FunctionDef) and _is_test_function(statement))
        or prefix + statement.name.value in wanted
    ]
    if not any(isinstance(s, cst.FunctionDef) and _is_test_function(s) for s in body):
        return None
    return node.with_changes(body=node.body.with_changes(body=body))


def _test_ids(module: cst.Module) -> list[str]:
    ids: list[str] = []
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef) and _is_test_function(statement):
            ids.append(statement.name.value)
        elif isinstance(statement, cst.ClassDef) and _is_test_class(statement):
            ids.extend(f"{statement.name.value}::{method.name.value}" for method in _class_tests(statement))
    return ids


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


def _rename_duplicates(body: list[cst.BaseStatement], taken: set[str]) -> list[cst.BaseStatement]:
    """Give every top-level test function and test class a name not used before."""
    renamed: list[cst.BaseStatement] = []
    for statement in body:
        is_test = (isinstance(statement, cst.FunctionDef) and _is_test_function(statement)) or (
            isinstance(statement, cst.ClassDef) and _is_test_class(statement)
        )
        if is_test:
            name = statement.name.value
            unique, suffix = name, 2
            while unique in taken:
                unique, suffix = f"{name}_{suffix}", suffix + 1
            taken.add(unique)
            if unique != name:
                statement = statement.with_changes(name=cst.Name(unique))
        renamed.append(statement)
    return renamed


def _bound_names(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for node in matchers.findall(module, matchers.Import() | matchers.ImportFrom()):
        if isinstance(node.names, cst.ImportStar):
            continue
        for alias in node.names:
            bound = alias.asname.name if alias.asname else alias.name
            while isinstance(bound, cst.Attribute):
                bound = bound.value
            if isinstance(bound, cst.Name):
                names.add(bound.value)
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
    return names


def _used_names(module: cst.Module) -> set[str]:
    return {node.value for node in matchers.findall(module, matchers.Name())}


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
