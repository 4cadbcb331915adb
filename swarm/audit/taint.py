"""Flow findings: web request input that reaches an operation unmitigated, found from the code.

Bandit judges one call at a time, so the classes that are a flow (server-side request forgery,
open redirect, path traversal, markup, LDAP and XPath filters, session writes) it mostly cannot
see. This pass follows, inside one function, what a web request carries:

- sources: reads of a request object (`request.args`, `request.form.get(...)`, `request.GET`,
  `request.headers`..., `request` imported from a web framework or a parameter of that name),
  `self.path`/`self.headers` in an `http.server` handler, and the parameters of a route handler
  (a function decorated with `@app.route`, `@router.get`...);
- propagation through plain assignments, f-strings, concatenation and formatting, subscripts and
  attributes, methods called on a carrying value (`name.strip()`), and the calls that only reshape
  text, paths and URLs (`os.path.join`, `urlparse`, `parse_qs`...). Any other call stops the flow,
  as does a sanitiser (`escape`, `int`, `secure_filename`...) or an allow-list check of the name
  (`if name in ALLOWED`) before the operation: the pass errs on the side of silence, since every
  finding it reports is a claim the code shows;
- sinks: the argument of an operation of each class that carries the input (`sinks.py`), judged by
  the mitigation gate (`mitigations.py`) exactly as bandit's and the swarm's findings are.
"""

from __future__ import annotations

import ast

from swarm_lsp.swarm.audit.findings import CWE_CLASSES, Finding
from swarm_lsp.swarm.audit.flow_index import Function, Source, call_name, end_line
from swarm_lsp.swarm.audit.mitigations import mitigation
from swarm_lsp.swarm.audit.python_flow import SANITISERS, Scope, dotted
from swarm_lsp.swarm.audit.taint_sinks import interpolated_parts, sink_values

REQUEST_NAMES = {"request", "req"}
REQUEST_FIELDS = {
    "args", "form", "values", "json", "data", "files", "cookies", "headers", "GET", "POST", "COOKIES", "FILES",
    "META", "body", "query_params", "path_params", "params", "query_string", "get_json", "get_data", "view_args",
    "match_info", "query", "stream", "content", "arguments", "query_arguments", "body_arguments",
}
HANDLER_FIELDS = {"path", "headers", "rfile", "requestline"}  # http.server.BaseHTTPRequestHandler
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete", "api_route", "websocket", "view"}
RESHAPERS = {
    "join", "Path", "PurePath", "PurePosixPath", "urljoin", "str", "format", "urlparse", "urlsplit", "urlunparse",
    "parse_qs", "parse_qsl", "unquote", "unquote_plus", "loads", "b64decode", "urlsafe_b64decode", "normpath",
    "abspath", "realpath", "expanduser", "dedent", "Template", "substitute", "safe_substitute",
}
HOPS = 64  # nodes and assignments followed back from a sink: a bound on depth; each name is followed once
SEVERITY = {89: "high", 78: "high", 22: "high"}  # the rest: medium
# Query languages: text interpolated into a query, filter or path expression is the flaw wherever
# it comes from (as bandit's B608 judges SQL), so a parameter interpolated into one counts as input
# (a parameter that is the whole query is a wrapper's, passed on). Elsewhere a parameter is input
# only in a route handler: a library function is handed paths and URLs.
QUERY_CWES = frozenset({89, 90, 643})


def flow_findings(path: str, source: Source) -> list[Finding]:
    """Every operation of `source` that request input reaches without a recognised mitigation."""
    module = source.module
    if module is None:
        return []
    found: dict[tuple[int, int], Finding] = {}
    handler_methods = _http_handler_methods(module.tree)
    for function in (n for n in ast.walk(module.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        handler = id(function) in handler_methods
        flows = Flows(module, function, handler, _route_parameters(function))
        query_flows = Flows(module, function, handler, flows.parameters)
        for line in range(function.lineno, end_line(function) + 1):
            scope = Scope.of(module, line)
            if scope.body is not function:
                continue
            for cwe, value, operation, only_interpolated in sink_values(scope):
                origin = None if only_interpolated else flows.origin(value, line)
                if origin is None and cwe in QUERY_CWES:
                    origin = query_flows.first(line, interpolated_parts(scope, value, cwe, line))
                if origin is None or (line, cwe) in found or mitigation(source, line, cwe) is not None:
                    continue
                found[(line, cwe)] = _finding(path, source.lines, line, cwe, origin, operation)
    return sorted(found.values(), key=lambda f: (f.start_line, f.cwe))


class Flows:
    """Which request input a value of one function may carry."""

    def __init__(self, module, function: Function, in_handler_class: bool, untrusted_parameters: set[str]) -> None:
        self.module, self.function, self.in_handler_class = module, function, in_handler_class
        self.untrusted_parameters = untrusted_parameters
        self.parameters = Scope(module, function, function.lineno).parameters() - {"self", "cls"}
        self.request_names = {name for name in REQUEST_NAMES if name in module.imports or name in self.parameters}
        self.names: dict[tuple[str, int], str | None] = {}  # (name, line) -> its origin, each followed once

    def origin(self, node: ast.expr | None, line: int, hops: int = HOPS) -> str | None:
        """The request input `node` (read on `line`) may carry, as code (`request.args.get("url")`), or None."""
        if node is None or hops <= 0:
            return None
        scope = Scope(self.module, self.function, line)
        if isinstance(node, ast.Name):
            return self._name(scope, node, line, hops)
        if isinstance(node, ast.Attribute):
            if self._request_field(node):
                return ast.unparse(node)
            return self.origin(node.value, line, hops - 1)
        if isinstance(node, ast.Subscript):
            if self._request_field(node.value):
                return ast.unparse(node)  # request.args["url"]: the field, as the code reads it
            return self.origin(node.value, line, hops - 1)
        if isinstance(node, ast.Call):
            return self._call(node, line, hops)
        if isinstance(node, ast.JoinedStr):
            return self._first(line, hops, [v.value for v in node.values if isinstance(v, ast.FormattedValue)])
        if isinstance(node, ast.BinOp):
            return self._first(line, hops, [node.left, node.right])
        if isinstance(node, ast.IfExp):
            return self._first(line, hops, [node.body, node.orelse])
        if isinstance(node, ast.BoolOp):
            return self._first(line, hops, node.values)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return self._first(line, hops, node.elts)
        if isinstance(node, ast.Dict):
            return self._first(line, hops, [v for v in node.values if v is not None])
        return None

    def _first(self, line: int, hops: int, nodes: list[ast.expr]) -> str | None:
        return self.first(line, nodes, hops - 1)

    def first(self, line: int, nodes: list[ast.expr], hops: int = HOPS) -> str | None:
        """The request input the first carrying node of `nodes` may carry."""
        return next((o for n in nodes if (o := self.origin(n, line, hops)) is not None), None)

    def _name(self, scope: Scope, node: ast.Name, line: int, hops: int) -> str | None:
        key = (node.id, line)
        if key not in self.names:
            self.names[key] = None  # a name met again while it is followed carries nothing new
            self.names[key] = self._followed(scope, node.id, line, hops)
        return self.names[key]

    def _followed(self, scope: Scope, name: str, line: int, hops: int) -> str | None:
        if scope.checked_before(name):
            return None  # compared against an allow-list (or a fixed value) before use
        bound = scope.bindings(name, line)
        if bound is None:
            return f"parameter `{name}`" if name in self.untrusted_parameters - self.request_names else None
        return next((o for value in bound if (o := self.origin(value, value.lineno, hops - 1)) is not None), None)

    def _call(self, node: ast.Call, line: int, hops: int) -> str | None:
        name = call_name(node)
        if SANITISERS.match(name):
            return None
        if self._request_field(node.func):
            return ast.unparse(node)  # request.get_json(), request.args.get("url")
        if isinstance(node.func, ast.Attribute) and (origin := self.origin(node.func.value, line, hops - 1)):
            return origin  # a method of a carrying value: name.strip(), request.args.get("url")
        if name in RESHAPERS:
            return self._first(line, hops, [*node.args, *(k.value for k in node.keywords)])
        return None

    def _request_field(self, node: ast.expr) -> bool:
        """`request.args`, `request.form.get`, `self.path` in an http.server handler..."""
        if not isinstance(node, ast.Attribute):
            return False
        while isinstance(node.value, ast.Attribute) and dotted(node.value) not in ("self.request",):
            node = node.value
        owner = dotted(node.value)
        if owner in self.request_names or owner == "self.request":
            return node.attr in REQUEST_FIELDS
        return self.in_handler_class and owner == "self" and node.attr in HANDLER_FIELDS


def _route_parameters(function: Function) -> set[str]:
    """The parameters of a route handler (path and query parameters), without `self` and `request`."""
    routed = any(isinstance(d, ast.Call) and call_name(d) in ROUTE_DECORATORS and isinstance(d.func, ast.Attribute)
                 for d in function.decorator_list)
    if not routed:
        return set()
    names = [a.arg for a in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]]
    return {name for name in names if name not in {"self", "cls", *REQUEST_NAMES}}


def _http_handler_methods(tree: ast.Module) -> set[int]:
    """The ids of the methods of classes deriving from an http.server request handler."""
    return {id(method) for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
            and any(dotted(base).endswith("RequestHandler") for base in node.bases)
            for method in node.body if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _finding(path: str, lines: list[str], line: int, cwe: int, origin: str, operation: str) -> Finding:
    row = lines[line - 1]
    indent = len(row) - len(row.lstrip())
    return Finding(
        path=path, start_line=line, start_column=indent + 1, end_line=line, end_column=len(row) + 1,
        cwe=cwe, severity=SEVERITY.get(cwe, "medium"), confidence="medium",
        message=f"{CWE_CLASSES[cwe]}: {origin} reaches {operation} unmitigated", snippet=row,
        source="flow", rule_id=f"flow-cwe-{cwe}", rule_name=CWE_CLASSES[cwe], input=origin[:120],
    )
