"""Import lines of Python modules, compared by what they bind and merged without duplicates (libcst).

Used wherever generated code brings imports into a user's module: a merged test module, a
refactored definition. `import a, b` and `import a; import b` compare equal; new names go after
the last top-level import (after the docstring and `__future__` imports when there is none).
"""

from __future__ import annotations

from typing import TypeGuard

import libcst as cst
from libcst import matchers
from libcst.helpers import get_full_name_for_node

ImportKey = tuple[str, str, str, str | None]
# What a module's body holds; also every statement of a block (libcst's only kinds of BaseStatement).
ModuleStatement = cst.SimpleStatementLine | cst.BaseCompoundStatement


def from_module(node: cst.ImportFrom) -> str:
    dots = "." * len(node.relative)
    return dots + (get_full_name_for_node(node.module) or "" if node.module else "")


def alias_key(kind: str, module: str, alias: cst.ImportAlias) -> ImportKey:
    asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
    return (kind, module, get_full_name_for_node(alias.name) or "", asname)


def alias_keys(node: cst.Import | cst.ImportFrom) -> list[ImportKey]:
    """One normalised key per imported name: `import a, b` and `import a; import b` compare equal."""
    if isinstance(node, cst.Import):
        return [alias_key("import", "", alias) for alias in node.names]
    module = from_module(node)
    if isinstance(node.names, cst.ImportStar):
        return [("from", module, "*", None)]
    return [alias_key("from", module, alias) for alias in node.names]


def import_keys(module: cst.Module) -> set[ImportKey]:
    """Imports at module level, including inside top-level `if`/`try` blocks, not inside definitions."""
    keys: set[ImportKey] = set()
    for statement in module.body:
        if not isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            for node in matchers.findall(statement, matchers.Import() | matchers.ImportFrom()):
                if isinstance(node, (cst.Import, cst.ImportFrom)):  # what the matcher finds
                    keys.update(alias_keys(node))
    return keys


def is_import_line(statement: cst.CSTNode) -> TypeGuard[cst.SimpleStatementLine]:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def is_future_line(statement: cst.CSTNode) -> bool:
    return is_import_line(statement) and all(
        isinstance(small, cst.ImportFrom) and from_module(small) == "__future__"
        for small in statement.body
    )


def is_docstring(statement: cst.CSTNode) -> bool:
    return matchers.matches(statement, matchers.SimpleStatementLine(
        body=[matchers.Expr(value=matchers.SimpleString() | matchers.ConcatenatedString())]
    ))


def missing_imports(line: cst.SimpleStatementLine, seen: set[ImportKey]) -> cst.SimpleStatementLine | None:
    """`line` reduced to the names not in `seen` (which it then extends); None when nothing is new."""
    kept_statements: list[cst.BaseSmallStatement] = []
    for small in line.body:
        assert isinstance(small, (cst.Import, cst.ImportFrom))
        names = small.names
        if isinstance(names, cst.ImportStar):  # `from m import *`
            new = [key for key in alias_keys(small) if key not in seen]
            seen.update(new)
            if new:
                kept_statements.append(small)
            continue
        aliases: list[cst.ImportAlias] = []
        for alias, key in zip(names, alias_keys(small)):
            if key not in seen:
                seen.add(key)
                aliases.append(alias)
        if len(aliases) == len(names):
            kept_statements.append(small)
        elif aliases:
            aliases[-1] = aliases[-1].with_changes(comma=names[-1].comma)  # keep a trailing comma
            kept_statements.append(small.with_changes(names=aliases))
    if not kept_statements:
        return None
    kept_statements[-1] = kept_statements[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
    return line.with_changes(body=kept_statements, leading_lines=[])


def with_blank_lines(statement: ModuleStatement, count: int) -> ModuleStatement:
    """`statement` preceded by exactly `count` blank lines, keeping its own comment lines."""
    comments = [line for line in statement.leading_lines if line.comment is not None]
    return statement.with_changes(leading_lines=[cst.EmptyLine()] * count + comments)


def insert_imports(body: list[ModuleStatement], lines: list[cst.SimpleStatementLine]) -> None:
    """Insert `lines` after the last top-level import, or at the top (after the docstring)."""
    if not lines:
        return
    futures: list[ModuleStatement] = [line for line in lines if is_future_line(line)]
    others: list[ModuleStatement] = [line for line in lines if not is_future_line(line)]
    start = 1 if body and is_docstring(body[0]) else 0
    while start < len(body) and is_future_line(body[start]):
        start += 1
    for group in (futures, others):
        if not group:
            continue
        last_import = max((index for index, statement in enumerate(body) if is_import_line(statement)), default=None)
        if group is futures or last_import is None:
            index = start
            if index > 0 and not is_import_line(body[index - 1]):
                group = [with_blank_lines(group[0], 1), *group[1:]]
            if index < len(body) and not is_import_line(body[index]):
                follower = body[index]
                if not any(line.comment is None for line in follower.leading_lines):
                    blanks = 2 if isinstance(follower, (cst.FunctionDef, cst.ClassDef)) else 1
                    body[index] = with_blank_lines(follower, blanks)
        else:
            index = last_import + 1
        body[index:index] = group
