"""Which exceptions a Python function can be seen to raise, from its module alone.

Seen: a `raise X` / `raise X(...)` in its body; the same in functions of the module it calls by
name (`helper(...)`, and `self.method(...)` / `cls.method(...)` of its own class), followed
transitively; a bare `raise` re-raises what its `except` clause catches (anything, for a bare
`except:`); and the bases, defined in the module, of each class raised (`raise OptionError` where
`class OptionError(ValueError)` also raises a ValueError). Not seen: what builtins and other
modules raise. Names are compared by their last dotted part.
"""

from __future__ import annotations

import ast

ANYTHING = "*"  # a bare re-raise of a bare `except:` can raise anything
_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _last(node: ast.expr) -> str:
    return ast.unparse(node).rsplit(".", 1)[-1]


def own_nodes(function: _Function) -> list[ast.AST]:
    """The function's nodes, not those of functions and classes nested in it."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _caught(handler: ast.ExceptHandler) -> set[str]:
    if handler.type is None:
        return {ANYTHING}
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return {_last(t) for t in types}


def _direct(function: _Function) -> tuple[set[str], list[str]]:
    """(exception names raised in the body, names of the functions and methods it calls)."""
    raised: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.ExceptHandler):
            if any(isinstance(inner, ast.Raise) and inner.exc is None for inner in ast.walk(node)):
                raised |= _caught(node)
    called = []
    for node in own_nodes(function):
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised.add(_last(node.exc.func if isinstance(node.exc, ast.Call) else node.exc))
        elif isinstance(node, ast.Call):
            target = node.func
            if isinstance(target, ast.Name):
                called.append(target.id)
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and \
                    target.value.id in ("self", "cls"):
                called.append(target.attr)
    return raised, called


def raisable(module: ast.Module, function: _Function, owner: ast.ClassDef | None = None) -> set[str]:
    """The exception names `function` can be seen to raise (ANYTHING among them when unbounded)."""
    functions = {node.name: node for node in module.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    methods = {node.name: node for node in (owner.body if owner else [])
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    classes = {node.name: node for node in ast.walk(module) if isinstance(node, ast.ClassDef)}
    raised: set[str] = set()
    seen: set[int] = set()
    pending = [function]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        direct, called = _direct(current)
        raised |= direct
        pending += [methods.get(name) or functions[name] for name in called if name in methods or name in functions]
    bases = set(raised)
    frontier = list(raised)
    while frontier:
        defined = classes.get(frontier.pop())
        for base in defined.bases if defined else []:
            name = _last(base)
            if name not in bases:
                bases.add(name)
                frontier.append(name)
    return bases
