"""Python functions, methods and classes from a tree-sitter-python tree."""

from __future__ import annotations

from tree_sitter import Node

from ..types import Symbol
from .nodes import make_symbol, text_of

# Statements whose bodies may hold definitions at the same scope (`if TYPE_CHECKING:`, try/except
# fallbacks, ...). Expressions are never descended into: lambdas are not symbols.
CONTAINERS = frozenset({
    "module", "block", "if_statement", "elif_clause", "else_clause", "try_statement",
    "except_clause", "except_group_clause", "finally_clause", "with_statement", "for_statement",
    "while_statement", "match_statement", "case_clause",
})


def index_python(root: Node) -> list[Symbol]:
    symbols: list[Symbol] = []
    _visit(root, "", False, symbols)
    return symbols


def _visit(node: Node, prefix: str, in_class: bool, out: list[Symbol]) -> None:
    for child in node.named_children:
        definition = child
        if child.type == "decorated_definition":
            definition = child.child_by_field_name("definition") or child
        if definition.type == "function_definition":
            _add_function(child, definition, prefix, in_class, out)
        elif definition.type == "class_definition":
            _add_class(child, definition, prefix, out)
        elif child.type in CONTAINERS:
            _visit(child, prefix, in_class, out)


def _add_function(outer: Node, definition: Node, prefix: str, in_class: bool, out: list[Symbol]) -> None:
    name_node = definition.child_by_field_name("name")
    if name_node is None:
        return
    qualname = prefix + text_of(name_node)
    drop_first = in_class and not _is_staticmethod(outer)
    out.append(
        make_symbol(
            name_node=name_node,
            qualname=qualname,
            kind="method" if in_class else "function",
            language="python",
            outer=outer,
            params=_params(definition, drop_first),
        )
    )
    body = definition.child_by_field_name("body")
    if body is not None:
        _visit(body, qualname + ".", False, out)


def _add_class(outer: Node, definition: Node, prefix: str, out: list[Symbol]) -> None:
    name_node = definition.child_by_field_name("name")
    if name_node is None:
        return
    qualname = prefix + text_of(name_node)
    body = definition.child_by_field_name("body")
    init = _find_init(body) if body is not None else None
    out.append(
        make_symbol(
            name_node=name_node,
            qualname=qualname,
            kind="class",
            language="python",
            outer=outer,
            params=_params(init, drop_first=True) if init is not None else (),
        )
    )
    if body is not None:
        _visit(body, qualname + ".", True, out)


def _find_init(body: Node) -> Node | None:
    for child in body.named_children:
        definition = child.child_by_field_name("definition") if child.type == "decorated_definition" else child
        if definition is not None and definition.type == "function_definition":
            if text_of(definition.child_by_field_name("name")) == "__init__":
                return definition
    return None


def _is_staticmethod(outer: Node) -> bool:
    if outer.type != "decorated_definition":
        return False
    for decorator in outer.named_children:
        if decorator.type == "decorator":
            name = text_of(decorator).lstrip("@").strip()
            if name == "staticmethod" or name.endswith(".staticmethod"):
                return True
    return False


def _params(definition: Node, drop_first: bool) -> tuple[str, ...]:
    """Parameter names in order; `*args`/`**kwargs` give `args`/`kwargs`; the bare `*` and `/`
    separators are skipped; `drop_first` removes self/cls of a method."""
    parameters = definition.child_by_field_name("parameters")
    names: list[str] = []
    if parameters is None:
        return ()
    params = list(parameters.named_children)
    # self/cls is the first *positional* parameter; `def m(*args)` has none to drop.
    if drop_first and params and _is_positional(params[0]):
        params.pop(0)
    for param in params:
        name = _param_name(param)
        if name:
            names.append(name)
    return tuple(names)


def _is_positional(param: Node) -> bool:
    if param.type == "typed_parameter":
        return bool(param.named_children) and param.named_children[0].type == "identifier"
    return param.type in ("identifier", "default_parameter", "typed_default_parameter")


def _param_name(param: Node) -> str:
    kind = param.type
    if kind == "identifier":
        return text_of(param)
    if kind in ("default_parameter", "typed_default_parameter"):
        return _param_name(param.child_by_field_name("name") or param)
    if kind in ("typed_parameter", "list_splat_pattern", "dictionary_splat_pattern"):
        inner = param.named_children[0] if param.named_children else None
        return _param_name(inner) if inner is not None else ""
    return ""
