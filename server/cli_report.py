"""`swarm-lsp report [--since DATE] [--workspace DIR] [--json] [--png FILE]`: the savings report.

Actions by kind and status, accepted locally vs escalated vs not accepted, measured local and cloud
tokens, the estimated cloud tokens avoided (labelled as an estimate, with its method), latency per
action and per model. The ledger is the one every command uses: `ledger_path` in the configuration
of the current folder's workspace or `SWARM_LSP_LEDGER_PATH`, else the user state dir.

stdout: a table, or with `--json` one JSON object for scripts: `build_report` in swarm/report.py,
whose docstring lists its keys — the same object the language server's `swarm.report` command and
the MCP `token_report` tool return. `--png FILE` also writes a chart of tokens per day (needs
`pip install 'swarm-lsp[report]'`). Logs go to stderr. Exit codes: 0, or 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from swarm_lsp.server.cli_options import config_from_args
from swarm_lsp.server.errors import EXIT_OK
from swarm_lsp.server.workspace import find_workspace
from swarm_lsp.swarm.ledger import STATUSES, Ledger
from swarm_lsp.swarm.report import build_report, parse_since, workspace_key


def _since(text: str) -> Any:
    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _folder(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: not a folder")
    return path.resolve()


def _png(text: str) -> Path:
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a folder; name the PNG file to write")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: folder {path.parent} does not exist")
    return path


def add_report_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="the savings report: actions, local and cloud tokens, cloud tokens avoided (estimated)",
        description="Report from the token ledger: actions by kind and status, accepted locally vs escalated "
                    "to the cloud, measured local and cloud tokens, the cloud tokens avoided (an ESTIMATE: "
                    "local tokens of actions finished locally times a tokenizer factor), latency per action "
                    "and per model. Days and dates are UTC.")
    report.add_argument("--since", type=_since, metavar="DATE",
                        help="only rows from DATE on: YYYY-MM-DD, an ISO datetime, or relative 7d / 24h")
    report.add_argument("--workspace", type=_folder, metavar="DIR",
                        help="only rows of the workspace rooted at DIR (default: every workspace)")
    report.add_argument("--json", action="store_true", help="print one JSON object (keys: swarm/report.py)")
    report.add_argument("--png", type=_png, metavar="FILE",
                        help="also write a chart of tokens per day (local / cloud / avoided) as PNG")


def report_command(args: argparse.Namespace) -> int:
    # The workspace this command runs in, as for the other commands: its configuration may name the
    # ledger, and the report's `workspace` totals are its. --workspace only filters the rows.
    root = find_workspace(Path.cwd())
    if args.png:
        from swarm_lsp.server.cli_report_chart import require_matplotlib

        require_matplotlib()  # before any work: a missing extra is a usage error
    config = config_from_args(args, root)  # the configured ledger_path, as `run` uses it
    with Ledger(config.ledger_path) as ledger:
        report = build_report(ledger, root, since=args.since,
                              workspace=workspace_key(args.workspace) if args.workspace else None)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_report(report, Console())
    if args.png:
        from swarm_lsp.server.cli_report_chart import write_chart

        write_chart(report, args.png)
        Console(stderr=True, soft_wrap=True).print(f"swarm-lsp: wrote {args.png}", highlight=False)
    return EXIT_OK


def _n(value: int) -> str:
    return f"{value:,}"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _scope(report: dict[str, Any]) -> str:
    filters = report["filters"]
    parts = [f"since {filters['since'][:16].replace('T', ' ')} UTC" if filters["since"] else "all time",
             f"workspace {filters['workspace']}" if filters["workspace"] else "every workspace"]
    return ", ".join(parts)


def print_report(report: dict[str, Any], console: Console) -> None:
    if not console.is_terminal:
        console.width = 200
    console.print(f"[bold]swarm-lsp savings report[/bold] ({_scope(report)}; ledger {report['ledger']})",
                  highlight=False, soft_wrap=True)
    if report["message"]:
        console.print(f"[yellow]{report['message']}[/yellow]", highlight=False)
    actions, tokens, calls, avoided = report["actions"], report["tokens"], report["calls"], report["avoided_cloud_tokens"]
    summary = Table(show_header=False, box=None, padding=(0, 2))
    summary.add_column(justify="left")
    summary.add_column(justify="right")
    summary.add_column(justify="left", style="dim")
    summary.add_row("actions", _n(actions["total"]),
                    ", ".join(f"{_n(actions['by_status'][s])} {s}" for s in STATUSES))
    summary.add_row("  accepted locally", _n(actions["accepted_locally"]), "no cloud call")
    summary.add_row("  escalated", _n(actions["escalated"]), "accepted by a cloud tier or after a cloud call")
    summary.add_row("  not accepted", _n(actions["not_accepted"]), "rejected, failed or cancelled")
    summary.add_row("local tokens", _n(tokens["local"]), "measured, prompt + completion")
    summary.add_row("cloud tokens", _n(tokens["cloud"]), "measured, prompt + completion"
                    + (f"; cache read {_n(tokens['cache_read'])}, write {_n(tokens['cache_write'])}"
                       if tokens["cache_read"] or tokens["cache_write"] else ""))
    summary.add_row("cloud tokens avoided", f"~{_n(avoided['estimate'])}",
                    f"ESTIMATE: {_n(avoided['local_tokens'])} local tokens of {_n(avoided['actions'])} "
                    f"action(s) finished locally x {avoided['factor']} (method below)")
    summary.add_row("model calls", _n(calls["total"]),
                    f"{_n(calls['local'])} local, {_n(calls['cloud'])} cloud, {_n(calls['failed'])} failed")
    summary.add_row("usage estimated", _n(calls["usage_estimated"]),
                    f"calls whose server reported no usage: {_n(tokens['usage_estimated'])} of the tokens "
                    "above were counted by swarm-lsp")
    console.print(summary)
    if report["by_action"]:
        console.print(_action_table(report["by_action"]))
    if report["by_model"]:
        console.print(_model_table(report["by_model"]))
    console.print(f"[dim]avoided: {avoided['method']}[/dim]", highlight=False)


def _action_table(by_action: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="by action", title_justify="left")
    for column in ("action", "actions", *STATUSES, "accepted locally", "escalated", "local tokens", "cloud tokens",
                   "avoided (est.)", "median s", "p90 s"):
        table.add_column(column, justify="left" if column == "action" else "right")
    for kind, row in by_action.items():
        table.add_row(kind, _n(row["actions"]), *(_n(row["by_status"][s]) for s in STATUSES),
                      _n(row["accepted_locally"]), _n(row["escalated"]), _n(row["local_tokens"]),
                      _n(row["cloud_tokens"]), f"~{_n(row['avoided_cloud_tokens_estimate'])}",
                      _seconds(row["elapsed_s"]["median"]), _seconds(row["elapsed_s"]["p90"]))
    return table


def _model_table(by_model: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="by model", title_justify="left")
    for column in ("backend", "where", "calls", "failed", "tokens", "usage estimated", "median latency s"):
        table.add_column(column, justify="left" if column in ("backend", "where") else "right")
    for backend, row in by_model.items():
        estimated = (f"{_n(row['usage_estimated_calls'])} call(s), {_n(row['estimated_tokens'])} tokens"
                     if row["usage_estimated_calls"] else "0")
        table.add_row(backend, "cloud" if row["cloud"] else "local", _n(row["calls"]), _n(row["failed_calls"]),
                      _n(row["tokens"]), estimated, _seconds(row["median_latency_s"]))
    return table
