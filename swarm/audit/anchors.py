"""Anchor a swarm finding on the operation it is about, before the mitigation gate judges it.

Small auditors often point at the line where untrusted input enters (`host = request.args[...]`)
rather than the command it reaches, or name a neighbouring class (an LDAP filter reported as SQL
injection). Both defeat the mitigation gate, which judges the flagged operation. So, for a swarm
finding whose line performs no operation of its class:

- if the line performs an operation of another audited class, the finding takes that class;
- for a weak primitive (hash, cipher, randomness, secret), if the line uses an object that an
  earlier plain assignment made with a primitive of its class (`encryptor.update(...)` after
  `encryptor = Cipher(algorithms.ARC4(key)).encryptor()`), the finding moves to that assignment;
- else, if a later line of the same function performs an operation of its class, the finding
  moves there (the operation the input flows into);
- else it stays as it is: the code uses an API this module does not know, and the finding is
  reported unchanged.

Bandit's findings are never anchored: its rules already point at the operation.
"""

from __future__ import annotations

import ast
import dataclasses

from swarm_lsp.swarm.audit.findings import CWE_CLASSES, PRIMITIVE_CWES, Finding
from swarm_lsp.swarm.audit.flow_index import Source, end_line
from swarm_lsp.swarm.audit.python_flow import Scope
from swarm_lsp.swarm.audit.sinks import OPERATIONS, operation_classes


def anchor(finding: Finding, text: str | Source) -> tuple[Finding, str | None]:
    """(the finding on its operation, what changed) — (the finding, None) when nothing did."""
    if finding.source != "swarm" or finding.cwe not in OPERATIONS:
        return finding, None
    source = text if isinstance(text, Source) else Source(text)
    if source.module is None:
        return finding, None
    scope = Scope.of(source.module, finding.start_line)
    here = operation_classes(scope)
    if finding.cwe in here:
        return finding, None
    if here:
        cwe = here[0]
        return (_moved(finding, source.lines, finding.start_line, cwe),
                f"the operation on line {finding.start_line} belongs to CWE-{cwe} ({CWE_CLASSES[cwe]}), not CWE-{finding.cwe}")
    made = _primitive_made_on(scope, finding.cwe) if finding.cwe in PRIMITIVE_CWES else None
    if made is not None:
        return (_moved(finding, source.lines, made, finding.cwe),
                f"moved from line {finding.start_line} to line {made}, where the object it uses was made")
    last = len(source.lines) if isinstance(scope.body, ast.Module) else end_line(scope.body)
    for line in range(finding.start_line + 1, last + 1):
        if OPERATIONS[finding.cwe](dataclasses.replace(scope, line=line)):
            return (_moved(finding, source.lines, line, finding.cwe),
                    f"moved from line {finding.start_line} to the operation on line {line}")
    return finding, None


def _primitive_made_on(scope: Scope, cwe: int) -> int | None:
    """The line of the plain assignment, before the scope's line, that made an object the line's
    calls use with an operation of the primitive class `cwe`; None when there is none."""
    for call in scope.calls_on_line():
        used = call.func.value if isinstance(call.func, ast.Attribute) else None
        for name in (n for n in ast.walk(used) if isinstance(n, ast.Name)) if used is not None else ():
            for value in scope.bindings(name.id, scope.line) or ():
                if OPERATIONS[cwe](dataclasses.replace(scope, line=value.lineno)):
                    return value.lineno
    return None


def _moved(finding: Finding, lines: list[str], line: int, cwe: int) -> Finding:
    row = lines[line - 1]
    indent = len(row) - len(row.lstrip())
    message = finding.message if cwe == finding.cwe else f"{CWE_CLASSES[cwe]}: {finding.message}"
    return dataclasses.replace(finding, start_line=line, start_column=indent + 1, end_line=line,
                               end_column=len(row) + 1, snippet=row, cwe=cwe, rule_id=f"swarm-cwe-{cwe}",
                               rule_name=CWE_CLASSES[cwe], message=message)
