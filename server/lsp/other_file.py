"""Applying an action's edit to a file other than the one it ran on (the tests action's module).

The file may not exist yet (CreateFile + insert when the client supports resource operations;
otherwise the server creates the file itself, inside the workspace, never over an existing one),
exist on disk only, or be open in the editor. The edit was computed from the file as it was on
disk; it is refused when the disk copy changed since, or when the open buffer differs from disk
(unsaved changes the action never saw).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import from_fs_path

from swarm_lsp.server.lsp.edits import new_file_edit, workspace_edit
from swarm_lsp.server.workspace import StaleFile, write_other_file
from swarm_lsp.swarm.types import Edit

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from swarm_lsp.server.lsp.server import SwarmLanguageServer


def _capabilities(server: "SwarmLanguageServer") -> tuple[bool, bool]:
    """(documentChanges, create resource operation) support of the client."""
    workspace = server.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace else None
    document_changes = bool(edit and edit.document_changes)
    operations = (edit.resource_operations or []) if edit else []
    return document_changes, document_changes and types.ResourceOperationKind.Create in operations


def other_file_edit(server: "SwarmLanguageServer", edit: Edit) -> types.WorkspaceEdit | None:
    """The WorkspaceEdit for `edit`; None when the file is new and the client cannot create files
    (the server then creates it). Raises ValueError (a message for the user) when it cannot apply."""
    path = server.root / edit.path
    uri = from_fs_path(str(path)) or path.as_uri()
    document_changes, can_create = _capabilities(server)
    if edit.created:
        if path.exists():
            raise ValueError(f"{path} was created after the action ran; run it again")
        return new_file_edit(uri, edit.new_text) if can_create else None
    try:
        version = os.stat(path).st_mtime_ns
        disk = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be read: {exc}") from exc
    if version != edit.version:
        raise ValueError(f"{path} changed on disk after the action read it; run it again")
    open_document = server.store.get(uri)
    if open_document is not None and open_document.text != disk:
        raise ValueError(f"{path} has unsaved changes in the editor; save it and run again")
    return workspace_edit(uri, open_document.version if open_document else None, disk, edit.new_text,
                          encoding=server.store.encoding, document_changes=document_changes)


async def apply_other_file(server: "SwarmLanguageServer", edit: Edit, label: str) -> tuple[bool, str | None]:
    try:
        workspace_change = other_file_edit(server, edit)
        if workspace_change is None:  # e.g. Neovim before 0.10: no CreateFile support
            write_other_file(edit, server.root)
            log.info("created %s on disk: the client cannot create files", edit.path)
            return True, None
    except (ValueError, StaleFile, OSError) as exc:
        return False, str(exc)
    return await ask_client_to_apply(server, workspace_change, label)


async def ask_client_to_apply(server: "SwarmLanguageServer", change: types.WorkspaceEdit,
                              label: str) -> tuple[bool, str | None]:
    """`workspace/applyEdit`: (applied, why not). A client that answers with an error (or drops
    the connection) has not applied it either; the job still ends with its progress closed."""
    try:
        response = await server.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=change, label=label))
    except Exception as exc:  # a JSON-RPC error from the client, or the connection gone
        log.warning("workspace/applyEdit failed: %s", exc)
        return False, f"the editor answered the edit with an error: {exc}"
    if not response.applied:
        return False, f"the editor did not apply the edit: {response.failure_reason or 'no reason given'}"
    return True, None
