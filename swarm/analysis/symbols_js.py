"""JavaScript / TypeScript functions, methods and classes (both grammars share these node types)."""

from __future__ import annotations

from tree_sitter import Node

from ..types import Symbol
from .nodes import leading_siblings, make_symbol, text_of

FUNCTION_DECLARATIONS = frozenset({"function_declaration", "generator_function_declaration"})
CLASS_DECLARATIONS = frozenset({"class_declaration", "abstract_class_declaration"})
# Values that make `const f = <value>` (or a class field `f = <value>`) a function.
FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function", "generator_function"})
DECLARATIONS = frozenset({"lexical_declaration", "variable_declaration"})
NAMESPACES = frozenset({"internal_module", "module"})  # TypeScript `namespace X {}` / `module X {}`
FIELDS = frozenset({"field_definition", "public_field_definition"})
DECORATORS = frozenset({"decorator"})  # in a class body they are siblings preceding their member
# Nodes that hold statements at the current scope; definitions inside them keep the scope prefix.
CONTAINERS = frozenset({
    "program", "statement_block", "expression_statement", "if_statement", "else_clause",
    "try_statement", "catch_clause", "finally_clause", "for_statement", "for_in_statement",
    "while_statement", "do_statement", "labeled_statement", "switch_statement", "switch_body",
    "switch_case", "switch_default",
})


def index_js(root: Node, language: str) -> list[Symbol]:
    symbols: list[Symbol] = []
    _Indexer(language, symbols).visit(root, "")
    return symbols


class _Indexer:
    def __init__(self, language: str, out: list[Symbol]) -> None:
        self.language = language
        self.out = out

    def visit(self, node: Node, prefix: str) -> None:
        for child in node.named_children:
            self.statement(child, prefix, child)

    def statement(self, node: Node, prefix: str, outer: Node) -> None:
        kind = node.type
        if kind == "export_statement":
            declaration = node.child_by_field_name("declaration")
            if declaration is not None:
                self.statement(declaration, prefix, outer)
        elif kind in FUNCTION_DECLARATIONS:
            self.function(node, node.child_by_field_name("name"), prefix, outer)
        elif kind in CLASS_DECLARATIONS:
            self.klass(node, node.child_by_field_name("name"), prefix, outer)
        elif kind in DECLARATIONS:
            self.declarators(node, prefix, outer)
        elif kind in NAMESPACES:
            name, body = node.child_by_field_name("name"), node.child_by_field_name("body")
            if name is not None and body is not None:
                self.visit(body, prefix + text_of(name) + ".")
        elif kind in CONTAINERS:
            self.visit(node, prefix)

    def declarators(self, declaration: Node, prefix: str, outer: Node) -> None:
        declarators = [c for c in declaration.named_children if c.type == "variable_declarator"]
        for declarator in declarators:
            name = declarator.child_by_field_name("name")
            value = declarator.child_by_field_name("value")
            if name is None or value is None or name.type != "identifier":
                continue
            # With several declarators on one statement only the declarator itself is the symbol.
            span_node = outer if len(declarators) == 1 else declarator
            if value.type in FUNCTION_VALUES:
                self.function(value, name, prefix, span_node)
            elif value.type == "class":
                self.klass(value, name, prefix, span_node)

    def function(self, node: Node, name: Node | None, prefix: str, outer: Node, *, method: bool = False,
                 first: Node | None = None) -> None:
        if name is None:
            return
        qualname = prefix + text_of(name)
        self.out.append(
            make_symbol(
                name_node=name,
                qualname=qualname,
                kind="method" if method else "function",
                language=self.language,
                outer=outer,
                first=first,
                params=js_params(node),
            )
        )
        body = node.child_by_field_name("body")
        if body is not None and body.type == "statement_block":
            self.visit(body, qualname + ".")

    def klass(self, node: Node, name: Node | None, prefix: str, outer: Node) -> None:
        if name is None:
            return
        qualname = prefix + text_of(name)
        self.out.append(
            make_symbol(name_node=name, qualname=qualname, kind="class", language=self.language, outer=outer)
        )
        body = node.child_by_field_name("body")
        if body is None:
            return
        for member in body.named_children:
            first = leading_siblings(member, DECORATORS)
            if member.type == "method_definition":
                self.function(member, member.child_by_field_name("name"), qualname + ".", member,
                              method=True, first=first)
            elif member.type in FIELDS:
                value = member.child_by_field_name("value")
                field = member.child_by_field_name("property") or member.child_by_field_name("name")
                if value is not None and value.type in FUNCTION_VALUES:
                    self.function(value, field, qualname + ".", member, method=True, first=first)


def js_params(function: Node) -> tuple[str, ...]:
    """Parameter names in order. `...rest` gives `rest`; a destructured parameter gets the name
    JSDoc tooling gives it, `param<N>` with N its 0-based position; TypeScript's `this` is skipped."""
    single = function.child_by_field_name("parameter")  # `x => x`
    if single is not None:
        return (text_of(single),)
    parameters = function.child_by_field_name("parameters")
    if parameters is None:
        return ()
    names: list[str] = []
    for param in parameters.named_children:
        if param.type in ("comment", "decorator"):
            continue
        if param.type in ("required_parameter", "optional_parameter"):
            pattern = param.child_by_field_name("pattern")
            if pattern is None or pattern.type == "this":
                continue
            param = pattern
        names.append(_pattern_name(param, len(names)))
    return tuple(names)


def _pattern_name(pattern: Node, index: int) -> str:
    if pattern.type == "identifier":
        return text_of(pattern)
    if pattern.type == "assignment_pattern":
        left = pattern.child_by_field_name("left")
        return _pattern_name(left, index) if left is not None else f"param{index}"
    if pattern.type == "rest_pattern" and pattern.named_children:
        return _pattern_name(pattern.named_children[0], index)
    return f"param{index}"
