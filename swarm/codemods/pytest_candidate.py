"""A writer's reply as a pytest module: extracted, parsed, normalised and cut down to chosen tests.

`parse_candidate` extracts the code block, applies the deterministic repairs of `generated_test_repairs`
(reported in `fixes`), gives every test a name not used before and lists the tests; `select` and
`split` cut the module down or apart for the gates. Test ids are pytest node ids relative to the
module: `test_x` or `TestC::test_y`.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import libcst as cst
from libcst import matchers

from swarm_lsp.swarm.codemods.generated_test_repairs import TargetImport, repair
from swarm_lsp.swarm.errors import SwarmLspError

__all__ = ["Candidate", "CandidateError", "TargetImport", "extract_code", "parse_candidate"]

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:\n```|\Z)", re.DOTALL)


class CandidateError(SwarmLspError, ValueError):
    """The reply holds no usable test module; the message is feedback for the writer."""


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
        found = next(((i, s) for i, s in enumerate(self.module.body)
                      if isinstance(s, cst.FunctionDef) and s.name.value == test), None)
        if found is None:
            return []
        index, node = found
        if node.decorators or not isinstance(node.body, cst.IndentedBlock):
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


def parse_candidate(reply: str, target: TargetImport, taken: AbstractSet[str] = frozenset()) -> Candidate:
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
    module = repair(module, target, fixes)
    module = module.with_changes(body=_rename_duplicates(list(module.body), set(taken)))
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


def _rename_duplicates(body: list[cst.BaseStatement], taken: set[str]) -> list[cst.BaseStatement]:
    """Give every top-level test function and test class a name not used before."""
    renamed: list[cst.BaseStatement] = []
    for statement in body:
        if (isinstance(statement, cst.FunctionDef) and _is_test_function(statement)) or (
            isinstance(statement, cst.ClassDef) and _is_test_class(statement)
        ):
            name = statement.name.value
            unique, suffix = name, 2
            while unique in taken:
                unique, suffix = f"{name}_{suffix}", suffix + 1
            taken.add(unique)
            if unique != name:
                statement = statement.with_changes(name=cst.Name(unique))
        renamed.append(statement)
    return renamed
