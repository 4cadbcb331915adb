"""`swarm.run`: one action as a job — snapshot, queue, progress, Swarm.run, versioned applyEdit,
summary. Every failure is reported to the user and logged; none escapes to take the server down."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from swarm_lsp.server.lsp.edits import StaleEdit, rebase, workspace_edit
from swarm_lsp.server.lsp.diagnostics import publish_findings
from swarm_lsp.server.lsp.jobs import Job, QueueFull
from swarm_lsp.server.lsp.other_file import apply_other_file
from swarm_lsp.server.lsp.progress import JobProgress
from swarm_lsp.swarm.actions import REGISTRY
from swarm_lsp.swarm.actions.base import ActionInputError
from swarm_lsp.swarm.analysis.languages import UnsupportedLanguage, language_for_path
from swarm_lsp.swarm.analysis.symbols import SymbolNotFound, index_symbols, resolve_symbol
from swarm_lsp.swarm.types import ActionRequest, ActionResult, DocumentSnapshot

if TYPE_CHECKING:
    from swarm_lsp.server.lsp.server import SwarmLanguageServer

log = logging.getLogger(__name__)


class BadArguments(ValueError):
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
        if line is not None and not isinstance(line, int):
            raise BadArguments("`line` must be a 0-based line number")
        if not isinstance(options, dict):
            raise BadArguments("`options` must be an object")
        return cls(action, uri, symbol, line, options)


def _snapshot(server: "SwarmLanguageServer", uri: str) -> DocumentSnapshot:
    document = server.store.get(uri)
    if document is not None and document.path is None:
        raise BadArguments(f"{uri} is not a file on disk; save it first")
    if document is not None:
        return DocumentSnapshot(path=document.path, text=document.text, version=document.version)
    path = Path(to_fs_path(uri) or "")
    try:
        return DocumentSnapshot(path=str(path), text=path.read_text(encoding="utf-8"), version=0)
    except (OSError, UnicodeDecodeError) as exc:
        raise BadArguments(f"{uri} is not open and cannot be read: {exc}") from exc


def _symbols(snapshot: DocumentSnapshot):
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
    snapshot = _snapshot(server, args.uri)
    try:
        target = _target(snapshot, args)
    except UnsupportedLanguage as exc:
        raise BadArguments(str(exc)) from exc
    job = server.jobs.new_job(args.action, args.uri, args.symbol)
    if request_id is not None:
        server.jobs_by_request[request_id] = job.id
    progress = JobProgress(server, job, f"swarm-lsp: {args.action} {args.symbol}")
    try:
        await progress.begin()
    except BaseException:  # e.g. cancelled while the client creates the progress: never leave it queued
        job.state = "cancelled"
        server.jobs_by_request.pop(request_id, None)
        raise
    request = ActionRequest(args.action, snapshot, target, workspace=str(server.root),
                            options={**server.config.action_options(), **(args.options or {})})
    swarm = server.swarm
    try:
        result = await server.jobs.run(job, lambda job: swarm.run(request, events=progress, cancel=job.cancel))
    except ActionInputError as exc:
        progress.end(f"not run: {exc}")
        raise BadArguments(str(exc)) from exc
    finally:
        server.jobs_by_request.pop(request_id, None)
    applied, note = await _apply(server, args, snapshot, target, result)
    summary = _summary(job, result, applied, note)
    progress.end(summary["message"])
    _tell(server, summary, error=result.status == "failed" or note is not None and not applied)
    return summary


async def _apply(
    server, args: RunArguments, snapshot: DocumentSnapshot, target: str, result: ActionResult
) -> tuple[bool, str | None]:
    if result.status == "accepted" and result.action == "audit":
        if publish_findings(server, args.uri, result.evidence.get("findings", [])):
            return True, None
        return False, "the document changed during the audit; run it again to see the findings"
    if result.status != "accepted" or not result.edits:
        return False, None
    edit = result.edits[0]
    if edit.path != snapshot.path:  # a test module, not the document the action ran on
        return await apply_other_file(server, edit, f"swarm-lsp: {args.action} {args.symbol}")
    new_text = edit.new_text
    current = server.store.get(args.uri)
    current_text = current.text if current is not None else snapshot.text
    version = current.version if current is not None else None
    if current is not None and current.version != snapshot.version:
        try:
            new_text = rebase(snapshot.text, new_text, current.text, _target_range(snapshot, target))
        except (StaleEdit, SymbolNotFound) as exc:
            return False, str(exc)
    capabilities = server.client_capabilities.workspace
    document_changes = bool(capabilities and capabilities.workspace_edit and capabilities.workspace_edit.document_changes)
    edit = workspace_edit(args.uri, version, current_text, new_text,
                          encoding=server.store.encoding, document_changes=document_changes)
    response = await server.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=f"swarm-lsp: {args.action} {args.symbol}")
    )
    if not response.applied:
        return False, f"the editor did not apply the edit: {response.failure_reason or 'no reason given'}"
    return True, None


def _summary(job: Job, result: ActionResult, applied: bool, note: str | None) -> dict[str, Any]:
    usage = result.usage
    detail = f"{usage.local_tokens} local / {usage.cloud_tokens} cloud tokens, {result.elapsed_s:.1f}s"
    if result.status == "accepted":
        message = f"{result.action} {job.symbol}: accepted from {result.tier} ({detail})"
        message += "" if applied else f"; not applied: {note}"
    else:
        message = f"{result.action} {job.symbol}: {result.status}: {result.message} ({detail})"
    return {
        "job": job.id, "status": result.status, "applied": applied, "tier": result.tier, "message": message,
        "usage": usage.to_dict(), "evidence": result.evidence, "attempts": len(result.attempts),
    }


def _tell(server, summary: dict[str, Any], *, error: bool) -> None:
    log.info("swarm-lsp %s", summary["message"])
    kind = types.MessageType.Warning if error else types.MessageType.Info
    server.window_show_message(types.ShowMessageParams(type=kind, message=f"swarm-lsp: {summary['message']}"))
    server.window_log_message(types.LogMessageParams(type=types.MessageType.Log, message=str(summary)))


async def run_action_safely(server: "SwarmLanguageServer", raw: Any, request_id: Any) -> dict[str, Any]:
    try:
        return await run_action(server, raw, request_id)
    except (BadArguments, QueueFull) as exc:
        server.warn(f"swarm-lsp: {exc}")
        return {"status": "rejected", "applied": False, "message": str(exc)}
    except Exception as exc:
        log.exception("swarm.run failed")
        server.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                           message=f"swarm-lsp: the job failed: {exc}"))
        return {"status": "failed", "applied": False, "message": f"internal error: {exc}"}
