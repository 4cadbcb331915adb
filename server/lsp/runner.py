"""`swarm.run`: one action as a job: an editor snapshot, the session's queue with progress, and the
plan rendered in the editor (versioned applyEdit, diagnostics) with a summary. Bad arguments are
an InvalidParams error response; nothing escapes to take the server down."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from swarm_lsp.server.errors import lsp_error
from swarm_lsp.server.lsp.diagnostics import publish_findings
from swarm_lsp.server.lsp.edits import StaleEdit, rebase, workspace_edit
from swarm_lsp.server.lsp.other_file import apply_other_file, ask_client_to_apply
from swarm_lsp.server.lsp.progress import JobProgress
from swarm_lsp.server.session.edit_plan import EditPlan
from swarm_lsp.server.session.queue import QueuedRun
from swarm_lsp.server.session.session import RunOutcome
from swarm_lsp.swarm.actions import REGISTRY
from swarm_lsp.swarm.analysis.languages import language_for_path
from swarm_lsp.swarm.analysis.symbols import SymbolNotFound, index_symbols, resolve_symbol
from swarm_lsp.swarm.errors import InputError, SwarmLspError
from swarm_lsp.swarm.types import ActionResult, DocumentSnapshot, Edit, Symbol, workspace_relative

if TYPE_CHECKING:
    from swarm_lsp.server.lsp.server import SwarmLanguageServer

log = logging.getLogger(__name__)


class BadArguments(InputError):
    pass


@dataclass(frozen=True)
class RunArguments:
    action: str
    uri: str
    symbol: str
    line: int | None = None
    options: dict[str, Any] | None = None

    @classmethod
    def parse(cls, raw: Any) -> "RunArguments":
        if not isinstance(raw, dict):
            raise BadArguments("swarm.run expects one object argument {action, uri, symbol, version?, line?, options?}")
        action, uri, symbol = raw.get("action"), raw.get("uri"), raw.get("symbol")
        if action not in REGISTRY:
            raise BadArguments(f"unknown action {action!r}; available: {', '.join(REGISTRY)}")
        if not isinstance(uri, str) or not uri:
            raise BadArguments("`uri` must be a document URI")
        if not isinstance(symbol, str) or not symbol:
            raise BadArguments("`symbol` must be a qualified name such as `Class.method`")
        line, options = raw.get("line"), raw.get("options") or {}
        if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
            raise BadArguments("`line` must be a 0-based line number")
        if not isinstance(options, dict):
            raise BadArguments("`options` must be an object")
        return cls(action, uri, symbol, line, options)


def _snapshot(server: "SwarmLanguageServer", uri: str) -> DocumentSnapshot:
    """The open document as the editor has it, else the file on disk; the path is workspace-relative."""
    document = server.store.get(uri)
    if document is not None and document.path is None:
        raise BadArguments(f"{uri} is not a file on disk; save it first")
    if document is not None and document.path is not None:
        return DocumentSnapshot(path=workspace_relative(document.path, server.root), text=document.text,
                                version=document.version, version_kind="editor")
    try:
        return server.session.read(Path(to_fs_path(uri) or ""))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadArguments(f"{uri} is not open and cannot be read: {exc}") from exc


def _symbols(snapshot: DocumentSnapshot) -> list[Symbol]:
    return index_symbols(snapshot.text, language_for_path(snapshot.path), tsx=snapshot.path.endswith(".tsx"))


def _target_range(snapshot: DocumentSnapshot, target: str) -> tuple[int, int]:
    """The target symbol's (start, end) as str offsets of the snapshot text, for rebasing."""
    span = resolve_symbol(_symbols(snapshot), target).span
    data = snapshot.text.encode("utf-8")
    return len(data[: span.start_byte].decode("utf-8")), len(data[: span.end_byte].decode("utf-8"))


def _target(snapshot: DocumentSnapshot, args: RunArguments) -> str:
    """The qualname, or the line when the name is ambiguous (e.g. a property getter and setter)."""
    if args.line is None:
        return args.symbol
    try:
        resolve_symbol(_symbols(snapshot), args.symbol)
        return args.symbol
    except SymbolNotFound:
        return str(args.line + 1)


async def run_action(server: "SwarmLanguageServer", raw: Any, request_id: Any) -> dict[str, Any]:
    args = RunArguments.parse(raw)
    session = server.session
    snapshot = _snapshot(server, args.uri)
    target = await asyncio.to_thread(_target, snapshot, args)  # parses the whole file: off the loop
    session.job_settings(args.action, args.options, "the swarm.run options")  # bad options: before queueing
    queued = session.new_run(args.action, f"{args.uri}::{args.symbol}", "lsp")
    if request_id is not None:
        server.jobs_by_request[request_id] = queued.id
    progress = JobProgress(server, queued, f"swarm-lsp: {args.action} {args.symbol}")
    try:
        await progress.begin()
    except BaseException:  # e.g. cancelled while the client creates the progress: never leave it queued
        queued.state = "cancelled"
        server.jobs_by_request.pop(request_id, None)
        raise
    try:
        outcome = await session.run(args.action, snapshot, target, overrides=args.options,
                                    source="the swarm.run options", events=progress, origin="lsp", queued=queued)
    except SwarmLspError as exc:
        progress.end(f"not run: {exc}")
        raise
    finally:
        server.jobs_by_request.pop(request_id, None)
    applied, note = await _apply(server, args, outcome)
    summary = _summary(queued, args.symbol, outcome.result, applied, note)
    progress.end(summary["message"])
    _tell(server, summary, error=outcome.result.status == "failed" or note is not None and not applied)
    return summary


async def _apply(server: "SwarmLanguageServer", args: RunArguments, outcome: RunOutcome) -> tuple[bool, str | None]:
    """Render the plan in the editor: findings as diagnostics, edits as versioned workspace edits."""
    plan = outcome.plan
    label = f"swarm-lsp: {args.action} {args.symbol}"
    if plan.findings is not None and not publish_findings(server, args.uri, list(plan.findings)):
        return False, "the document changed meanwhile; run it again to see the findings"
    if not plan.edits:
        return plan.findings is not None, None
    for edit in plan.edits:
        if plan.is_document(edit):
            applied, note = await _apply_to_document(server, args.uri, plan, edit, label)
        else:
            applied, note = await apply_other_file(server, edit, label)
        if not applied:
            return False, note
    return True, None


async def _apply_to_document(server: "SwarmLanguageServer", uri: str, plan: EditPlan, edit: Edit,
                             label: str) -> tuple[bool, str | None]:
    snapshot, new_text = plan.document, edit.new_text
    current = server.store.get(uri)
    current_text = current.text if current is not None else snapshot.text
    version = current.version if current is not None else None
    if current is not None and (snapshot.version_kind != "editor" or current.version != snapshot.version):
        try:
            span = await asyncio.to_thread(_target_range, snapshot, plan.target)
            new_text = rebase(snapshot.text, new_text, current.text, span)
        except (StaleEdit, SymbolNotFound) as exc:
            return False, str(exc)
    capabilities = server.client_capabilities.workspace
    document_changes = bool(capabilities and capabilities.workspace_edit and capabilities.workspace_edit.document_changes)
    change = workspace_edit(uri, version, current_text, new_text,
                            encoding=server.store.encoding, document_changes=document_changes)
    return await ask_client_to_apply(server, change, label)


def _summary(queued: QueuedRun, symbol: str, result: ActionResult, applied: bool, note: str | None) -> dict[str, Any]:
    usage = result.usage
    detail = f"{usage.local_tokens} local / {usage.cloud_tokens} cloud tokens, {result.elapsed_s:.1f}s"
    if result.status == "accepted":
        message = f"{result.action} {symbol}: accepted from {result.tier} ({detail})"
        message += f"; {result.evidence['summary']}" if result.evidence.get("summary") else ""
        message += "" if applied else f"; not applied: {note}"
    else:
        message = f"{result.action} {symbol}: {result.status}: {result.message} ({detail})"
    return {
        "job": queued.id, "status": result.status, "applied": applied, "tier": result.tier, "message": message,
        "usage": usage.to_dict(), "evidence": result.evidence, "attempts": len(result.attempts),
    }


def _tell(server: "SwarmLanguageServer", summary: dict[str, Any], *, error: bool) -> None:
    log.info("swarm-lsp %s", summary["message"])
    kind = types.MessageType.Warning if error else types.MessageType.Info
    server.window_show_message(types.ShowMessageParams(type=kind, message=f"swarm-lsp: {summary['message']}"))
    server.window_log_message(types.LogMessageParams(type=types.MessageType.Log, message=str(summary)))


async def run_action_safely(server: "SwarmLanguageServer", raw: Any, request_id: Any) -> dict[str, Any]:
    """`swarm.run`: bad arguments and other errors of the product become JSON-RPC error responses
    (InvalidParams for what the user can fix), shown to the user too."""
    try:
        return await run_action(server, raw, request_id)
    except SwarmLspError as exc:
        server.warn(f"swarm-lsp: {exc}")
        raise lsp_error(exc) from exc
