"""`swarm-lsp index [PATH]` and `swarm-lsp memory search QUERY`: the project's memory from the
command line (the language server keeps it up to date on save)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from swarm_lsp.server.cli_options import UsageError, config_from_args
from swarm_lsp.server.config import Config
from swarm_lsp.server.errors import EXIT_OK
from swarm_lsp.server.workspace import find_workspace
from swarm_lsp.swarm.memory import MemoryIndex, open_memory
from swarm_lsp.swarm.verify.workspace_copy import is_within

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def add_memory_parsers(commands: Any) -> None:
    index = commands.add_parser("index", help="index the project's functions and classes for the memory",
                                description="Embed every function, method and class of the workspace (or of "
                                "PATH inside it) into the project's memory; only what changed since the last "
                                "run is embedded again.")
    index.add_argument("path", nargs="?", default=".", help="a file or folder inside the workspace (default: .)")
    index.add_argument("--workspace", metavar="DIR", help="workspace root (default: found above PATH)")
    index.add_argument("--json", action="store_true", help="print what was done as JSON")
    index.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    memory = commands.add_parser("memory", help="search the project's memory")
    sub = memory.add_subparsers(dest="memory_command", metavar="SUBCOMMAND", required=True)
    search = sub.add_parser("search", help="the functions and classes that best match a question")
    search.add_argument("query", help='what you look for, in plain words: "where do we retry failed requests?"')
    search.add_argument("--root", metavar="DIR", help="workspace root (default: found above the current folder)")
    search.add_argument("-k", type=int, default=5, metavar="N", help="how many results (1-50, default 5)")
    search.add_argument("--json", action="store_true", help="print JSON")


def _open(config: Config, workspace: Path) -> MemoryIndex:
    return open_memory(workspace, embedder=config.memory_embedder, memory_url=config.memory_url,
                       threads=config.threads, models_dir=config.models_dir)


def index_command(args: argparse.Namespace) -> int:
    target = Path(args.path).resolve()
    if not target.exists():
        raise UsageError(f"{args.path}: no such file or folder")
    workspace = Path(args.workspace).resolve() if args.workspace else find_workspace(target)
    if not is_within(target, workspace):
        raise UsageError(f"{args.path} is outside the workspace {workspace}")
    memory = _open(config_from_args(args, workspace), workspace)
    paths = None if target == workspace else _inside(target, workspace)
    with Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=stderr, transient=True, disable=args.no_progress) as bar:
        task = bar.add_task("embedding", total=None)
        stats = memory.update(paths, progress=lambda done, total: bar.update(task, completed=done, total=total))
    if args.json:
        json.dump({"workspace": str(workspace), "embedder": memory.embedder.name, **stats.to_dict()}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"{workspace}: {stats.files} files, {stats.chunks} functions and classes; {stats.embedded} embedded, "
              f"{stats.unchanged} unchanged, {stats.removed} removed ({memory.embedder.name})")
        for reason in stats.skipped:
            stderr.print(f"skipped {reason}")
    return EXIT_OK


def search_command(args: argparse.Namespace) -> int:
    if not 1 <= args.k <= 50:
        raise UsageError(f"-k {args.k}: expected 1 to 50")
    workspace = Path(args.root).resolve() if args.root else find_workspace(Path.cwd())
    memory = _open(config_from_args(args, workspace), workspace)
    if memory.collection.count() == 0:
        stderr.print(f"the memory of {workspace} is empty: run `swarm-lsp index {workspace}` first")
    hits = memory.search(args.query, args.k)
    if args.json:
        json.dump({"workspace": str(workspace), "query": args.query, "embedder": memory.embedder.name,
                   "hits": [h.to_dict() for h in hits]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    for hit in hits:
        print(f"{hit.score:.3f}  {hit.path}:{hit.start_line}-{hit.end_line}  {hit.kind} {hit.symbol}")
    return EXIT_OK


def _inside(target: Path, workspace: Path) -> list[str]:
    if target.is_file():
        return [target.relative_to(workspace).as_posix()]
    from swarm_lsp.swarm.verify.workspace_copy import list_files

    prefix = target.relative_to(workspace).as_posix() + "/"
    return [rel for rel in list_files(workspace) if rel.startswith(prefix)]
