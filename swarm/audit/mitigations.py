"""The mitigation gate: a deterministic check that the operation an audit finding points at is in
a recognisably mitigated form, so the finding is a false positive (issue 7: "a sanitised flow must
not be reported").

It recognises the standard fixes, never the flaws: a parameterised query or a query built from
constants only, an argument list without a shell, a path resolved and checked against its base, a
host or redirect target checked before use, escaped interpolations, a value validated before it
crosses into the session, data-only loaders, strong hashes and authenticated ciphers, the secrets
module, secrets read at run time, entity resolution off. Anything it cannot read is kept: it
answers None unless the code shows the mitigation. Used for bandit's findings and the swarm's.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, Callable

from swarm_lsp.swarm.audit.anchors import anchor
from swarm_lsp.swarm.audit.findings import Finding, located
from swarm_lsp.swarm.audit.flow_gate import flow_problem
from swarm_lsp.swarm.audit.flow_index import Source
from swarm_lsp.swarm.audit.python_flow import Scope, call_name, is_constant_text, is_true, keyword
from swarm_lsp.swarm.audit.sinks import (
    LIST_RUNNERS, PATH_SINKS, REDIRECT_SINKS, REQUEST_SINKS, SECRET_SOURCES, SHELL_RUNNERS, STRING_SINKS, insecure_random,
    safe_loader, secure_random, strong_cipher, strong_hash, unsafe_loader, weak_cipher, weak_hash, writes_session, xml_safe,
    xml_unsafe,
)

if TYPE_CHECKING:
    from swarm_lsp.swarm.cancel import CancelToken

Rule = Callable[[Scope], "str | None"]

INJECTION_WHY = {
    89: "the query is built from constants only; values are passed as parameters or escaped",
    643: "the XPath expression is built from constants only; values are passed as variables or escaped",
    90: "every value in the search filter is escaped",
    79: "every value interpolated into the markup is escaped",
}


def mitigation(text: str | Source, line: int, cwe: int) -> str | None:
    """Why the operation at `line` (1-based) is mitigated against `cwe`, or None when the code does not show it."""
    rule = RULES.get(cwe)
    if rule is None:
        return None
    module = (text if isinstance(text, Source) else Source(text)).module
    return rule(Scope.of(module, line)) if module is not None else None


def _injection(cwe: int) -> Rule:
    """A query, filter or markup string is only injectable when untrusted text is interpolated into
    it: mitigated when every string reaching a sink on the line, or built on it, has trusted parts."""
    positions, keywords = STRING_SINKS[cwe]

    def rule(scope: Scope) -> str | None:
        values = []
        for call in scope.calls_on_line():
            position = positions.get(call_name(call))
            if position is None:
                continue
            value = next((v for k in keywords if (v := keyword(call, k)) is not None), None)
            value = value if value is not None else (call.args[position] if len(call.args) > position else None)
            if isinstance(value, ast.Call) and call_name(value) in positions and value.args:
                continue  # a nested sink (execute(text(...))) is judged on its own
            values.append(value)
        statement = scope.statement()
        built = getattr(statement, "value", None) if isinstance(statement, (ast.Assign, ast.Return)) else None
        if is_constant_text(built) or isinstance(built, (ast.JoinedStr, ast.BinOp)) or (
                isinstance(built, ast.Call) and call_name(built) == "format"):
            values.append(built)
        if values and all(v is not None and scope.built_from_trusted_parts(v) for v in values):
            return INJECTION_WHY[cwe]
        return None
    return rule


def _command(scope: Scope) -> str | None:
    runners = [c for c in scope.calls_on_line() if call_name(c) in LIST_RUNNERS | SHELL_RUNNERS
               | {"create_subprocess_exec"}]
    if not runners:
        return None
    for call in runners:
        name, first = call_name(call), scope.resolve(call.args[0]) if call.args else None
        if name == "create_subprocess_exec" and first is not None and scope.built_from_trusted_parts(first):
            continue
        if name in LIST_RUNNERS and not is_true(keyword(call, "shell")) and isinstance(first, (ast.List, ast.Tuple)) \
                and first.elts and scope.built_from_trusted_parts(first.elts[0]):
            continue
        if first is not None and scope.built_from_trusted_parts(first):
            continue
        return None
    return "the program is fixed and its arguments are a list, without a shell (or only quoted values reach the shell)"


def _path(scope: Scope) -> str | None:
    sinks = [c for c in scope.calls_on_line() if call_name(c) in PATH_SINKS | {"send_from_directory", "safe_join"}]
    if not sinks:
        return None
    if all(call_name(c) in ("send_from_directory", "safe_join") for c in sinks):
        return "the file is served through a helper that refuses paths outside its folder"
    if scope.calls_before({"realpath", "abspath", "resolve", "normpath"}) and (
            scope.calls_before({"commonpath", "is_relative_to", "relative_to", "startswith"})):
        return "the path is resolved and checked to stay inside its base before use"
    if all(c.args and _path_parts_trusted(scope, c.args[0]) for c in sinks):
        return "the path is made of constants and sanitised names only"
    return None


def _path_parts_trusted(scope: Scope, node: ast.expr) -> bool:
    node = scope.resolve(node)
    if isinstance(node, ast.Call) and call_name(node) in ("join", "Path", "PurePath"):
        return all(_path_parts_trusted(scope, part) for part in node.args)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _path_parts_trusted(scope, node.left) and _path_parts_trusted(scope, node.right)
    return scope.built_from_trusted_parts(node)


def _checked_target(sinks: set[str], attributes: set[str], helpers: set[str], what: str) -> Rule:
    def rule(scope: Scope) -> str | None:
        calls = [c for c in scope.calls_on_line() if call_name(c) in sinks]
        if not calls:
            return None
        if all(c.args and scope.built_from_trusted_parts(c.args[0]) for c in calls):
            return f"the {what} is fixed, not taken from input"
        if scope.tests_attribute(attributes) or scope.calls_before(helpers):
            return f"the {what} is checked against an allow-list before use"
        return None
    return rule


def _session_write(scope: Scope) -> str | None:
    statement = scope.statement()
    if not isinstance(statement, ast.Assign) or not writes_session(scope):
        return None
    value = statement.value
    if isinstance(value, ast.Constant) or (isinstance(value, ast.Name) and scope.checked_before(value.id)):
        return "the value is validated before it is stored in the session"
    return None


Predicate = Callable[[Scope, ast.Call], bool]


def _primitives(unsafe: Predicate, safe: Predicate, why: str) -> Rule:
    """For weaknesses that are the primitive itself: mitigated when the line uses only strong ones."""
    def rule(scope: Scope) -> str | None:
        calls = scope.calls_on_line()
        if any(unsafe(scope, c) for c in calls) or not any(safe(scope, c) for c in calls):
            return None
        return why
    return rule


def _secret(scope: Scope) -> str | None:
    statement = scope.statement()
    value = getattr(statement, "value", None)
    if not isinstance(value, (ast.Call, ast.Subscript)) or not SECRET_SOURCES.search(ast.unparse(value)):
        return None
    lookup_keys = {id(value.slice)} if isinstance(value, ast.Subscript) else {id(value.args[0])} if value.args else set()
    if any(is_constant_text(n) and n.value and id(n) not in lookup_keys for n in ast.walk(value)):
        return None  # a hard-coded fallback: os.environ.get("KEY", "the-secret")
    return "the secret is read at run time, not written in the code"


RULES: dict[int, Rule] = {
    89: _injection(89), 643: _injection(643), 90: _injection(90), 79: _injection(79), 78: _command,
    22: _path, 501: _session_write,
    918: _checked_target(REQUEST_SINKS, {"hostname", "netloc", "host"}, set(), "URL's host"),
    601: _checked_target(REDIRECT_SINKS, {"netloc", "scheme", "hostname"},
                         {"url_has_allowed_host_and_scheme", "is_safe_url"}, "redirect target"),
    502: _primitives(unsafe_loader, safe_loader, "the data is parsed with a data-only loader"),
    328: _primitives(weak_hash, strong_hash, "the hash is a strong or password-hashing algorithm"),
    327: _primitives(weak_cipher, strong_cipher, "the cipher is an authenticated one"),
    338: _primitives(insecure_random, secure_random, "the random values come from the operating system's secure source"),
    611: _primitives(xml_unsafe, xml_safe, "the XML parser does not resolve external entities"),
    798: _secret,
}


# Bandit rules whose concern is not the flow a mitigation rule judges: B607 is about a partial
# executable path (PATH hijacking), which an argument list does not fix.
UNJUDGED_RULES = frozenset({"B607"})


def without_mitigated(findings: list[Finding], text: str | Source,
                      cancel: CancelToken | None = None) -> tuple[list[Finding], list[dict[str, Any]]]:
    """(the findings the gate keeps, the dropped ones with why) for the Python source `text`.
    Swarm findings are first anchored on the operation they are about (`anchors`), then must show
    their flow (`flow_gate`: an operation of their class there, reached by the input they name)."""
    source = text if isinstance(text, Source) else Source(text)
    kept, dropped = [], []
    for finding in findings:
        if cancel is not None:
            cancel.raise_if_cancelled()
        finding, moved = anchor(finding, source)
        if (no_flow := flow_problem(finding, source)) is not None:
            dropped.append({"finding": finding.to_dict(), "reason": f"no flow: {no_flow}" + (f" ({moved})" if moved else "")})
            continue
        reason = None if finding.rule_id in UNJUDGED_RULES else mitigation(source, finding.start_line, finding.cwe)
        if reason is None:
            kept.append(finding)
        else:
            dropped.append({"finding": finding.to_dict(),
                            "reason": f"mitigated: {reason}" + (f" ({moved})" if moved else "")})
    return kept, dropped


def gate_findings(findings: list[Finding], text: str | Source,
                  cancel: CancelToken | None = None) -> tuple[list[Finding], list[dict[str, Any]]]:
    """The location gate, then the mitigation gate: (kept, dropped with why). The text is split and
    parsed once for all the findings (`flow_index.Source`)."""
    source = text if isinstance(text, Source) else Source(text)
    kept, dropped = [], []
    for finding in findings:
        problem = located(finding, source.lines)
        if problem is None:
            kept.append(finding)
        else:
            dropped.append({"finding": finding.to_dict(), "reason": f"not located: {problem}"})
    kept, mitigated = without_mitigated(kept, source, cancel)
    return kept, dropped + mitigated
