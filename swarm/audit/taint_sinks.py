"""The values a line hands to an operation of an input-driven class: what the flow pass (`taint`)
asks "may this carry request input?" about. The operations are those of `sinks.py`; here, for each,
which argument is the dangerous one (the query, the command, the path, the URL, the target)."""

from __future__ import annotations

import ast

from swarm_lsp.swarm.audit.python_flow import Scope, call_name, dotted, is_true, keyword
from swarm_lsp.swarm.audit.sinks import (
    COMMAND_ROOTS, FILE_ACCESS, LIST_RUNNERS, REDIRECT_SINKS, REQUEST_ROOTS, SHELL_RUNNERS, STRING_MARKERS,
    STRING_SINKS,
)

# (CWE, the value passed, the operation as code, whether only text interpolated into a marked
# query string counts: a sink name too common to mean its class alone, `re.search`, `str.find`)
Sink = tuple[int, ast.expr, str, bool]
URL_KEYWORDS = ("url", "location", "redirect_to")
# Methods whose receiver is the path (`Path(name).read_text()`, `target.write_text(data)`).
PATH_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes", "open", "unlink", "rmdir", "iterdir"}
COMMON_NAMES = {"search", "find", "findall", "findtext", "iterfind", "evaluate", "text", "extra", "raw"}


def sink_values(scope: Scope) -> list[Sink]:
    found: list[Sink] = []
    for call in scope.calls_on_line():
        found += _call_sinks(scope, call)
    statement = scope.statement()
    if isinstance(statement, ast.Return) and statement.value is not None and _markup_built(statement.value):
        found.append((79, statement.value, "the markup the function returns", False))
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Subscript) and "session" in ast.unparse(target.value):
                found.append((501, statement.value, ast.unparse(target), False))
    return found


def _call_sinks(scope: Scope, call: ast.Call) -> list[Sink]:
    name, shown = call_name(call), _shown(call)
    found: list[Sink] = []
    for cwe, (positions, keywords) in STRING_SINKS.items():
        if name in positions:
            value = next((v for k in keywords if (v := keyword(call, k)) is not None), None)
            if value is None and len(call.args) > positions[name]:
                value = call.args[positions[name]]
            if value is not None and (cwe != 79 or name != "write" or _markup_built(value)):
                found.append((cwe, value, shown, name in COMMON_NAMES))
    qualified = scope.qualified(call)
    if qualified.startswith(COMMAND_ROOTS) and call.args:
        first = call.args[0]
        listed = isinstance(first, (ast.List, ast.Tuple))
        if name in SHELL_RUNNERS or (name in LIST_RUNNERS and (is_true(keyword(call, "shell")) or not listed)):
            found.append((78, first, shown, False))
        elif isinstance(first, (ast.List, ast.Tuple)) and first.elts:
            found.append((78, first.elts[0], shown, False))  # the program itself; its arguments are data
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if name in PATH_METHODS and receiver is not None and not _is_module(scope, receiver):
        found.append((22, receiver, shown, False))
    elif name in FILE_ACCESS and call.args:
        found.append((22, call.args[0], shown, False))
    if qualified.startswith(REQUEST_ROOTS) or name in {"urlopen", "urlretrieve"}:
        value = call.args[0] if call.args else next((v for k in URL_KEYWORDS if (v := keyword(call, k))), None)
        if value is not None:
            found.append((918, value, shown, False))
    if name in REDIRECT_SINKS:
        value = call.args[0] if call.args else next((v for k in URL_KEYWORDS if (v := keyword(call, k))), None)
        if value is not None:
            found.append((601, value, shown, False))
    return found


def _markup_built(value: ast.expr) -> bool:
    """An f-string, concatenation or format whose constant text is markup."""
    if not isinstance(value, (ast.JoinedStr, ast.BinOp, ast.Call)):
        return False
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and STRING_MARKERS[79].search(n.value)
               for n in ast.walk(value))


def _is_module(scope: Scope, node: ast.expr) -> bool:
    """`os` in `os.unlink(path)`: an imported name, not a path object."""
    return isinstance(node, (ast.Name, ast.Attribute)) and dotted(node).split(".")[0] in scope.imports


def interpolated_parts(scope: Scope, value: ast.expr, cwe: int, line: int, hops: int = 4) -> list[ast.expr]:
    """What is interpolated into the strings marked as a query, filter or path expression of `cwe`
    (`name` in f"SELECT * FROM t WHERE name = '{name}'") that `value` is built from, through plain
    assignments."""
    parts: list[ast.expr] = []
    stack = [(value, line, hops)]
    while stack:
        node, at, left = stack.pop()
        if isinstance(node, ast.Name) and left > 0:
            stack += [(bound, bound.lineno, left - 1) for bound in scope.bindings(node.id, at) or ()]
        elif _marked(node, cwe):
            parts += _interpolated(node)
    return parts


def _marked(node: ast.expr, cwe: int) -> bool:
    built = isinstance(node, (ast.JoinedStr, ast.BinOp)) or (isinstance(node, ast.Call) and call_name(node) == "format")
    if not built:
        return False
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and STRING_MARKERS[cwe].search(n.value)
               for n in ast.walk(node))


def _interpolated(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return list(node.right.elts) if isinstance(node.right, ast.Tuple) else [node.right]
    if isinstance(node, ast.BinOp):
        return [part for side in (node.left, node.right) if not isinstance(side, ast.Constant)
                for part in (_interpolated(side) if isinstance(side, (ast.BinOp, ast.JoinedStr)) else [side])]
    if isinstance(node, ast.Call):
        return [*node.args, *(k.value for k in node.keywords)]
    return []


def _shown(call: ast.Call) -> str:
    text = ast.unparse(call.func)
    return f"{text}(...)"
