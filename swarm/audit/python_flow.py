"""Small facts about Python code around one line, for the mitigation gate (`mitigations.py`).

Deliberately shallow: one function's body, names resolved through their latest plain assignment
before the line (a few hops), no inter-procedural flow. Every question answers "yes" only when the
code shows it; anything unknown is "no", so the gate errs on the side of reporting. The answers are
looked up in the module's index (`flow_index`), built once per file, not found by walking the tree.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TypeGuard

from swarm_lsp.swarm.audit.flow_index import (  # noqa: F401 - call_name is this module's API too
    COMPOUND, BodyIndex, Function, ModuleIndex, call_name, end_line,
)

# Calls whose result cannot carry markup, query or shell syntax from their argument.
SANITISERS = re.compile(
    r"^(escape\w*|\w+_escape|quote|quote_plus|quoteattr|secure_filename|escape_filter_chars|escape_rdn|"
    r"int|float|bool|len|uuid\w*|clean|url_for|reverse)$")
MAX_HOPS = 4


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


def is_constant_text(node: ast.AST | None) -> TypeGuard[ast.Constant]:
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))


@dataclass
class Scope:
    """The innermost function around a line (or the module), and the line's own nodes."""

    module: ModuleIndex
    body: ast.Module | Function
    line: int

    @classmethod
    def of(cls, module: ModuleIndex, line: int) -> "Scope":
        return cls(module, module.function_at(line), line)

    @property
    def imports(self) -> dict[str, str]:
        return self.module.imports

    @property
    def index(self) -> BodyIndex:
        return self.module.body(self.body)

    def calls_on_line(self) -> list[ast.Call]:
        return sorted((n for n in self.index.on_line.get(self.line, ()) if isinstance(n, ast.Call)),
                      key=lambda n: (n.lineno, n.col_offset))

    def statement(self) -> ast.stmt | None:
        """The smallest simple statement that covers the line."""
        statements = [n for n in self.index.on_line.get(self.line, ())
                      if isinstance(n, ast.stmt) and not isinstance(n, COMPOUND)]
        return min(statements, key=lambda n: end_line(n) - n.lineno, default=None)

    def bindings(self, name: str, line: int) -> list[ast.expr] | None:
        """Every value assigned to `name` by a plain assignment before `line` (`BodyIndex.bindings`)."""
        return self.index.bindings(name, line)

    def parameters(self) -> set[str]:
        return self.index.parameters

    def module_constant(self, name: str) -> bool:
        """An UPPER_CASE name bound at module level (a configured base folder, a fixed URL)."""
        return name.isupper() and name in self.module.constants

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
            return values is not None and all(self.built_from_trusted_parts(v, hops - 1) for v in values)
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
        return self._before(self.index.first_tested_attribute, attributes)

    def calls_before(self, names: set[str]) -> bool:
        return self._before(self.index.first_call, names)

    def checked_before(self, name: str) -> bool:
        """`name` is tested by a membership or equality comparison in an `if` before the line."""
        return self._before(self.index.first_checked_name, {name})

    def _before(self, first_lines: dict[str, int], keys: set[str]) -> bool:
        return any(first_lines.get(key, self.line) < self.line for key in keys)
