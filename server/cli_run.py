"""`swarm-lsp run ACTION TARGET`: one action from the command line, progress on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from swarm_lsp.server.cli_options import UsageError, config_from_args
from swarm_lsp.server.errors import EXIT_OK, EXIT_REJECTED
from swarm_lsp.server.interrupt import run_interruptible
from swarm_lsp.server.session.session import RunOutcome, Session
from swarm_lsp.server.workspace import StaleFile, find_workspace
from swarm_lsp.swarm.analysis.symbols import parse_target
from swarm_lsp.swarm.events import Event


class ProgressPrinter:
    """Event sink for the terminal: a spinner on a TTY, one line per event otherwise."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.console, self.enabled = console, enabled
        self.status = console.status("starting") if enabled and console.is_terminal else None

    def __call__(self, event: Event) -> None:
        if not self.enabled:
            return
        if self.status is not None and event.stage != "done":
            self.status.update(event.message)
        if event.stage in ("analyse", "done") or (event.stage == "gates" and event.data) or self.status is None:
            self.console.print(f"[dim]swarm-lsp:[/dim] {event.message}", highlight=False)

    def __enter__(self) -> "ProgressPrinter":
        if self.status is not None:
            self.status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()


def run_command(args: argparse.Namespace) -> int:
    path_text, symbol = parse_target(args.target)
    if symbol is None and args.action != "audit":
        raise UsageError(f"target {args.target!r} names no symbol: use PATH::Qualified.name or PATH:LINE")
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    workspace = Path(args.workspace).resolve() if args.workspace else find_workspace(path)
    session = Session(workspace, config_from_args(args, workspace))
    try:
        snapshot = session.read(path)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc})") from exc
    overrides = _refactor_options(args)
    console = Console(stderr=True, soft_wrap=True)
    with ProgressPrinter(console, enabled=not args.no_progress) as progress:
        outcome = run_interruptible(
            lambda cancel: session.run(args.action, snapshot, symbol or "", overrides=overrides,
                                       source="the command line", events=progress, cancel=cancel),
            notice=lambda message: console.print(message, highlight=False))
    return _report(outcome, args, session.root, console)


def _refactor_options(args: argparse.Namespace) -> dict[str, str]:
    """--instruction and --preset; the session refuses them for an action that takes neither."""
    return {key: value for key in ("instruction", "preset") if (value := getattr(args, key, None))}


def _report(outcome: RunOutcome, args: argparse.Namespace, root: Path, console: Console) -> int:
    result, plan = outcome.result, outcome.plan
    applied = False
    if args.apply and plan.edits:
        try:
            for written in plan.write(root):
                console.print(f"swarm-lsp: wrote {written}", highlight=False)
            applied = True
        except (StaleFile, OSError) as exc:
            result.message = str(exc)
            console.print(f"swarm-lsp: {exc}", style="red", highlight=False)
    if args.json:
        data = result.to_dict()
        data["applied"] = applied
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for f in plan.findings or ():
            sys.stdout.write(f"{f['path']}:{f['start_line']}:{f['start_column']}: {f['severity']} CWE-{f['cwe']} "
                             f"[{f['source']} {f['rule_id']}] {f['message']}\n")
        sys.stdout.write(plan.diff)
    usage = result.usage
    console.print(
        f"swarm-lsp: {result.status}" + (f" ({result.tier})" if result.tier else "")
        + f"; {len(result.attempts)} attempt(s), {usage.local_tokens} local / {usage.cloud_tokens} cloud tokens, "
        f"{result.elapsed_s:.1f}s" + ("; applied" if applied else ""),
        highlight=False,
    )
    if result.status != "accepted":
        console.print(f"swarm-lsp: {result.message}", highlight=False)
    elif result.evidence.get("summary"):  # e.g. "5 of 6 claims verified (3 executed, 2 voted)"
        console.print(f"swarm-lsp: {result.evidence['summary']}", highlight=False)
    if args.apply and not applied:
        return EXIT_REJECTED
    return EXIT_OK if result.status == "accepted" else EXIT_REJECTED
