"""The action registry: every front end (CLI, LSP, MCP) looks actions up here by kind."""

from __future__ import annotations

from swarm_lsp.swarm.actions.audit import AuditAction
from swarm_lsp.swarm.actions.base import Action, ActionInputError
from swarm_lsp.swarm.actions.document import DocumentAction
from swarm_lsp.swarm.actions.refactor import RefactorAction
from swarm_lsp.swarm.actions.tests import TestsAction

REGISTRY: dict[str, Action] = {action.kind: action for action in (DocumentAction(), TestsAction(), RefactorAction(), AuditAction())}


def get_action(kind: str) -> Action:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ActionInputError(f"unknown action {kind!r}; available: {', '.join(sorted(REGISTRY))}") from None
