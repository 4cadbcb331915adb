"""A Python module parsed once, indexed for the questions the audit gates ask about one line.

The gates judge many findings in one file; each asks about the line's innermost function, the
calls and statement on the line, the plain assignments of a name before it, the checks made
before it. Answering by walking the tree per finding made a file with a finding every few lines
quadratic, so `Source` parses the text once (on first need) and each function body is indexed
once, the first time a finding lands in it: every later question is a lookup.
"""

from __future__ import annotations

import ast
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeAlias

Function: TypeAlias = ast.FunctionDef | ast.AsyncFunctionDef
# Statements that hold other statements: never "the statement on the line" (Scope.statement).
COMPOUND = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.AsyncWith, ast.AsyncFor, ast.Match)
# Nodes whose insides belong to another scope.
OPAQUE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
BLOCK_NODES = (ast.stmt, ast.excepthandler, ast.match_case)  # what holds statements, and statements
LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
MEMBERSHIP_OR_EQUALITY = (ast.In, ast.NotIn, ast.Eq, ast.NotEq)


def call_name(node: ast.AST) -> str:
    """`open` for open(...), `execute` for cursor.execute(...): the last name of the callee."""
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def end_line(node: ast.expr | ast.stmt) -> int:
    return node.end_lineno or node.lineno


class Source:
    """A file's text, its lines, and (parsed on first use, at most once) its module index."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines()

    @cached_property
    def module(self) -> "ModuleIndex | None":
        """None when the text is not valid Python."""
        try:
            return ModuleIndex(ast.parse(self.text))
        except SyntaxError:
            return None


class ModuleIndex:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.imports: dict[str, str] = {}  # local name -> what it imports, e.g. ET -> xml.etree.ElementTree
        functions: list[Function] = []
        # Breadth first over the statements, in ast.walk's order (a name imported twice keeps the last
        # import found); imports and functions are statements, so expressions need no visit.
        queue: deque[ast.AST] = deque([tree])
        while queue:
            node = queue.popleft()
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, list):
                    queue.extend(item for item in value if isinstance(item, BLOCK_NODES))
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.imports[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append(node)
        # Function line ranges nest or are disjoint, so the innermost function around a line is
        # the last one starting at or before it, or the nearest enclosing one of that.
        self._functions = sorted(functions, key=lambda f: f.lineno)
        self._starts = [f.lineno for f in self._functions]
        self._parents: list[int] = []
        open_ones: list[int] = []
        for i, function in enumerate(self._functions):
            while open_ones and end_line(self._functions[open_ones[-1]]) < function.lineno:
                open_ones.pop()
            self._parents.append(open_ones[-1] if open_ones else -1)
            open_ones.append(i)
        self.constants = {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                          for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
        self._bodies: dict[int, BodyIndex] = {}

    def function_at(self, line: int) -> ast.Module | Function:
        """The innermost function whose lines include `line`, else the module."""
        i = bisect_right(self._starts, line) - 1
        while i >= 0 and end_line(self._functions[i]) < line:
            i = self._parents[i]
        return self._functions[i] if i >= 0 else self.tree

    def body(self, node: ast.Module | Function) -> "BodyIndex":
        index = self._bodies.get(id(node))
        if index is None:
            index = self._bodies[id(node)] = BodyIndex.of(node)
        return index


@dataclass
class Assignment:
    line: int
    value: ast.expr
    direct: bool  # a statement of the body itself, not inside a branch or loop


@dataclass
class BodyIndex:
    """One function's body (or the module's), without the insides of nested functions, classes and
    lambdas: its nodes visited once, in the depth-first order the gate always read them in."""

    parameters: set[str]
    on_line: dict[int, list[ast.AST]] = field(default_factory=dict)  # calls and statements spanning each line
    assignments: dict[str, list[Assignment]] = field(default_factory=dict)  # plain `name = value`, in order
    other_binding: dict[str, int] = field(default_factory=dict)  # first line binding the name another way
    first_call: dict[str, int] = field(default_factory=dict)  # call name -> first line calling it
    first_tested_attribute: dict[str, int] = field(default_factory=dict)  # `.attr` read by a condition
    first_checked_name: dict[str, int] = field(default_factory=dict)  # name compared in an `if` test
    string_marks: dict[tuple[int, int], bool] = field(default_factory=dict)  # (statement id, CWE): see sinks

    @classmethod
    def of(cls, body: ast.Module | Function) -> "BodyIndex":
        index = cls(_parameters(body))
        direct = {id(n) for n in body.body}
        plain_targets: set[int] = set()
        stack = children(body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.Call, ast.stmt)):
                index._statement_or_call(node, direct, plain_targets)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and id(node) not in plain_targets:
                _first(index.other_binding, node.id, node.lineno)  # its assignment, if any, came first
            elif isinstance(node, ast.Compare):
                index._tested(node.lineno, node)
            elif isinstance(node, ast.IfExp):
                index._tested(node.lineno, node.test)
            if not isinstance(node, OPAQUE):
                stack.extend(children(node))
        return index

    def _statement_or_call(self, node: ast.Call | ast.stmt, direct: set[int], plain_targets: set[int]) -> None:
        for line in range(node.lineno, end_line(node) + 1):
            self.on_line.setdefault(line, []).append(node)
        if isinstance(node, ast.Call):
            _first(self.first_call, call_name(node), node.lineno)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = [t for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                       if isinstance(t, ast.Name)]
            plain_targets.update(id(t) for t in targets)
            for name in dict.fromkeys(t.id for t in targets):  # `x = x = v` binds one value
                self.assignments.setdefault(name, []).append(Assignment(node.lineno, node.value, id(node) in direct))
        elif isinstance(node, (ast.If, ast.Assert, ast.While)):
            self._tested(node.lineno, node.test)
            if isinstance(node, ast.If):
                for sub in ast.walk(node.test):
                    if isinstance(sub, ast.Compare) and any(isinstance(op, MEMBERSHIP_OR_EQUALITY) for op in sub.ops):
                        for part in ast.walk(sub):
                            if isinstance(part, ast.Name):
                                _first(self.first_checked_name, part.id, node.lineno)

    def _tested(self, line: int, test: ast.expr) -> None:
        """`line` holds a condition (an if, assert, while, conditional expression or comparison)."""
        for sub in ast.walk(test):
            if isinstance(sub, ast.Attribute):
                _first(self.first_tested_attribute, sub.attr, line)

    def bindings(self, name: str, line: int) -> list[ast.expr] | None:
        """Every value assigned to `name` by a plain assignment before `line`, in any branch; None
        when some path may still carry an unknown value (a parameter only reassigned in a branch,
        or a name also bound another way: a loop target, a with target, an augmented assignment)."""
        before = [a for a in self.assignments.get(name, ()) if a.line < line]
        if not before or self.other_binding.get(name, line) < line:
            return None
        if name in self.parameters and not any(a.direct for a in before):
            return None
        return [a.value for a in before]


def children(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes` in its order, without the contexts and operators (leaves nothing asks about)."""
    found = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            if not isinstance(value, LEAVES):
                found.append(value)
        elif isinstance(value, list):
            found.extend(item for item in value if isinstance(item, ast.AST) and not isinstance(item, LEAVES))
    return found


def _first(lines: dict[str, int], key: str, line: int) -> None:
    if line < lines.get(key, line + 1):
        lines[key] = line


def _parameters(body: ast.Module | Function) -> set[str]:
    if isinstance(body, ast.Module):
        return set()
    args = body.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return {a.arg for a in every if a is not None}
