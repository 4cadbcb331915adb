"""Combined mode: `swarm-lsp --stdio --mcp-http 127.0.0.1:PORT`. The server the editor starts also
serves MCP over HTTP, on a thread of its own, in the language server's session: one configuration
(a settings change from the editor reaches the MCP tools), one run queue on the language server's
loop (an editor job and an MCP call run one after the other), one loaded model, one ledger."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from swarm_lsp.server.lsp.server import SwarmLanguageServer
from swarm_lsp.swarm.errors import InputError

log = logging.getLogger(__name__)


class CombinedModeError(InputError):
    pass


def start_mcp_beside(lsp: SwarmLanguageServer, address: str, root: Path) -> threading.Thread:
    """Start MCP over HTTP for `root` in a daemon thread, sharing `lsp`'s swarm. Loopback only."""
    import uvicorn

    from swarm_lsp.server.mcp.app import create_mcp_server
    from swarm_lsp.server.mcp.http import MCP_PATH, is_loopback_host, parse_host_port, secured_app
    from swarm_lsp.server.mcp.limits import rate_limit_from_env
    from swarm_lsp.server.mcp.token import TokenFileError, load_or_create_token

    try:
        host, port = parse_host_port(address)
    except ValueError as exc:
        raise CombinedModeError(f"--mcp-http: {exc}") from exc
    if not is_loopback_host(host):
        raise CombinedModeError(f"--mcp-http {address}: combined mode serves MCP on loopback only")
    if not root.is_dir():
        raise CombinedModeError(f"--mcp-root {root}: not a folder")
    try:
        limit = rate_limit_from_env()
    except ValueError as exc:
        raise CombinedModeError(f"$SWARM_LSP_MCP_RATE_LIMIT: {exc}") from exc
    try:
        token = load_or_create_token()
    except (TokenFileError, OSError) as exc:
        raise CombinedModeError(str(exc)) from exc
    lsp.session.loop_owned_elsewhere = True  # MCP calls join the language server's loop and queue
    mcp = create_mcp_server(root, session=lsp.session)
    app = secured_app(mcp, token, host=host, limit=limit)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="swarm-lsp-mcp-http", daemon=True)
    thread.start()
    print(f"swarm-lsp: MCP server at http://{host}:{port}{MCP_PATH} beside the language server "
          f"(root {root})", file=sys.stderr)
    return thread
