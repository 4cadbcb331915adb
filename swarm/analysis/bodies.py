"""Facts about a definition's body for documentation: does it return a value, what does it throw,
and what is its signature. JavaScript, TypeScript, Go and Rust (Python facts come from libcst)."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from ..types import Symbol
from .nodes import text_of

_DEFINITIONS = frozenset({
    # javascript / typescript
    "function_declaration", "generator_function_declaration", "method_definition", "class_declaration",
    "abstract_class_declaration", "variable_declarator", "field_definition", "public_field_definition",
    # go
    "method_declaration", "type_spec",
    # rust
    "function_item", "function_signature_item", "struct_item", "enum_item", "union_item", "trait_item",
})
# A `return` / `throw` inside these belongs to another function.
_JS_SCOPES = frozenset({
    "function_declaration", "generator_function_declaration", "function_expression", "function",
    "generator_function", "arrow_function", "method_definition", "class_declaration", "class",
})


def definition_node(root: Node, symbol: Symbol) -> Node:
    """The function / class node of `symbol` (for `const f = () => ...`, the arrow function)."""
    node = root.descendant_for_byte_range(symbol.name_span.start_byte, symbol.name_span.end_byte)
    while node is not None and node.type not in _DEFINITIONS:
        node = node.parent
    if node is None:
        raise LookupError(f"`{symbol.qualname}` is no longer at line {symbol.span.start_line + 1}; re-index the file")
    if node.type in ("variable_declarator", "field_definition", "public_field_definition"):
        node = node.child_by_field_name("value") or node
    return node


def body_of(definition: Node) -> Node | None:
    if definition.type == "type_spec":  # Go: `type X struct { ... }`
        struct = definition.child_by_field_name("type")
        lists = [c for c in struct.named_children if c.type == "field_declaration_list"] if struct else []
        return lists[0] if lists else None
    return definition.child_by_field_name("body")


def signature(src: bytes, symbol: Symbol, definition: Node) -> str:
    """The definition from its first line (decorators/export/attributes included) up to the body's
    opening brace (exclusive); for an arrow function with an expression body, up to `=>`."""
    body = body_of(definition)
    end = body.start_byte if body is not None else symbol.span.end_byte
    return src[symbol.span.start_byte : end].decode("utf-8", "replace").rstrip()


def _within(node: Node, stop: frozenset[str]) -> Iterator[Node]:
    """Descendants of `node` in document order, not entering nodes whose type is in `stop`."""
    stack = list(reversed(node.named_children))
    while stack:
        current = stack.pop()
        yield current
        if current.type not in stop:
            stack.extend(reversed(current.named_children))


def returns_value(language: str, definition: Node) -> bool:
    if language in ("javascript", "typescript"):
        body = definition.child_by_field_name("body")
        if definition.type in ("class_declaration", "abstract_class_declaration", "class") or body is None:
            return False
        if body.type != "statement_block":  # `x => x * 2`
            return True
        return any(
            node.type == "return_statement" and any(c.type != "comment" for c in node.named_children)
            for node in _within(body, _JS_SCOPES)
        )
    if language == "go":
        return definition.child_by_field_name("result") is not None
    if language == "rust":
        result = definition.child_by_field_name("return_type")
        return result is not None and result.type not in ("unit_type", "never_type")
    return False


def raised(language: str, definition: Node) -> tuple[str, ...]:
    """JS/TS: the constructors of `throw new X(...)` in the body (nested functions excluded; a bare
    `throw err` is skipped because its type is unknown). Rust: "Err" when the function returns a
    `Result`, "panic" when the body calls `panic!`. Go reports errors as values: nothing."""
    found: list[str] = []
    if language in ("javascript", "typescript"):
        body = definition.child_by_field_name("body")
        if body is not None and definition.type not in ("class_declaration", "abstract_class_declaration", "class"):
            for node in _within(body, _JS_SCOPES):
                thrown = node.named_children[0] if node.type == "throw_statement" and node.named_children else None
                if thrown is not None and thrown.type == "new_expression":
                    found.append(text_of(thrown.child_by_field_name("constructor")))
    elif language == "rust":
        if _is_result(definition.child_by_field_name("return_type")):
            found.append("Err")
        body = definition.child_by_field_name("body")
        if body is not None and definition.type == "function_item":
            for node in _within(body, frozenset({"function_item"})):
                macro = node.child_by_field_name("macro") if node.type == "macro_invocation" else None
                if macro is not None and text_of(macro).rsplit("::", 1)[-1] == "panic":
                    found.append("panic")
                    break
    return tuple(dict.fromkeys(name for name in found if name))


def _is_result(node: Node | None) -> bool:
    """`Result<T, E>`, `io::Result<T>`, `fmt::Result`."""
    if node is None:
        return False
    if node.type == "generic_type":
        node = node.child_by_field_name("type")
    if node is not None and node.type == "scoped_type_identifier":
        node = node.child_by_field_name("name")
    return node is not None and text_of(node) == "Result"
