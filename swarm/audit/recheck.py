"""Is an audit finding gone from rewritten code? The gate of a refactor aimed at a finding (the
editor's quick fix): a candidate that keeps the flaw is rejected, with where it still is.

A bandit finding is re-checked by running bandit on the new module (behind the same gates as the
audit); a swarm finding by the operations of its class in the rewritten code, each of which must
now be in a recognised mitigated form (`mitigations`). Only the target and the helpers the
rewrite added are looked at: the same flaw elsewhere in the file is not this fix's business.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from swarm_lsp.swarm.audit.findings import CWE_CLASSES
from swarm_lsp.swarm.audit.flow_index import Source, end_line
from swarm_lsp.swarm.audit.mitigations import mitigation
from swarm_lsp.swarm.audit.pipeline import deterministic_pass
from swarm_lsp.swarm.audit.python_flow import Scope
from swarm_lsp.swarm.audit.sinks import OPERATIONS


@dataclass(frozen=True)
class FindingToFix:
    rule_id: str  # "B602" or "swarm-cwe-78"
    cwe: int
    line: int  # where it was reported, for the writer's instruction

    @classmethod
    def from_option(cls, value: Any) -> "FindingToFix":
        """From a request's `fixes` option: {"rule": "B602", "cwe": 78, "line": 8}; ValueError if malformed."""
        if not isinstance(value, dict):
            raise ValueError("fixes must be an object with rule, cwe and line")
        rule, cwe, line = value.get("rule"), value.get("cwe"), value.get("line")
        if not isinstance(rule, str) or not rule or not isinstance(cwe, int) or not isinstance(line, int):
            raise ValueError(f"fixes must name a rule (text), a cwe (integer) and a line (integer), got {value!r}")
        return cls(rule, cwe, line)

    @property
    def from_bandit(self) -> bool:
        return not self.rule_id.startswith("swarm-")


def lines_of_definitions(text: str, names: list[str]) -> set[int]:
    """The lines of the functions, methods or classes whose qualified names are in `names`."""
    lines: set[int] = set()

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if name in names:
                    lines.update(range(child.lineno, end_line(child) + 1))
                visit(child, name + ".")

    visit(ast.parse(text), "")
    return lines


def still_present(fix: FindingToFix, path: str, text: str, names: list[str]) -> list[str]:
    """Where the finding's flaw remains in the definitions `names` of `text`; [] when it is gone."""
    lines = lines_of_definitions(text, names)
    source = Source(text)
    rows = source.lines
    if fix.from_bandit:
        kept = deterministic_pass(path, text).kept
        return [f"bandit {f.rule_id} still reports line {f.start_line}: {f.message} (`{rows[f.start_line - 1].strip()}`)"
                for f in kept if f.rule_id == fix.rule_id and f.start_line in lines]
    holds = OPERATIONS.get(fix.cwe)
    if holds is None or source.module is None:
        return []  # a class without recognised operations: the behaviour gates decide alone
    remaining = []
    for line in sorted(lines):
        if holds(Scope.of(source.module, line)) and mitigation(source, line, fix.cwe) is None:
            remaining.append(f"line {line} still performs an operation open to {CWE_CLASSES[fix.cwe]} without a "
                             f"recognised mitigation: `{rows[line - 1].strip()}`")
    return remaining
