"""`textDocument/codeAction`: list the registered actions for the symbol under the cursor.

Cheap by design (DESIGN.md §6): no model call, no disk access, no whole-file index; the innermost
function/method/class comes from walking up the document's tree-sitter tree. Each action carries
a `swarm.run` command; the edit is computed only when the user picks the action.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from swarm_lsp.server.lsp.documents import DocumentStore
from swarm_lsp.swarm.actions import REGISTRY
from swarm_lsp.swarm.analysis.enclosing import symbol_at

RUN_COMMAND = "swarm.run"
# Stable kinds clients can filter on; an action registered later without an entry here gets
# `source.swarm.<kind>` and shows up with no change to this file.
ACTION_KINDS = {
    "document": "source.swarm.document",
    "tests": "source.swarm.tests",
    "refactor": "refactor.rewrite.swarm",
    "audit": "source.swarm.audit",
}
ACTION_TITLES = {
    "document": "Document {symbol} (swarm)",
    "tests": "Generate tests for {symbol} (swarm)",
    "refactor": "Refactor {symbol} (swarm)",
    "audit": "Audit {symbol} (swarm)",
}


def action_kind(action: str) -> str:
    return ACTION_KINDS.get(action, f"source.swarm.{action}")


def all_kinds() -> list[str]:
    return [action_kind(action) for action in REGISTRY]


def _wanted(kind: str, only: list[str] | None) -> bool:
    # LSP: a requested kind matches itself and its sub-kinds ("source" matches "source.swarm.document")
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def requested_kinds(params: types.CodeActionParams) -> list[str] | None:
    """The `only` kinds of a codeAction request as strings (enum values), None for all."""
    return [str(getattr(k, "value", k)) for k in params.context.only] if params.context.only else None


def code_actions(store: DocumentStore, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    document = store.get(params.text_document.uri)
    if document is None or document.tree is None or document.language is None:
        return None
    start = params.range.start
    offset = store.position_to_byte(document, start.line, start.character)
    symbol = symbol_at(document.tree, document.language, offset)
    if symbol is None:
        return None
    only = requested_kinds(params)
    actions = []
    for action, handler in REGISTRY.items():
        kind = action_kind(action)
        if not _wanted(kind, only) or document.language not in handler.languages:
            continue
        for variant, options in handler.variants:
            title = ACTION_TITLES.get(action, f"{action.capitalize()} {{symbol}} (swarm)").format(symbol=symbol.qualname)
            if variant:
                title = title.replace(" (swarm)", f": {variant} (swarm)")
            arguments: dict[str, Any] = {
                "action": action, "uri": document.uri, "version": document.version, "symbol": symbol.qualname,
                "line": symbol.start_line, "options": dict(options),
            }
            actions.append(types.CodeAction(
                title=title, kind=kind, command=types.Command(title=title, command=RUN_COMMAND, arguments=[arguments]),
            ))
    return actions or None
