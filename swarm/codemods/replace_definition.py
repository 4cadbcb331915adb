"""Replace one definition with a rewritten one (the refactor action), via libcst.

The writer's code holds the new definition of the target (for a method: the `def`, or its class
wrapping it) and may add helper functions and imports. Helpers go just before the target's
top-level statement, missing imports after the last import; nothing else in the file changes.
`signature_changes` and `changes_outside` are the gates that hold the rewrite to that.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from swarm_lsp.swarm.codemods.imports import import_keys, insert_imports, is_import_line, missing_imports
from swarm_lsp.swarm.codemods.py_docstring import ReplaceNode, find_definition
from swarm_lsp.swarm.errors import SwarmLspError

Definition = cst.FunctionDef | cst.ClassDef
_EMPTY = cst.Module(body=[])


class ReplacementError(SwarmLspError, ValueError):
    """The writer's code cannot replace the target; the message is feedback for the writer."""


@dataclass(frozen=True)
class Replacement:
    text: str  # the whole new file
    new_definition: Definition
    old_definition: Definition
    helpers: list[str]
    imports: list[str]
    line: int  # the 1-based line that picked the target among same-named definitions


def _named(statements, name: str) -> Definition | None:
    return next((s for s in statements if isinstance(s, (cst.FunctionDef, cst.ClassDef)) and s.name.value == name), None)


def _new_definition(module: cst.Module, qualname: str) -> tuple[Definition, list[Definition]]:
    """The target's new definition in the writer's module, and the module's other definitions."""
    parts = qualname.split(".")
    name = parts[-1]
    top = _named(module.body, name)
    owner = _named(module.body, parts[-2]) if len(parts) > 1 else None
    if top is None and isinstance(owner, cst.ClassDef):  # the method, inside its class
        top = _named(owner.body.body, name)
    if top is None:
        raise ReplacementError(f"the code does not define `{name}`: write the complete new `def {name}(...)`")
    others = [s for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef)) and s is not top and s is not owner]
    return top, others


def replace_definition(original: str, qualname: str, line: int, code: str) -> Replacement:
    try:
        written = cst.parse_module(code)
    except cst.ParserSyntaxError as error:
        raise ReplacementError(f"the code does not parse: {str(error).splitlines()[0]}") from None
    module = cst.parse_module(original)
    old = find_definition(module, qualname, line)
    new, helpers = _new_definition(written, qualname)
    new = new.with_changes(leading_lines=old.leading_lines)
    defined = {s.name.value for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    clashes = sorted(h.name.value for h in helpers if h.name.value in defined)
    if clashes:
        raise ReplacementError(f"helper(s) {', '.join(clashes)} would replace existing definitions: choose new names")
    seen = import_keys(module)
    new_imports = [reduced for s in written.body if is_import_line(s) and (reduced := missing_imports(s, seen))]

    body = list(module.body)
    anchor = next(i for i, s in enumerate(body) if s is old or _contains(s, old))
    replaced = body[anchor].visit(ReplaceNode(old, new))
    assert isinstance(replaced, (cst.SimpleStatementLine, cst.BaseCompoundStatement))  # ReplaceNode removes nothing
    spaced = [h.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]) for h in helpers]
    if spaced and anchor == 0:
        spaced[0] = spaced[0].with_changes(leading_lines=[])
    body[anchor:anchor + 1] = [*spaced, replaced.with_changes(leading_lines=(
        [cst.EmptyLine(), cst.EmptyLine()] if spaced else replaced.leading_lines))]
    insert_imports(body, new_imports)
    text = module.with_changes(body=body).code
    return Replacement(text, new, old, [h.name.value for h in helpers],
                       [_EMPTY.code_for_node(statement).strip() for statement in new_imports], line)


def _contains(statement: cst.CSTNode, node: cst.CSTNode) -> bool:
    found = []

    class Finder(cst.CSTVisitor):
        def on_visit(self, visited: cst.CSTNode) -> bool:
            if visited is node:
                found.append(visited)
            return not found

    statement.visit(Finder())
    return bool(found)


def _parameters(node: Definition) -> list[tuple[str, str, str]]:
    """(kind, name, default) of each parameter; annotations may change (e.g. modernised types)."""
    if not isinstance(node, cst.FunctionDef):
        return []
    params = node.params
    groups = [("positional-only", params.posonly_params), ("positional", params.params),
              ("keyword-only", params.kwonly_params)]
    result = [(kind, p.name.value, _EMPTY.code_for_node(p.default) if p.default else "")
              for kind, group in groups for p in group]
    if isinstance(params.star_arg, cst.Param):
        result.append(("*args", params.star_arg.name.value, ""))
    if params.star_kwarg is not None:
        result.append(("**kwargs", params.star_kwarg.name.value, ""))
    return result


def signature_changes(old: Definition, new: Definition) -> list[str]:
    """What differs in the public signature: name, parameters, decorators, async-ness, bases."""
    changes = []
    if old.name.value != new.name.value:
        changes.append(f"the name changed from {old.name.value} to {new.name.value}")
    if _parameters(old) != _parameters(new):
        changes.append(f"the parameters changed from ({_show(_parameters(old))}) to ({_show(_parameters(new))})")
    decorators = [_EMPTY.code_for_node(d.decorator) for d in old.decorators]
    if decorators != [_EMPTY.code_for_node(d.decorator) for d in new.decorators]:
        changes.append(f"the decorators changed (were: {', '.join(decorators) or 'none'})")
    if isinstance(old, cst.FunctionDef) and isinstance(new, cst.FunctionDef) and bool(old.asynchronous) != bool(new.asynchronous):
        changes.append("async-ness changed")
    if type(old) is not type(new):
        changes.append("a class became a function or the reverse")
    return changes


def _show(parameters: list[tuple[str, str, str]]) -> str:
    return ", ".join(name + (f"={default}" if default else "") for _, name, default in parameters)


def changes_outside(original: str, replacement: Replacement, qualname: str) -> list[str]:
    """Differences between the two files once the target, the added helpers and the added imports
    are taken out of them: anything listed here is an edit outside what a refactor may touch."""
    before = cst.parse_module(original)
    old = find_definition(before, qualname, replacement.line)
    after = cst.parse_module(replacement.text)
    new = find_definition(after, qualname)
    extra = {id(s) for s in after.body
             if (isinstance(s, (cst.FunctionDef, cst.ClassDef)) and s.name.value in replacement.helpers)
             or (is_import_line(s) and _EMPTY.code_for_node(s).strip() in replacement.imports)}
    left = _statements(before.visit(_Remove({id(old)})))
    right = _statements(after.visit(_Remove({id(new), *extra})))
    if left == right:
        return []
    changed = [code.splitlines()[0] for code in right if code not in left][:3]
    return ["code outside the target changed: " + ("; ".join(changed) or "statements were removed")]


def _statements(module: cst.Module) -> list[str]:
    return [_EMPTY.code_for_node(statement).strip() for statement in module.body]


class _Remove(cst.CSTTransformer):
    def __init__(self, targets: set[int]) -> None:
        self.targets = targets

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # noqa: ANN201
        return cst.RemovalSentinel.REMOVE if id(original_node) in self.targets else updated_node
