"""`swarm-lsp mcp [--root DIR]`: the MCP server over stdio. stdout carries the protocol only;
logs go to stderr. The root is `--root` or the current directory (client roots are not used yet)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)

EXIT_OK, EXIT_USAGE = 0, 2  # as in server/cli.py (not imported: `python -m ...cli` runs it as __main__)


def mcp_command(args: argparse.Namespace) -> int:
    from swarm_lsp.server.mcp.app import create_mcp_server

    root = Path(args.root or ".").expanduser().resolve()
    if not root.is_dir():
        print(f"swarm-lsp: error: --root {args.root}: not a folder", file=sys.stderr)
        return EXIT_USAGE
    log.info("swarm-lsp MCP server on stdio, workspace root %s", root)
    server = create_mcp_server(root)
    try:
        server.run("stdio")
    except KeyboardInterrupt:
        print("swarm-lsp: MCP server stopped", file=sys.stderr)
    return EXIT_OK
