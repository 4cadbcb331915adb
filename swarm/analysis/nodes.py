"""Small helpers shared by the per-language symbol indexers: spans, text and Symbol construction."""

from __future__ import annotations

from tree_sitter import Node

from ..types import Span, Symbol, SymbolKind


def span_between(first: Node, last: Node | None = None) -> Span:
    """The span from the start of `first` to the end of `last` (default: `first`)."""
    last = last or first
    return Span(
        start_line=first.start_point.row,
        start_col=first.start_point.column,
        end_line=last.end_point.row,
        end_col=last.end_point.column,
        start_byte=first.start_byte,
        end_byte=last.end_byte,
    )


def text_of(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


def squash(text: str) -> str:
    """Collapse runs of whitespace, for names built from pattern text such as `(a, b)`."""
    return " ".join(text.split())


def leading_siblings(node: Node, types: frozenset[str]) -> Node:
    """The earliest of the contiguous previous named siblings of `node` whose type is in `types`
    (decorators, attributes), or `node` itself when there are none."""
    first = node
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type in types:
        first = sibling
        sibling = sibling.prev_named_sibling
    return first


def make_symbol(
    *,
    name_node: Node,
    qualname: str,
    kind: SymbolKind,
    language: str,
    outer: Node,
    params: tuple[str, ...] | list[str] = (),
    name: str | None = None,
    first: Node | None = None,
) -> Symbol:
    """A Symbol whose span covers `outer` (the definition with its export keyword or decorator
    wrapper), widened back to `first` when leading siblings (decorators, attributes) belong to it."""
    return Symbol(
        name=name if name is not None else text_of(name_node),
        qualname=qualname,
        kind=kind,
        language=language,
        span=span_between(first or outer, outer),
        name_span=span_between(name_node),
        params=tuple(params),
    )
