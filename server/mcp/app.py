"""`create_mcp_server`: the MCP front end over the one swarm. A thin adapter (DESIGN.md §6): tools
are generated from the action registry, plus `token_report` and `swarm_status`, and the resources
`swarm://report` and `swarm://ledger/recent`. Every path a tool touches is confined to `root`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

from swarm_lsp.server.mcp.action_tools import register_action_tools
from swarm_lsp.server.mcp.state import McpState, SwarmFactory
from swarm_lsp.server.session.session import Session
from swarm_lsp.swarm.ledger import format_time
from swarm_lsp.swarm.tiers import start_of_today

RECENT_CALLS = 50
INSTRUCTIONS = (
    "swarm-lsp runs code actions (document today; tests, refactor and audit as they land) with a swarm "
    "of local models whose output deterministic gates verify, escalating to the cloud only if configured. "
    "Delegate routine edits here to save your own tokens. Paths are relative to the workspace root; "
    "tools return a unified diff and write only with apply=true."
)
REPORT_ANNOTATIONS = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                     open_world_hint=False)


def token_report_data(state: McpState) -> dict[str, Any]:
    """Measured ledger totals: today (local midnight), this workspace, all time."""
    ledger = state.swarm.ledger
    if ledger is None:
        return {"workspace": str(state.root), "ledger": None, "message": "this swarm keeps no ledger"}
    return {
        "workspace": str(state.root),
        "ledger": str(ledger.path),
        "today": ledger.totals(since=start_of_today()),
        "workspace_totals": ledger.totals(workspace=str(state.root)),
        "all_time": ledger.totals(),
        "note": "measured tokens from the ledger; local_tokens/cloud_tokens are prompt + completion, "
                "provider cache reads/writes are counted separately",
    }


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


def create_mcp_server(root: Path, swarm_factory: SwarmFactory | None = None,
                      session: Session | None = None) -> MCPServer:
    """The MCP server for the workspace at `root`. It runs actions in `session` (combined mode: the
    language server's), else in its own with the workspace's configuration, whose swarm
    `swarm_factory(root)` builds on first use (default: from the configuration)."""
    state = McpState(root, session, swarm_factory)
    server = MCPServer("swarm-lsp", instructions=INSTRUCTIONS, log_level="WARNING")
    register_action_tools(server, state)

    @server.tool(name="token_report", annotations=REPORT_ANNOTATIONS,
                 description="Token usage from the ledger: today, this workspace and all time, local and "
                             "cloud tokens (measured), calls and actions by status.")
    def token_report() -> dict[str, Any]:
        return token_report_data(state)

    @server.tool(name="swarm_status", annotations=REPORT_ANNOTATIONS,
                 description="Actions now running or queued (one runs at a time; in combined mode the editor's "
                             "too), with their targets, origin and current stage, and the configured tiers.")
    def swarm_status() -> dict[str, Any]:
        return swarm_status_data(state)

    @server.resource("swarm://report", name="token report", mime_type="application/json",
                     description="The same as the token_report tool, as JSON.")
    def report_resource() -> str:
        return json.dumps(token_report_data(state), indent=2)

    @server.resource("swarm://ledger/recent", name="recent model calls", mime_type="application/json",
                     description=f"The last {RECENT_CALLS} model calls in the ledger, newest first, as JSON.")
    def recent_resource() -> str:
        return json.dumps(recent_calls_data(state), indent=2)

    server.swarm_state = state  # type: ignore[attr-defined]  # for tests and the combined server
    return server
