"""One MCP tool per action in the registry. The tool confines the path, reads a snapshot, submits
the run to the session (progress forwarded as MCP progress notifications), and writes the plan's
edits only when `apply` is true and each file is unchanged since it was read."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from swarm_lsp.server.errors import tool_error_message
from swarm_lsp.server.mcp.confine import resolve_file_inside
from swarm_lsp.server.mcp.state import McpState
from swarm_lsp.server.session.session import RunOutcome, Session
from swarm_lsp.server.workspace import StaleFile
from swarm_lsp.swarm.actions import REGISTRY
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.errors import SwarmLspError
from swarm_lsp.swarm.events import Event
from swarm_lsp.swarm.types import DocumentSnapshot

log = logging.getLogger(__name__)

TOOL_NAMES = {"document": "document", "tests": "generate_tests", "refactor": "refactor", "audit": "audit"}
# (readOnlyHint, destructiveHint, idempotentHint) per action; openWorldHint is False for all: the
# tools touch only the workspace root and the configured model tiers, not an open set of sites.
# An action missing here gets the most cautious hints (writes, destructive, not idempotent).
ACTION_HINTS: dict[str, tuple[bool, bool, bool]] = {
    # rewrites the symbol's docstring in place with apply=true; a new model answer may differ each time
    "document": (False, True, False),
    # only adds a test module or tests to one (never removes code), so not destructive; not idempotent
    "tests": (False, False, False),
    "refactor": (False, True, False),  # rewrites code in place with apply=true
    "audit": (True, False, True),  # reports findings only; no `apply` effect, nothing written
}
CAUTIOUS_HINTS = (False, True, False)
READ_ONLY_ACTIONS = frozenset(kind for kind, hints in ACTION_HINTS.items() if hints[0])
DESCRIPTIONS = {
    "document": "Write a docstring (or doc comment) for one function, method or class, in the project's "
                "style, covering every parameter, return value and raised exception.",
    "tests": "Generate pytest tests for one Python function, method or class. Every kept test was run in a "
             "sandbox copy of the workspace, passes alone and three times more, and adds line or branch "
             "coverage; the evidence gives coverage, mutation score and why other tests were dropped. The "
             "tests go where the project keeps them (merged into an existing module).",
    "refactor": "Rewrite one symbol per `instruction`, keeping its behaviour (tests pass before and after).",
    "audit": "Report security findings (CWE-tagged) for one symbol, or for the whole file when neither "
             "`symbol` nor `line` is given (as `swarm-lsp run audit PATH` does).",
}
WHOLE_FILE_ACTIONS = frozenset({"audit"})  # may name no symbol: the whole file is the target
COMMON_NOTE = (" Local models write, deterministic gates verify; the cloud tier is used only if configured."
               " Name the target with exactly one of `symbol` (qualified name) or `line` (1-based)."
               " `apply` defaults to false: a dry run that returns the unified diff and writes nothing;"
               " apply=true writes the file, and refuses if it changed since it was read.")

PathArg = Annotated[str, Field(description="file path, relative to the workspace root (or absolute inside it)")]
SymbolArg = Annotated[str | None, Field(description="qualified name, e.g. `slugify` or `Parser.parse`")]
LineArg = Annotated[int | None, Field(description="a 1-based line inside the symbol (instead of `symbol`)", ge=1)]
ApplyArg = Annotated[bool, Field(description="write the edit to the file (default false: dry run, diff only)")]
TiersArg = Annotated[list[str] | None, Field(description="backends to try in order for this call, e.g. "
                                                         "[\"llamacpp:qwen2.5-coder-0.5b\"]; default: configured tiers")]
InstructionArg = Annotated[str, Field(description="what to change, e.g. `extract the parsing into a helper`")]
CandidatesArg = Annotated[int | None, Field(description="writer attempts per tier for this call (default: configured)",
                                            ge=1, le=16)]
ReviewersArg = Annotated[int | None, Field(description="reviewers voting for this call (default: configured)", ge=0, le=31)]


class ActionToolResult(BaseModel):
    status: str = Field(description="accepted | rejected | failed | cancelled")
    tier: str | None = Field(default=None, description="the backend whose candidate was accepted")
    diff: str = Field(default="", description="unified diff of the edit (empty when not accepted)")
    applied: bool = Field(default=False, description="whether the edit was written to the file")
    evidence: dict[str, Any] = Field(default_factory=dict)
    usage: dict[str, Any] = Field(default_factory=dict, description="local_tokens, cloud_tokens, by_model")
    message: str = ""
    elapsed_s: float = 0.0


def tool_name(kind: str) -> str:
    return TOOL_NAMES.get(kind, kind)


def target_of(symbol: str | None, line: int | None, whole_file: bool = False) -> str:
    """The action's target: a symbol, a line, or ("" ) the whole file where the action allows it."""
    named = symbol is not None and bool(symbol.strip())
    if whole_file and not named and line is None:
        return ""
    if named == (line is not None):
        what = "at most" if whole_file else "exactly"
        raise ToolError(f"name the target with {what} one of `symbol` (qualified name) or `line` (1-based)")
    return symbol.strip() if symbol is not None and named else str(line)


class ProgressForwarder:
    """Event sink -> MCP progress notifications, sent in order by one task (sinks are synchronous)."""

    def __init__(self, ctx: Context, clean: Callable[[str], str] = str) -> None:
        self.ctx, self.count, self.clean = ctx, 0, clean
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.task = asyncio.ensure_future(self._send())

    def __call__(self, event: Event) -> None:
        self.queue.put_nowait(self.clean(event.message))  # paths, secrets and size as in results

    async def _send(self) -> None:
        while (message := await self.queue.get()) is not None:
            self.count += 1
            try:
                await self.ctx.report_progress(self.count, None, message)
            except Exception as exc:  # a progress failure must never break the job
                log.debug("progress notification failed: %s", exc)

    async def close(self) -> None:
        self.queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout=5)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self.task.cancel()


async def run_action_tool(state: McpState, ctx: Context, kind: str, path: str, symbol: str | None,
                          line: int | None, apply: bool, plan: dict[str, Any],
                          options: dict[str, Any] | None = None) -> ActionToolResult:
    """`plan`: the call's own tiers, candidates and reviewers (None or empty: the configured ones,
    the action's own `actions.<kind>` settings included)."""
    target = target_of(symbol, line, whole_file=kind in WHOLE_FILE_ACTIONS)
    overrides = {**(options or {}), **{key: value for key, value in plan.items() if value}}
    if plan.get("reviewers") == 0:
        overrides["reviewers"] = 0  # zero is a choice, not "unset"
    session = state.session
    try:
        file = resolve_file_inside(state.root, path)
        snapshot = session.read(file)
        session.job_settings(kind, overrides, "the tool arguments")  # a bad argument fails before queueing
    except SwarmLspError as exc:
        raise ToolError(tool_error_message(exc)) from exc
    except UnicodeDecodeError as exc:
        raise ToolError(f"`{path}` is not UTF-8 text ({exc})") from exc
    except OSError as exc:
        raise ToolError(f"`{path}` cannot be read: {exc}") from exc
    progress = ProgressForwarder(ctx, state.sanitiser.progress)
    try:
        outcome = await run_until_cancelled(session, kind, snapshot, target, overrides, progress)
    except SwarmLspError as exc:
        raise ToolError(tool_error_message(exc)) from exc
    finally:
        with anyio.CancelScope(shield=True):
            await progress.close()
    return _finish(outcome, session.root, state.root, apply)


async def run_until_cancelled(session: Session, kind: str, snapshot: DocumentSnapshot, target: str,
                              overrides: dict[str, Any], progress: ProgressForwarder) -> RunOutcome:
    """The run in the session's queue. The SDK applies `notifications/cancelled` by cancelling the
    tool's scope; that becomes the run's cancel token, as in every other front end, and the call
    waits (shielded) for the run to end: its interrupted model call, with the tokens it had spent,
    reaches the ledger, and the next call does not start while this one still holds the model."""
    cancel = CancelToken()
    job = await session.submit(kind, snapshot, target, cancel=cancel, overrides=overrides,
                               source="the tool arguments", events=progress, origin="mcp")
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        cancel.cancel("cancelled by the client")
        with anyio.CancelScope(shield=True):
            await asyncio.wait({job})
        if not job.cancelled() and job.exception() is not None:
            log.warning("the cancelled %s job failed: %s", kind, job.exception())
        raise


def _finish(outcome: RunOutcome, workspace: Path, root: Path, apply: bool) -> ActionToolResult:
    result, plan = outcome.result, outcome.plan
    diff = plan.diff
    message = result.message or (f"{result.status} from {result.tier}" if result.tier else result.status)
    if result.status == "accepted" and result.evidence.get("summary"):
        message += f"; {result.evidence['summary']}"
    applied = False
    if diff and not apply:
        message += "; dry run, nothing written (apply=true writes it)"
    elif diff:
        try:
            plan.write(workspace, inside=root)
            applied = True
            message += "; applied"
        except (StaleFile, OSError) as exc:
            message += f"; not applied: {exc}"
    return ActionToolResult(status=result.status, tier=result.tier, diff=diff, applied=applied,
                            evidence=result.evidence, usage=result.usage.to_dict(), message=message,
                            elapsed_s=result.elapsed_s)


def _make_tool(state: McpState, kind: str):
    if kind == "refactor":
        async def refactor_tool(path: PathArg, instruction: InstructionArg, ctx: Context,
                                symbol: SymbolArg = None, line: LineArg = None, apply: ApplyArg = False,
                                tiers: TiersArg = None, candidates: CandidatesArg = None,
                                reviewers: ReviewersArg = None) -> ActionToolResult:
            if not instruction.strip():
                raise ToolError("`instruction` must say what to change")
            plan = {"tiers": tiers, "candidates": candidates, "reviewers": reviewers}
            return await run_action_tool(state, ctx, kind, path, symbol, line, apply, plan,
                                         {"instruction": instruction})

        return refactor_tool

    async def action_tool(path: PathArg, ctx: Context, symbol: SymbolArg = None, line: LineArg = None,
                          apply: ApplyArg = False, tiers: TiersArg = None, candidates: CandidatesArg = None,
                          reviewers: ReviewersArg = None) -> ActionToolResult:
        plan = {"tiers": tiers, "candidates": candidates, "reviewers": reviewers}
        return await run_action_tool(state, ctx, kind, path, symbol, line, apply, plan)

    return action_tool


def register_action_tools(server: MCPServer, state: McpState) -> list[str]:
    """Add one tool per registered action; returns the tool names."""
    names = []
    for kind in REGISTRY:
        read_only, destructive, idempotent = ACTION_HINTS.get(kind, CAUTIOUS_HINTS)
        annotations = ToolAnnotations(
            title=f"swarm-lsp {tool_name(kind).replace('_', ' ')}",
            read_only_hint=read_only,
            destructive_hint=destructive,
            idempotent_hint=idempotent,
            open_world_hint=False,
        )
        description = DESCRIPTIONS.get(kind, f"Run the `{kind}` action on one symbol.") + COMMON_NOTE
        server.add_tool(_make_tool(state, kind), name=tool_name(kind), description=description,
                        annotations=annotations, structured_output=True)
        names.append(tool_name(kind))
    return names
