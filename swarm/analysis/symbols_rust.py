"""Rust functions, methods of `impl` and `trait` blocks (qualname `Type.method`) and
struct / enum / union / trait items (kind "class"). Items inside `mod` blocks get the module
name as a prefix (`inner.helper`)."""

from __future__ import annotations

from tree_sitter import Node

from ..types import Symbol, SymbolKind
from .nodes import leading_siblings, make_symbol, squash, text_of

TYPE_ITEMS = frozenset({"struct_item", "enum_item", "union_item", "trait_item"})
FUNCTION_ITEMS = frozenset({"function_item", "function_signature_item"})
# Outer attributes (`#[derive(...)]`, `#[test]`) belong to the item they precede.
ATTRIBUTES = frozenset({"attribute_item"})


def index_rust(root: Node) -> list[Symbol]:
    symbols: list[Symbol] = []
    _visit_items(root, "", symbols)
    return symbols


def _visit_items(node: Node, prefix: str, out: list[Symbol]) -> None:
    for item in node.named_children:
        if item.type == "function_item":
            _add_function(item, prefix, "function", out)
        elif item.type in TYPE_ITEMS:
            name = item.child_by_field_name("name")
            if name is not None:
                qualname = prefix + text_of(name)
                out.append(_symbol(item, name, qualname, "class", ()))
                if item.type == "trait_item":
                    _visit_methods(item, qualname + ".", out)
        elif item.type == "impl_item":
            type_name = impl_type_name(item.child_by_field_name("type"))
            _visit_methods(item, prefix + type_name + ".", out)
        elif item.type == "mod_item":
            name, body = item.child_by_field_name("name"), item.child_by_field_name("body")
            if name is not None and body is not None:
                _visit_items(body, prefix + text_of(name) + ".", out)


def _visit_methods(block: Node, prefix: str, out: list[Symbol]) -> None:
    body = block.child_by_field_name("body")
    if body is None:
        return
    for item in body.named_children:
        if item.type in FUNCTION_ITEMS:
            _add_function(item, prefix, "method", out)


def _add_function(item: Node, prefix: str, kind: SymbolKind, out: list[Symbol]) -> None:
    name = item.child_by_field_name("name")
    if name is not None:
        out.append(_symbol(item, name, prefix + text_of(name), kind, rust_params(item)))


def _symbol(item: Node, name: Node, qualname: str, kind: SymbolKind, params: tuple[str, ...]) -> Symbol:
    return make_symbol(
        name_node=name,
        qualname=qualname,
        kind=kind,
        language="rust",
        outer=item,
        first=leading_siblings(item, ATTRIBUTES),
        params=params,
    )


def impl_type_name(node: Node | None) -> str:
    """`impl<T> Stack<T>` -> "Stack"; `impl fmt::Display for io::Error` -> "Error"."""
    while node is not None:
        if node.type in ("type_identifier", "primitive_type"):
            return text_of(node)
        if node.type == "generic_type":
            node = node.child_by_field_name("type")
        elif node.type == "scoped_type_identifier":
            node = node.child_by_field_name("name")
        elif node.type == "reference_type":
            node = node.child_by_field_name("type")
        else:
            return squash(text_of(node))
    return ""


def rust_params(function: Node) -> tuple[str, ...]:
    """Parameter names; `self` in any form and `_` are skipped, `mut x` / `&x` give `x`, other
    patterns (tuples, structs) are named by their text, e.g. `(a, b)`."""
    parameters = function.child_by_field_name("parameters")
    if parameters is None:
        return ()
    names: list[str] = []
    for param in parameters.named_children:
        if param.type != "parameter":
            continue
        name = _pattern_name(param.child_by_field_name("pattern"))
        if name and name not in ("self", "_"):
            names.append(name)
    return tuple(names)


def _pattern_name(pattern: Node | None) -> str:
    if pattern is None:
        return ""
    if pattern.type in ("identifier", "self"):
        return text_of(pattern)
    if pattern.type in ("mut_pattern", "ref_pattern", "reference_pattern") and pattern.named_children:
        return _pattern_name(pattern.named_children[-1])
    return squash(text_of(pattern))
