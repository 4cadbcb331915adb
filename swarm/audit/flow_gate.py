"""The flow gate: a swarm finding must show its flow (issue 16, step 5).

After anchoring (`anchors`), a swarm finding of an audited class is dropped, with the reason, when
- its line performs no operation of its class: there is none in the function, so the claim is
  about nothing there (small auditors report SQL injection on `cur = db.cursor()`). For the
  classes where the primitive is the weakness (hash, cipher, randomness, hard-coded secret) this
  is their own rule: the primitive must be on the line;
- the untrusted input the auditor named reaches none of the line's calls or its statement's value:
  the names those arguments are built from are followed back through plain assignments (a few
  hops), and the input's first name must be among them, or be a key read on the way
  (`url` for `user_url = request.args.get("url")`: small auditors name the request's field).
Anything the gate cannot follow keeps the finding: an input written as prose, a name bound by a
loop, `with`, unpacking or an augmented assignment, a flow through a call it does not know.
Bandit's findings are not judged here: its rules already point at the operation.
"""

from __future__ import annotations

import ast
import re

from swarm_lsp.swarm.audit.findings import CWE_CLASSES, PRIMITIVE_CWES, Finding
from swarm_lsp.swarm.audit.flow_index import Source
from swarm_lsp.swarm.audit.python_flow import MAX_HOPS, Scope
from swarm_lsp.swarm.audit.sinks import OPERATIONS

CODE_LIKE = re.compile(r"^[A-Za-z_][\w.]*(\(.*\)|\[.*\])*[\w.\]\)'\"]*$")


def flow_problem(finding: Finding, source: Source) -> str | None:
    """Why the (anchored) swarm finding shows no flow, or None when it does or cannot be judged."""
    if finding.source != "swarm" or finding.cwe not in OPERATIONS or source.module is None:
        return None
    scope = Scope.of(source.module, finding.start_line)
    if not OPERATIONS[finding.cwe](scope):
        where = "on the line" if finding.cwe in PRIMITIVE_CWES else "on the line or after it in the function"
        return f"no {CWE_CLASSES[finding.cwe]} operation (CWE-{finding.cwe}) {where}"
    root = input_root(finding.input)
    if not root or finding.cwe in PRIMITIVE_CWES:
        return None
    reached = reaching_names(scope)
    if reached is None or root in reached:
        return None
    return f"the input the auditor named, `{finding.input}`, does not reach line {finding.start_line}"


def input_root(text: str) -> str:
    """The first name of an input written as code (`request` for `request.args['q']`); "" for prose."""
    text = text.strip().strip("`")
    if not text or not CODE_LIKE.match(text):
        return ""
    return re.match(r"[A-Za-z_]\w*", text).group(0)  # type: ignore[union-attr]


def reaching_names(scope: Scope) -> set[str] | None:
    """Every name the line's call arguments and statement value are built from, followed back
    through plain assignments, and the string keys read on the way (`"url"` of `.get("url")`); None
    when one of the names is bound in a way the gate cannot follow."""
    roots: list[ast.AST] = [arg for call in scope.calls_on_line()
                            for arg in [call.func, *call.args, *(k.value for k in call.keywords)]]
    statement = scope.statement()
    value = getattr(statement, "value", None)
    if isinstance(value, ast.AST):
        roots.append(value)
    found: set[str] = set()
    for root in roots:
        if not _collect(scope, root, scope.line, MAX_HOPS * 2, found):
            return None
    read = roots + [value for name in found for value in _values(scope, name)]
    keys = {node.value for value in read for node in ast.walk(value)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    return found | {key for key in keys if key.isidentifier()}


def _values(scope: Scope, name: str) -> list[ast.expr]:
    """The values assigned to `name` before the scope's line, for the keys they read."""
    index = scope.index
    if name not in index.assignments:
        return []
    return scope.bindings(name, scope.line) or []


def _collect(scope: Scope, node: ast.AST, line: int, hops: int, found: set[str]) -> bool:
    for name in (n for n in ast.walk(node) if isinstance(n, ast.Name)):
        if name.id in found:
            continue
        found.add(name.id)
        if name.id in scope.parameters() or name.id in scope.imports or scope.module_constant(name.id):
            continue
        index = scope.index
        if name.id not in index.assignments and name.id not in index.other_binding:
            continue  # never bound in the function: a global or a builtin, where no input comes from
        values = scope.bindings(name.id, line)
        if values is None:
            return False  # bound otherwise (loop target, with, unpacking...): not followed
        if hops <= 0:
            return False
        for value in values:
            if not _collect(scope, value, value.lineno, hops - 1, found):
                return False
    return True
