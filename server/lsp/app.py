"""Handler registration: thin adapters from LSP messages to the document store and the session.

Document sync and `textDocument/codeAction` are synchronous and cheap; model work happens only in
the async `swarm.run` command (a job with progress and cancellation).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from swarm_lsp.server.errors import lsp_error
from swarm_lsp.server.lsp.code_actions import RUN_COMMAND, all_kinds, code_actions, requested_kinds
from swarm_lsp.server.lsp.diagnostics import AUDIT_COMMAND, NotAuditable, SaveAuditor, publish_audit, quick_fixes
from swarm_lsp.server.lsp.runner import run_action_safely
from swarm_lsp.server.lsp.server import CURRENT_REQUEST, SwarmLanguageServer
from swarm_lsp.swarm import heap
from swarm_lsp.swarm.errors import SwarmLspError
from swarm_lsp.swarm.report import build_report, parse_since, workspace_key

log = logging.getLogger(__name__)

REPORT_COMMAND, STATUS_COMMAND, CANCEL_COMMAND = "swarm.report", "swarm.status", "swarm.cancel"
MEMORY_COMMAND = "swarm.memory"


def create_server(version: str) -> SwarmLanguageServer:
    server = SwarmLanguageServer(version)
    save_auditor = SaveAuditor(server)

    @server.feature(types.INITIALIZE)
    def initialize(ls: SwarmLanguageServer, params: types.InitializeParams) -> None:
        ls.initialize(params)

    @server.feature(types.INITIALIZED)
    def initialized(ls: SwarmLanguageServer, params: types.InitializedParams) -> None:
        loop = asyncio.get_running_loop()
        if any(tier.startswith("llamacpp:") for tier in ls.config.tiers):
            from swarm_lsp.swarm.backends.llamacpp import preload_library

            loaded = loop.run_in_executor(None, preload_library)
            loaded.add_done_callback(lambda _: heap.settle())  # the start-up imports are in now
        else:
            loop.call_soon(heap.settle)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SwarmLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        ls.store.open(document.uri, document.text, document.version)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SwarmLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.store.change(params.text_document.uri, params.text_document.version, params.content_changes)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: SwarmLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        log.debug("saved %s", params.text_document.uri)
        save_auditor.saved(params.text_document.uri)
        if (path := to_fs_path(params.text_document.uri)) is not None:
            ls.session.memory.saved(Path(path))  # indexed on the memory's own thread

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SwarmLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.store.close(params.text_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[*all_kinds(), types.CodeActionKind.QuickFix], resolve_provider=False),
    )
    def code_action(ls: SwarmLanguageServer, params: types.CodeActionParams):
        only = requested_kinds(params)
        fixes = quick_fixes(ls, params) if not only or "quickfix" in only else []
        return (fixes + (code_actions(ls.store, params) or [])) or None

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: SwarmLanguageServer, params: types.DidChangeConfigurationParams) -> None:
        ls.apply_settings(params.settings, "workspace/didChangeConfiguration")

    @server.command(RUN_COMMAND)
    async def run(ls: SwarmLanguageServer, arguments: Any) -> dict[str, Any]:
        return await run_action_safely(ls, arguments, CURRENT_REQUEST.get())

    @server.command(AUDIT_COMMAND)
    async def audit(ls: SwarmLanguageServer, arguments: Any) -> dict[str, Any]:
        uri = arguments.get("uri") if isinstance(arguments, dict) else None
        if not isinstance(uri, str) or not uri:
            raise JsonRpcInvalidParams("swarm.audit expects one object argument {uri}")
        try:
            return await publish_audit(ls, uri)
        except NotAuditable as exc:
            raise lsp_error(exc) from exc

    @server.command(STATUS_COMMAND)
    def status(ls: SwarmLanguageServer) -> dict[str, Any]:
        return ls.jobs.status()

    @server.command(CANCEL_COMMAND)
    def cancel(ls: SwarmLanguageServer, job_id: Any) -> dict[str, Any]:
        if not isinstance(job_id, str):
            raise JsonRpcInvalidParams("swarm.cancel expects a job id such as \"job-1\"")
        return {"job": job_id, "cancelled": ls.jobs.cancel(job_id)}

    @server.command(REPORT_COMMAND)
    async def report(ls: SwarmLanguageServer, *arguments: Any) -> dict[str, Any]:
        since, workspace = _report_filters(arguments)
        # the swarm's first build (it opens the ledger) and the SQLite queries: off the loop
        return await asyncio.to_thread(lambda: build_report(ls.swarm.ledger, ls.root, since, workspace))

    @server.command(MEMORY_COMMAND)
    async def memory(ls: SwarmLanguageServer, *arguments: Any) -> dict[str, Any]:
        query, k = _memory_arguments(arguments)
        if query is None:
            return await asyncio.to_thread(ls.session.memory.status)
        try:
            hits = await asyncio.to_thread(ls.session.memory.search, query, k)
        except SwarmLspError as exc:
            raise lsp_error(exc) from exc
        return {"query": query, "hits": [hit.to_dict() for hit in hits]}

    return server


def _memory_arguments(arguments: tuple[Any, ...]) -> tuple[str | None, int]:
    """`swarm.memory` takes no argument (the memory's status) or one object {query, k?} (a search)."""
    options = arguments[0] if len(arguments) == 1 else ({} if not arguments else None)
    if not isinstance(options, dict) or set(options) - {"query", "k"}:
        raise JsonRpcInvalidParams("swarm.memory expects no argument or one object {query, k?}")
    query, k = options.get("query"), options.get("k", 5)
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise JsonRpcInvalidParams("swarm.memory: query is a non-empty string")
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 50:
        raise JsonRpcInvalidParams("swarm.memory: k is an integer from 1 to 50")
    return query, k


def _report_filters(arguments: tuple[Any, ...]) -> tuple[datetime | None, str | None]:
    """`swarm.report` takes no argument or one object {since?, workspace?}, as `swarm-lsp report`'s
    --since and --workspace."""
    options = arguments[0] if len(arguments) == 1 else ({} if not arguments else None)
    if not isinstance(options, dict) or set(options) - {"since", "workspace"}:
        raise JsonRpcInvalidParams("swarm.report expects no argument or one object {since?, workspace?}")
    since, workspace = options.get("since"), options.get("workspace")
    if not isinstance(since, (str, type(None))) or not isinstance(workspace, (str, type(None))):
        raise JsonRpcInvalidParams("swarm.report: since and workspace are strings")
    try:
        return (parse_since(since) if since else None), (workspace_key(workspace) if workspace else None)
    except ValueError as exc:
        raise JsonRpcInvalidParams(f"swarm.report: since {exc}") from exc
