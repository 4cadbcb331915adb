"""Literals for a differential check: the constants a function compares with, literal defaults, and
Python source that rebuilds a plain value in the sandbox's child."""

from __future__ import annotations

import ast
import math
from typing import Any

NO_DEFAULT, UNKNOWN = object(), object()


def literal_default(node: Any) -> Any:
    if node is NO_DEFAULT or node is None:
        return NO_DEFAULT
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return UNKNOWN



def module_constants(tree: ast.Module) -> dict[str, Any]:
    """Top-level `NAME = literal` assignments of a module: the constants its functions compare with."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = literal_default(node.value)
            if type(value) in (int, float, str, bytes):
                found[node.targets[0].id] = value
    return found



def code_constants(definition: ast.AST, named: dict[str, Any] | None = None) -> list[Any]:
    """Numbers and strings written in the function's body (its docstring left out), and the values of
    the module constants it names, in order."""
    body = getattr(definition, "body", [])
    skip = body[0].value if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else None
    seen: list[Any] = []
    for node in ast.walk(definition):
        if isinstance(node, ast.Constant) and node is not skip and type(node.value) in (int, float, str, bytes):
            if node.value not in seen and not (isinstance(node.value, str) and len(node.value) > 40):
                seen.append(node.value)
        elif isinstance(node, ast.Name) and named and node.id in named and named[node.id] not in seen:
            seen.append(named[node.id])
    return seen



def to_source(value: Any) -> str | None:
    """Python source that evaluates to `value` (a plain literal), or None."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return f"float({str(value)!r})"
    if type(value) in (bool, int, float, str, bytes, type(None)):
        return repr(value)
    if type(value) in (list, tuple, set, frozenset):
        parts = [to_source(item) for item in value]
        if any(part is None for part in parts):
            return None
        inner = ", ".join(parts)  # type: ignore[arg-type]
        if type(value) is list:
            return f"[{inner}]"
        if type(value) is tuple:
            return f"({inner}{',' if len(parts) == 1 else ''})"
        return f"{type(value).__name__}([{inner}])"
    if type(value) is dict:
        items = [(to_source(k), to_source(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in items):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    return None
