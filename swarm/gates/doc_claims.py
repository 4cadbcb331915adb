"""Claims of a Python docstring that the code settles, checked against the code.

The shape gates (python_doc.py) see that every parameter is described; these see whether what is
said is false where the function's own definition decides it:

- a stated default (`Defaults to X.`, `(default: X)`) must be the parameter's default, and a
  parameter without one has none;
- a return value said to be (or include) `None` ("None if ...", "or None") needs a path that
  returns None: a bare `return`, `return None`, or the end of the body reached without one;
- "an error message" (or string) as the return value of a function that raises and never returns
  a string literal is false: it raises instead;
- every exception in Raises must be one the function can be seen to raise (raised_exceptions.py).

A statement these checks cannot decide (a default described in prose, a return in words) passes
here; it is for the executed examples and the reviewers.
"""

from __future__ import annotations

import ast
import re

from swarm_lsp.swarm.codemods.content import DocContent
from swarm_lsp.swarm.gates.raised_exceptions import ANYTHING, own_nodes, raisable
from swarm_lsp.swarm.types import GateResult

GATE_NAME = "claims_match_code"
_Function = ast.FunctionDef | ast.AsyncFunctionDef
_STATED_DEFAULT = re.compile(
    r"(?:\bdefaults?\s*(?:to|is|=|:)\s*|\(\s*default\s*[:=]?\s*)(?P<value>[^,;)\s][^,;)]*?)\s*"
    r"(?=[,;)]|\.(?:\s|$)|$)",  # a "." ends the value only before a space or the end: 0.5 stays whole
    re.IGNORECASE)
# "None" said of the result ("or None", "None if ...", "returns None"), not of an input ("for None",
# "when s is None", "both None"): the word before it decides.
_NONE_RETURN = re.compile(r"(?:^|\b(?:or|returns?|else|otherwise|be)\s+)None\b", re.IGNORECASE)
_ERROR_MESSAGE = re.compile(r"\berror (?:message|string|text)\b", re.IGNORECASE)


def find_function(module: ast.Module, qualname: str) -> tuple[_Function | None, ast.ClassDef | None]:
    """The function or method named `qualname`, and the class it is defined in (None at top level)."""
    scope: list[ast.stmt] = module.body
    found: ast.AST | None = None
    owner: ast.ClassDef | None = None
    for part in qualname.split("."):
        if isinstance(found, ast.ClassDef):
            owner = found
        found = next((node for node in scope if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                   ast.ClassDef)) and node.name == part), None)
        if found is None:
            return None, None
        scope = found.body
    if isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return found, owner
    return None, None


def _defaults(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr | None]:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults: dict[str, ast.expr | None] = {a.arg: None for a in positional}
    for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
        defaults[arg.arg] = default
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults):
        defaults[arg.arg] = kw_default
    return defaults


def _literal(text: str) -> tuple[str, object]:
    """("value", the stated value as a Python value), or ("prose", None) when it is not a literal."""
    cleaned = text.strip().strip("`").strip()
    lowered = {"true": "True", "false": "False", "none": "None"}.get(cleaned.lower(), cleaned)
    try:
        return ("value", ast.literal_eval(lowered))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return ("prose", None)


def _default_reasons(content: DocContent, function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    reasons = []
    defaults = _defaults(function)
    for name, description in content.params.items():
        match = _STATED_DEFAULT.search(description)
        if match is None or name not in defaults:
            continue
        kind, stated = _literal(match.group("value"))
        if kind == "prose":
            continue
        actual = defaults[name]
        if actual is None:
            reasons.append(f"`{name}` has no default, but its description says it defaults to "
                           f"{match.group('value').strip()}.")
            continue
        try:
            value = ast.literal_eval(actual)
        except (ValueError, SyntaxError, TypeError):
            continue  # a computed default: the statement is not settled here
        if value != stated or type(value) is not type(stated):
            reasons.append(f"`{name}` defaults to {ast.unparse(actual)}, not {match.group('value').strip()}.")
    return reasons


def _terminates(statements: list[ast.stmt]) -> bool:
    """Every path through `statements` ends in a return or a raise (conservative: loops do not)."""
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return _terminates(last.body) and _terminates(last.orelse)
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return _terminates(last.body)
    if isinstance(last, ast.Try):
        handlers_end = all(_terminates(h.body) for h in last.handlers)
        return _terminates(last.finalbody) or (
            (_terminates(last.body) or _terminates(last.orelse)) and handlers_end)
    if isinstance(last, ast.While) and isinstance(last.test, ast.Constant) and last.test.value is True:
        return not any(isinstance(node, ast.Break) for node in ast.walk(last))
    return False


def _return_reasons(content: DocContent, function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    nodes = own_nodes(function)
    if any(isinstance(node, (ast.Yield, ast.YieldFrom)) for node in nodes):
        return []  # a generator's "returns" describes what it yields
    returns = [node for node in nodes if isinstance(node, ast.Return)]
    reasons = []
    if content.returns and _NONE_RETURN.search(content.returns):
        none_path = not _terminates(function.body) or any(
            r.value is None or isinstance(r.value, ast.Constant) and r.value.value is None for r in returns)
        if not none_path:
            reasons.append(f"`{function.name}` never returns None (every path returns a value or raises), but the "
                           "description of the return value mentions None.")
    raises = any(isinstance(node, ast.Raise) for node in nodes)
    if content.returns and _ERROR_MESSAGE.search(content.returns) and raises:
        returns_text = any(isinstance(r.value, (ast.Constant, ast.JoinedStr)) and
                           isinstance(getattr(r.value, "value", ""), str) for r in returns)
        if not returns_text:
            reasons.append(f"`{function.name}` raises on bad input and returns no message, but the description of "
                           "the return value says it returns an error message.")
    return reasons


def _raises_reasons(content: DocContent, module: ast.Module, function: _Function,
                    owner: ast.ClassDef | None) -> list[str]:
    if not content.raises:
        return []
    seen = raisable(module, function, owner)
    if ANYTHING in seen:
        return []
    return [f"`{function.name}` is not seen to raise `{name}` (not in its body, nor in a function of this module "
            "it calls): name only the exceptions it raises." for name in content.raises
            if name.rsplit(".", 1)[-1] not in seen]


def doc_claims_gate(original: str, qualname: str, content: DocContent) -> GateResult:
    try:
        module = ast.parse(original)
    except SyntaxError:
        return GateResult(GATE_NAME, True)  # the parse gate says why
    function, owner = find_function(module, qualname)
    if function is None:  # the definition gate says why
        return GateResult(GATE_NAME, True)
    reasons = (_default_reasons(content, function) + _return_reasons(content, function)
               + _raises_reasons(content, module, function, owner))
    return GateResult(GATE_NAME, not reasons, reasons)
