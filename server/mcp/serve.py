"""`swarm-lsp mcp [--root DIR]`: the MCP server over stdio (stdout carries the protocol only; logs go
to stderr), or with `--http HOST:PORT` over streamable HTTP at `/mcp`, loopback only unless
`--allow-remote`, behind a bearer token and per-client limits (`--rate-limit` if the CLI defines it,
else `$SWARM_LSP_MCP_RATE_LIMIT`; limits.py). `swarm-lsp mcp token` prints that token (creating it).
The root is `--root` or the current directory (client roots are not used yet)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from swarm_lsp.server.errors import EXIT_OK, EXIT_USAGE

log = logging.getLogger(__name__)


def _error(message: str) -> int:
    print(f"swarm-lsp: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def mcp_command(args: argparse.Namespace) -> int:
    from swarm_lsp.server.mcp.token import TokenFileError, load_or_create_token

    if getattr(args, "mcp_action", None) == "token":
        try:
            print(load_or_create_token())
        except (TokenFileError, OSError) as exc:
            return _error(str(exc))
        return EXIT_OK

    root = Path(args.root or ".").expanduser().resolve()
    if not root.is_dir():
        return _error(f"--root {args.root}: not a folder")

    http = getattr(args, "http", None)
    if http:
        from swarm_lsp.server.mcp.http import is_loopback_host, parse_host_port

        try:
            host, port = parse_host_port(http)
        except ValueError as exc:
            return _error(f"--http: {exc}")
        if not is_loopback_host(host):
            if not getattr(args, "allow_remote", False):
                return _error(f"--http {http}: {host} is not a loopback address; the MCP server binds "
                              "127.0.0.1 by default, pass --allow-remote to expose it on the network")
            print(f"swarm-lsp: warning: serving MCP on {host}, reachable from other machines; anyone with "
                  "the token can read and change files under the workspace root. Use TLS or an SSH tunnel.",
                  file=sys.stderr)
        from swarm_lsp.server.mcp.limits import rate_limit_from_env

        try:
            limit = rate_limit_from_env(getattr(args, "rate_limit", None))
        except ValueError as exc:
            return _error(f"--rate-limit: {exc}")
        try:
            token = load_or_create_token()
        except (TokenFileError, OSError) as exc:
            return _error(str(exc))
        from swarm_lsp.server.mcp.app import create_mcp_server
        from swarm_lsp.server.mcp.http import serve_http

        log.info("swarm-lsp MCP server on http://%s:%d/mcp, workspace root %s", host, port, root)
        try:
            serve_http(create_mcp_server(root), host, port, token, limit=limit)
        except KeyboardInterrupt:
            print("swarm-lsp: MCP server stopped", file=sys.stderr)
        return EXIT_OK

    from swarm_lsp.server.mcp.app import create_mcp_server

    log.info("swarm-lsp MCP server on stdio, workspace root %s", root)
    server = create_mcp_server(root)
    try:
        server.run("stdio")
    except KeyboardInterrupt:
        print("swarm-lsp: MCP server stopped", file=sys.stderr)
    return EXIT_OK
