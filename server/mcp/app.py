"""`create_mcp_server`: the MCP front end over the one swarm. A thin adapter (DESIGN.md §6): tools
are generated from the action registry, plus `token_report`, `swarm_status` and `memory_search`, and the resources
`swarm://report` and `swarm://ledger/recent`. Every path a tool touches is confined to `root`."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from swarm_lsp.server.mcp.action_tools import register_action_tools
from swarm_lsp.server.mcp.guarded import GuardedMCPServer
from swarm_lsp.server.mcp.state import McpState, SwarmFactory
from swarm_lsp.server.session.session import Session
from swarm_lsp.swarm.errors import SwarmLspError
from swarm_lsp.swarm.ledger import format_time
from swarm_lsp.swarm.report import build_report, parse_since, workspace_key

log = logging.getLogger(__name__)

RECENT_CALLS = 50
INSTRUCTIONS = (
    "swarm-lsp runs code actions (document today; tests, refactor and audit as they land) with a swarm "
    "of local models whose output deterministic gates verify, escalating to the cloud only if configured. "
    "Delegate routine edits here to save your own tokens. Paths are relative to the workspace root; "
    "tools return a unified diff and write only with apply=true."
)
SinceArg = Annotated[str | None, Field(description="only rows from then on: YYYY-MM-DD, an ISO datetime "
                                                      "(UTC unless it has an offset), or relative 7d / 24h")]
WorkspaceArg = Annotated[str | None, Field(description="only rows of the workspace rooted at this path "
                                                       "(relative: to the root; default: every workspace)")]
QueryArg = Annotated[str, Field(description="what to look for, in plain words", min_length=1, max_length=2000)]
KArg = Annotated[int, Field(description="how many results", ge=1, le=50)]
# reads the ledger and the queue only; the same arguments give the same answer until new runs land
REPORT_ANNOTATIONS = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                     open_world_hint=False)


async def token_report_data(state: McpState, since: str | None = None, workspace: str | None = None) -> dict[str, Any]:
    """The savings report (swarm/report.py): the same object as `swarm-lsp report --json` and the
    language server's `swarm.report`, for the rows since `since` in `workspace` (default: all)."""
    try:
        since_time = parse_since(since) if since else None
    except ValueError as exc:
        raise ToolError(f"since: {exc}") from exc
    # a relative workspace is taken from the root, as the tools' paths are
    key = workspace_key(state.root / workspace) if workspace else None
    ledger = state.swarm.ledger  # on the loop, as every other use of the session's swarm
    # the queries off it: in combined mode the language server shares this loop
    return await anyio.to_thread.run_sync(build_report, ledger, state.root, since_time, key)


def recent_calls_data(state: McpState, limit: int = RECENT_CALLS) -> list[dict[str, Any]]:
    ledger = state.swarm.ledger
    if ledger is None:
        return []
    rows = []
    for call in ledger.recent_calls(limit):
        row = dict(vars(call))
        row["time"] = format_time(call.time)
        rows.append(row)
    return rows


def swarm_status_data(state: McpState) -> dict[str, Any]:
    """The session's queue (every front end's runs, each with its origin) and its configuration."""
    queue = state.session.queue
    return {
        "workspace": str(state.root),
        **queue.status(),
        "finished": queue.finished,
        "swarm_loaded": state.loaded,
        "tiers": list(state.config.tiers),
    }


async def _ready(function: Any, state: McpState) -> Any:
    return function(state)


async def resource_data(state: McpState, data: Awaitable[Any]) -> Any:
    """A resource's data through the sanitiser, as tool results; a failure is a sanitised `ResourceError`."""
    try:
        return state.sanitiser.value(await data)
    except ResourceError:
        raise
    except Exception as exc:
        log.exception("MCP resource failed")
        raise ResourceError(state.sanitiser.error(f"swarm-lsp failed: {exc}")) from None


def create_mcp_server(root: Path, swarm_factory: SwarmFactory | None = None,
                      session: Session | None = None) -> MCPServer:
    """The MCP server for the workspace at `root`. It runs actions in `session` (combined mode: the
    language server's), else in its own with the workspace's configuration, whose swarm
    `swarm_factory(root)` builds on first use (default: from the configuration). Every tool result
    and error, and both resources, pass through the state's sanitiser (guarded.py, sanitise.py)."""
    state = McpState(root, session, swarm_factory)
    server = GuardedMCPServer("swarm-lsp", instructions=INSTRUCTIONS, log_level="WARNING",
                              sanitiser=state.sanitiser)
    register_action_tools(server, state)

    @server.tool(name="token_report", annotations=REPORT_ANNOTATIONS,
                 description="The savings report from the ledger: actions by kind and status, accepted locally "
                             "vs escalated, local and cloud tokens (measured), cloud tokens avoided (an estimate, "
                             "its method stated), latency and usage per action and per model, tokens per day; "
                             "plus today / this workspace / all-time totals.")
    async def token_report(since: SinceArg = None, workspace: WorkspaceArg = None) -> dict[str, Any]:
        return await token_report_data(state, since, workspace)

    @server.tool(name="swarm_status", annotations=REPORT_ANNOTATIONS,
                 description="Actions now running or queued (one runs at a time; in combined mode the editor's "
                             "too), with their targets, origin and current stage, and the configured tiers.")
    def swarm_status() -> dict[str, Any]:
        return swarm_status_data(state)

    @server.tool(name="memory_search", annotations=REPORT_ANNOTATIONS,
                 description="Search the project's memory: the functions, methods and classes that best match a "
                             "question in plain words (\"where do we retry failed requests?\"), with path, symbol, "
                             "line range and score. The index is brought up to date first (only changed code is "
                             "embedded again).")
    async def memory_search(query: QueryArg, k: KArg = 5) -> dict[str, Any]:
        if not query.strip():
            raise ToolError("query: say what to look for")
        try:
            hits = await anyio.to_thread.run_sync(lambda: state.session.memory.search(query, k, refresh=True))
        except SwarmLspError as exc:
            raise ToolError(str(exc)) from exc
        return {"query": query, "hits": [hit.to_dict() for hit in hits]}

    @server.resource("swarm://report", name="token report", mime_type="application/json",
                     description="The same as the token_report tool (no filters), as JSON.")
    async def report_resource() -> str:
        return json.dumps(await resource_data(state, token_report_data(state)), indent=2)

    @server.resource("swarm://ledger/recent", name="recent model calls", mime_type="application/json",
                     description=f"The last {RECENT_CALLS} model calls in the ledger, newest first, as JSON.")
    async def recent_resource() -> str:
        return json.dumps(await resource_data(state, _ready(recent_calls_data, state)), indent=2)

    server.swarm_state = state  # type: ignore[attr-defined]  # for tests and the combined server
    return server
