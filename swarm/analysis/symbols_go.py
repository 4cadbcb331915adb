"""Go functions, methods (qualname `Receiver.Method`) and struct types (kind "class")."""

from __future__ import annotations

from tree_sitter import Node

from ..types import Symbol, SymbolKind
from .nodes import make_symbol, text_of


def index_go(root: Node) -> list[Symbol]:
    symbols: list[Symbol] = []
    for node in root.named_children:
        if node.type == "function_declaration":
            _add_function(node, "", "function", symbols)
        elif node.type == "method_declaration":
            receiver = receiver_type(node)
            _add_function(node, f"{receiver}." if receiver else "", "method", symbols)
        elif node.type == "type_declaration":
            _add_structs(node, symbols)
    return symbols


def _add_function(node: Node, prefix: str, kind: SymbolKind, out: list[Symbol]) -> None:
    name = node.child_by_field_name("name")
    if name is None:
        return
    out.append(
        make_symbol(
            name_node=name,
            qualname=prefix + text_of(name),
            kind=kind,
            language="go",
            outer=node,
            params=go_params(node.child_by_field_name("parameters")),
        )
    )


def _add_structs(declaration: Node, out: list[Symbol]) -> None:
    for name, outer in struct_specs(declaration):
        out.append(make_symbol(name_node=name, qualname=text_of(name), kind="class", language="go", outer=outer))


def struct_specs(declaration: Node) -> list[tuple[Node, Node]]:
    """(name, outer) of each struct type of a `type` declaration, `outer` being what its symbol spans."""
    specs = [c for c in declaration.named_children if c.type == "type_spec"]
    found: list[tuple[Node, Node]] = []
    for spec in specs:
        name, type_node = spec.child_by_field_name("name"), spec.child_by_field_name("type")
        if name is None or type_node is None or type_node.type != "struct_type":
            continue
        # `type X struct{}` is one symbol with its keyword; inside `type ( ... )` only the spec is.
        found.append((name, declaration if len(specs) == 1 and declaration.child_count == 2 else spec))
    return found


def receiver_type(method: Node) -> str:
    """`func (s *Stack[T]) Push` -> "Stack": pointer and type arguments stripped."""
    receiver = method.child_by_field_name("receiver")
    if receiver is None:
        return ""
    for param in receiver.named_children:
        if param.type == "parameter_declaration":
            return _base_type(param.child_by_field_name("type"))
    return ""


def _base_type(node: Node | None) -> str:
    while node is not None:
        if node.type == "type_identifier":
            return text_of(node)
        if node.type in ("pointer_type", "parenthesized_type"):
            node = node.named_children[0] if node.named_children else None
        elif node.type == "generic_type":
            node = node.child_by_field_name("type")
        else:
            return text_of(node)
    return ""


def go_params(parameters: Node | None) -> tuple[str, ...]:
    """Names of a parameter_list; unnamed parameters and the blank identifier `_` are skipped."""
    if parameters is None:
        return ()
    names: list[str] = []
    for param in parameters.named_children:
        if param.type not in ("parameter_declaration", "variadic_parameter_declaration"):
            continue
        for index in range(param.child_count):
            if param.field_name_for_child(index) == "name":
                name = text_of(param.children[index])
                if name != "_":
                    names.append(name)
    return tuple(names)
