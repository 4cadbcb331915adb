"""Small facts about Python code around one line, for the mitigation gate (`mitigations.py`).

Deliberately shallow: one function's body, names resolved through their latest plain assignment
before the line (a few hops), no inter-procedural flow. Every question answers "yes" only when the
code shows it; anything unknown is "no", so the gate errs on the side of reporting.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass

# Calls whose result cannot carry markup, query or shell syntax from their argument.
SANITISERS = re.compile(
    r"^(escape\w*|\w+_escape|quote|quote_plus|quoteattr|secure_filename|escape_filter_chars|escape_rdn|"
    r"int|float|bool|len|uuid\w*|clean|url_for|reverse)$")
MAX_HOPS = 4


def call_name(node: ast.AST) -> str:
    """`open` for open(...), `execute` for cursor.execute(...): the last name of the callee."""
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def dotted(node: ast.AST) -> str:
    """`hashlib.md5` for hashlib.md5, `` for anything that is not a plain dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_constant_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))


@dataclass
class Scope:
    """The innermost function around a line (or the module), and the line's own nodes."""

    tree: ast.Module
    body: ast.AST
    line: int
    imports: dict[str, str] | None = None  # local name -> what it imports, e.g. ET -> xml.etree.ElementTree

    def __post_init__(self) -> None:
        if self.imports is not None:  # a copy for another line (dataclasses.replace) keeps its module's imports
            return
        self.imports = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.imports[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    @classmethod
    def at(cls, text: str, line: int) -> "Scope | None":
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return None
        return cls(tree, _innermost_function(tree, line), line)

    def around(self, line: int) -> "Scope":
        """The scope of another line of the same module, without parsing it again."""
        return dataclasses.replace(self, body=_innermost_function(self.tree, line), line=line)

    def own_nodes(self) -> list[ast.AST]:
        """The scope's nodes, without those of nested functions or classes."""
        found, stack = [], list(ast.iter_child_nodes(self.body))
        while stack:
            node = stack.pop()
            found.append(node)
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.extend(ast.iter_child_nodes(node))
        return found

    def calls_on_line(self) -> list[ast.Call]:
        return sorted((n for n in self.own_nodes() if isinstance(n, ast.Call) and _spans(n, self.line)),
                      key=lambda n: (n.lineno, n.col_offset))

    def statement(self) -> ast.stmt | None:
        """The smallest simple statement that covers the line."""
        statements = [n for n in self.own_nodes() if isinstance(n, ast.stmt) and _spans(n, self.line)
                      and not isinstance(n, (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.AsyncWith,
                                             ast.AsyncFor, ast.Match))]
        return min(statements, key=lambda n: n.end_lineno - n.lineno, default=None)

    def before(self) -> list[ast.AST]:
        """The scope's nodes that start before the line."""
        return [n for n in self.own_nodes() if hasattr(n, "lineno") and n.lineno < self.line]

    def bindings(self, name: str, line: int) -> list[ast.expr] | None:
        """Every value assigned to `name` by a plain assignment before `line`, in any branch; None
        when some path may still carry an unknown value (a parameter only reassigned in a branch,
        or a name also bound another way: a loop target, a with target, an augmented assignment)."""
        values, direct, plain_targets = [], False, set()
        body = getattr(self.body, "body", [])
        nodes = [n for n in self.own_nodes() if getattr(n, "lineno", line) < line]
        for node in nodes:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                named = [t for t in targets if isinstance(t, ast.Name) and t.id == name]
                if named:
                    values.append(node.value)
                    direct = direct or node in body
                    plain_targets.update(id(t) for t in named)
        other = any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
                    and id(n) not in plain_targets for n in nodes)
        if other or not values or (name in self.parameters() and not direct):
            return None
        return values

    def parameters(self) -> set[str]:
        args = getattr(self.body, "args", None)
        if args is None:
            return set()
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        return {a.arg for a in every if a is not None}

    def module_constant(self, name: str) -> bool:
        """An UPPER_CASE name bound at module level (a configured base folder, a fixed URL)."""
        if not name.isupper():
            return False
        return any(isinstance(n, (ast.Assign, ast.AnnAssign)) and any(
            isinstance(t, ast.Name) and t.id == name for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
            for n in self.tree.body)

    def resolve(self, node: ast.expr, hops: int = MAX_HOPS) -> ast.expr:
        """Follow a name to the one value ever assigned to it before the line (a few hops); the node
        itself when there is none or more than one."""
        line = self.line
        while isinstance(node, ast.Name) and hops > 0:
            values = self.bindings(node.id, line)
            if not values or len(values) != 1:
                return node
            line, node, hops = values[0].lineno, values[0], hops - 1
        return node

    def built_from_trusted_parts(self, node: ast.expr, hops: int = MAX_HOPS) -> bool:
        """True when the string `node` evaluates to contains no untrusted text: only constants,
        module constants and sanitised values are interpolated into it."""
        if hops <= 0:
            return False
        if isinstance(node, ast.Name):
            if self.module_constant(node.id):
                return True
            values = self.bindings(node.id, getattr(node, "lineno", self.line))
            return bool(values) and all(self.built_from_trusted_parts(v, hops - 1) for v in values)
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.JoinedStr):
            return all(self.built_from_trusted_parts(v.value if isinstance(v, ast.FormattedValue) else v, hops - 1)
                       for v in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            right = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            return self.built_from_trusted_parts(node.left, hops - 1) and all(
                self.built_from_trusted_parts(part, hops - 1) for part in right)
        if isinstance(node, ast.Call):
            if SANITISERS.match(call_name(node)):
                return True
            if call_name(node) in ("format", "join") and isinstance(node.func, ast.Attribute):
                parts = [node.func.value, *node.args, *(k.value for k in node.keywords)]
                return all(self.built_from_trusted_parts(p, hops - 1) for p in parts)
        return False

    def qualified(self, node: ast.AST) -> str:
        """The dotted name with its first part expanded through the imports: `ET.parse` after
        `import defusedxml.ElementTree as ET` is `defusedxml.ElementTree.parse`."""
        name = dotted(node.func if isinstance(node, ast.Call) else node)
        first, _, rest = name.partition(".")
        full = self.imports.get(first, first)
        return f"{full}.{rest}" if rest else full

    def tests_attribute(self, attributes: set[str]) -> bool:
        """A condition before the line reads one of `attributes` (e.g. `.hostname` against an allow-list)."""
        tests = [n.test for n in self.before() if isinstance(n, (ast.If, ast.IfExp, ast.Assert, ast.While))]
        tests += [n for n in self.before() if isinstance(n, ast.Compare)]
        return any(isinstance(sub, ast.Attribute) and sub.attr in attributes for t in tests for sub in ast.walk(t))

    def calls_before(self, names: set[str]) -> bool:
        return any(isinstance(n, ast.Call) and call_name(n) in names for n in self.before())

    def checked_before(self, name: str) -> bool:
        """`name` is tested by a membership or equality comparison in an `if` before the line."""
        for node in self.before():
            if isinstance(node, ast.If):
                for sub in ast.walk(node.test):
                    if isinstance(sub, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn, ast.Eq, ast.NotEq))
                                                            for op in sub.ops):
                        if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(sub)):
                            return True
        return False


def _innermost_function(tree: ast.Module, line: int) -> ast.AST:
    body: ast.AST = tree
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= node.end_lineno:
            if body is tree or node.lineno >= body.lineno:
                body = node
    return body


def _spans(node: ast.AST, line: int) -> bool:
    return node.lineno <= line <= (node.end_lineno or node.lineno)
