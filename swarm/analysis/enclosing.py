"""The innermost function, method or class at a byte offset, without indexing the whole file.

`textDocument/codeAction` asks this on every cursor move, with a p99 budget of 10 ms on a
5,000-line file (DESIGN.md §7) — about what indexing such a file costs on its own. So the tree is
descended along the one path that leads to the offset, applying at each level the rules the
per-language indexers (symbols_*.py) apply to every node: which nodes are definitions, which
statements are looked into, how qualnames are built, which leading siblings (decorators,
attributes) belong to a definition's span. The answer is the symbol `index_symbols` would list
with the smallest span containing the offset, at a cost proportional to the nesting depth.

Descending, rather than walking up the parents of the smallest node at the offset, is what makes
that exact: a decorator or attribute is a sibling of its definition, not a descendant, and
whether a definition is indexed at all depends on its ancestors (nothing inside an expression or
an ERROR node is). It is also cheaper: tree-sitter finds a node's parent by descending from the root.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Tree

from ..types import Span, SymbolKind
from . import symbols_go as go
from . import symbols_js as js
from . import symbols_python as python
from . import symbols_rust as rust
from .languages import LANGUAGES, UnsupportedLanguage
from .nodes import leading_siblings, span_between, text_of

__all__ = ["EnclosingSymbol", "symbol_at"]

_NO_LEADING: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EnclosingSymbol:
    name: str
    qualname: str  # the same convention as Symbol.qualname: "Outer.method", Go/Rust "Type.method"
    kind: SymbolKind
    span: Span  # as Symbol.span: decorators, attributes and an `export` keyword included

    @property
    def start_line(self) -> int:
        """The 0-based line where the definition (with its decorators) starts."""
        return self.span.start_line


def symbol_at(tree: Tree, language: str, byte_offset: int) -> EnclosingSymbol | None:
    """The innermost function, method or class whose span contains `byte_offset` (a UTF-8 offset;
    spans are end-exclusive), or None outside every definition."""
    root = tree.root_node
    if language == "python":
        return _python(root, byte_offset)
    if language in ("javascript", "typescript"):
        return _js_scope(root, byte_offset, "")
    if language == "go":
        return _go(root, byte_offset)
    if language == "rust":
        return _rust_items(root, byte_offset, "")
    raise UnsupportedLanguage(f"unknown language {language!r}: supported languages are {', '.join(LANGUAGES)}")


def _item_at(scope: Node, offset: int, leading: frozenset[str] = _NO_LEADING) -> tuple[Node, Node] | None:
    """(item, first): the named child of `scope` whose span contains `offset`, the span reaching
    back from the item over its contiguous `leading` siblings to `first`."""
    count = scope.named_child_count
    # With no child ending after the offset, first_named_child_for_byte returns a null node that
    # crashes the interpreter when used (py-tree-sitter 0.26), so that case is ruled out first.
    if count == 0 or scope.named_child(count - 1).end_byte <= offset:
        return None
    item: Node | None = scope.first_named_child_for_byte(offset)
    while item is not None and item.type in leading:
        item = item.next_named_sibling
    if item is None:
        return None
    first = leading_siblings(item, leading) if leading else item
    return (item, first) if first.start_byte <= offset < item.end_byte else None


def _found(name: Node, prefix: str, kind: SymbolKind, outer: Node, first: Node | None = None) -> EnclosingSymbol:
    text = text_of(name)
    return EnclosingSymbol(text, prefix + text, kind, span_between(first or outer, outer))


def _python(scope: Node, offset: int) -> EnclosingSymbol | None:
    """Mirrors symbols_python._visit: definitions nest, containers keep the scope."""
    found, prefix, in_class = None, "", False
    while (hit := _item_at(scope, offset)) is not None:
        child = definition = hit[0]
        if child.type == "decorated_definition":
            definition = child.child_by_field_name("definition") or child
        if definition.type not in ("function_definition", "class_definition"):
            if child.type not in python.CONTAINERS:
                break
            scope = child
            continue
        name, body = definition.child_by_field_name("name"), definition.child_by_field_name("body")
        if name is None:
            break
        is_class = definition.type == "class_definition"
        found = _found(name, prefix, "class" if is_class else "method" if in_class else "function", child)
        if body is None:
            break
        scope, prefix, in_class = body, found.qualname + ".", is_class
    return found


def _js_scope(scope: Node, offset: int, prefix: str) -> EnclosingSymbol | None:
    """Mirrors symbols_js._Indexer.visit."""
    hit = _item_at(scope, offset)
    return _js_statement(hit[0], offset, prefix, hit[0]) if hit is not None else None


def _js_statement(node: Node, offset: int, prefix: str, outer: Node) -> EnclosingSymbol | None:
    """Mirrors symbols_js._Indexer.statement: `outer` (what the span covers) contains the offset."""
    kind = node.type
    if kind == "export_statement":
        declaration = node.child_by_field_name("declaration")
        return _js_statement(declaration, offset, prefix, outer) if declaration is not None else None
    if kind in js.FUNCTION_DECLARATIONS:
        return _js_function(node, node.child_by_field_name("name"), offset, prefix, outer)
    if kind in js.CLASS_DECLARATIONS:
        return _js_class(node, node.child_by_field_name("name"), offset, prefix, outer)
    if kind in js.DECLARATIONS:
        return _js_declarators(node, offset, prefix, outer)
    if kind in js.NAMESPACES:
        name, body = node.child_by_field_name("name"), node.child_by_field_name("body")
        if name is None or body is None:
            return None
        return _js_scope(body, offset, prefix + text_of(name) + ".")
    if kind in js.CONTAINERS:
        return _js_scope(node, offset, prefix)
    return None


def _js_declarators(declaration: Node, offset: int, prefix: str, outer: Node) -> EnclosingSymbol | None:
    declarators = [c for c in declaration.named_children if c.type == "variable_declarator"]
    for declarator in declarators:
        span_node = outer if len(declarators) == 1 else declarator
        if not span_node.start_byte <= offset < span_node.end_byte:
            continue
        name, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
        if name is None or value is None or name.type != "identifier":
            return None
        if value.type in js.FUNCTION_VALUES:
            return _js_function(value, name, offset, prefix, span_node)
        if value.type == "class":
            return _js_class(value, name, offset, prefix, span_node)
        return None
    return None


def _js_function(node: Node, name: Node | None, offset: int, prefix: str, outer: Node,
                 kind: SymbolKind = "function", first: Node | None = None) -> EnclosingSymbol | None:
    if name is None:
        return None
    here = _found(name, prefix, kind, outer, first)
    body = node.child_by_field_name("body")
    if body is not None and body.type == "statement_block":
        return _js_scope(body, offset, here.qualname + ".") or here
    return here


def _js_class(node: Node, name: Node | None, offset: int, prefix: str, outer: Node) -> EnclosingSymbol | None:
    if name is None:
        return None
    here = _found(name, prefix, "class", outer)
    body = node.child_by_field_name("body")
    hit = _item_at(body, offset, js.DECORATORS) if body is not None else None
    if hit is None:
        return here
    member, first = hit
    inner = None
    if member.type == "method_definition":
        inner = _js_function(member, member.child_by_field_name("name"), offset, here.qualname + ".", member,
                             "method", first)
    elif member.type in js.FIELDS:
        value = member.child_by_field_name("value")
        field = member.child_by_field_name("property") or member.child_by_field_name("name")
        if value is not None and value.type in js.FUNCTION_VALUES:
            inner = _js_function(value, field, offset, here.qualname + ".", member, "method", first)
    return inner or here


def _go(root: Node, offset: int) -> EnclosingSymbol | None:
    """Go symbols are top-level declarations only (symbols_go.index_go)."""
    hit = _item_at(root, offset)
    if hit is None:
        return None
    node = hit[0]
    if node.type in ("function_declaration", "method_declaration"):
        name = node.child_by_field_name("name")
        if name is None:
            return None
        if node.type == "function_declaration":
            return _found(name, "", "function", node)
        receiver = go.receiver_type(node)
        return _found(name, f"{receiver}." if receiver else "", "method", node)
    if node.type == "type_declaration":
        for name, outer in go.struct_specs(node):
            if outer.start_byte <= offset < outer.end_byte:
                return _found(name, "", "class", outer)
    return None


def _rust_items(scope: Node, offset: int, prefix: str) -> EnclosingSymbol | None:
    """Mirrors symbols_rust._visit_items; function bodies are not looked into."""
    hit = _item_at(scope, offset, rust.ATTRIBUTES)
    if hit is None:
        return None
    item, first = hit
    name = item.child_by_field_name("name")
    if item.type == "function_item":
        return _found(name, prefix, "function", item, first) if name is not None else None
    if item.type in rust.TYPE_ITEMS:
        if name is None:
            return None
        here = _found(name, prefix, "class", item, first)
        if item.type == "trait_item":
            return _rust_methods(item, offset, here.qualname + ".") or here
        return here
    if item.type == "impl_item":
        return _rust_methods(item, offset, prefix + rust.impl_type_name(item.child_by_field_name("type")) + ".")
    if item.type == "mod_item":
        body = item.child_by_field_name("body")
        if name is not None and body is not None:
            return _rust_items(body, offset, prefix + text_of(name) + ".")
    return None


def _rust_methods(block: Node, offset: int, prefix: str) -> EnclosingSymbol | None:
    body = block.child_by_field_name("body")
    hit = _item_at(body, offset, rust.ATTRIBUTES) if body is not None else None
    if hit is None or hit[0].type not in rust.FUNCTION_ITEMS:
        return None
    name = hit[0].child_by_field_name("name")
    return _found(name, prefix, "method", hit[0], hit[1]) if name is not None else None
