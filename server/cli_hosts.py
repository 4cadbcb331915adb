"""`swarm-lsp models hosts [--stop] [--json]`: the shared model hosts of this user (`model_host =
"shared"` starts them; each exits by itself after 15 minutes without a request), and stopping them
to free their memory at once."""

from __future__ import annotations

import argparse
import json
import sys
import time

from rich.console import Console
from rich.table import Table

from swarm_lsp.server.errors import EXIT_OK, EXIT_REJECTED
from swarm_lsp.swarm.backends.model_host import HostRecord, answers, recorded_hosts, stop
from swarm_lsp.swarm.backends.model_host import _process_alive as process_alive
from swarm_lsp.swarm.backends.shared_host import hosts_dir

STOP_WAIT_S = 10.0


def hosts_command(args: argparse.Namespace) -> int:
    folder = hosts_dir()
    records = recorded_hosts(folder)
    rows = [_row(record) for record in records]
    failed = False
    if args.stop:
        running = [(record, row) for record, row in zip(records, rows) if row["running"]]
        for record, _ in running:
            stop(folder, record.model)
        for record, row in running:
            row["stopped"] = _ended(record.pid, STOP_WAIT_S)
            failed = failed or not row["stopped"]
    if args.json:
        json.dump({"folder": str(folder), "hosts": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print(rows, str(folder), args.stop)
    return EXIT_REJECTED if failed else EXIT_OK


def _row(record: HostRecord) -> dict[str, object]:
    running = process_alive(record.pid)
    return {"key": record.model, "pid": record.pid, "url": record.url, "running": running,
            "answers": running and answers(record.url, timeout_s=0.5), "log": record.log,
            "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.started))}


def _ended(pid: int, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _print(rows: list[dict[str, object]], folder: str, stopping: bool) -> None:
    console = Console()
    if not console.is_terminal:
        console.width = 200
    if not rows:
        console.print(f"no model host recorded in {folder}")
        return
    table = Table(title=f"model hosts ({folder})", title_justify="left")
    for column in ("model", "pid", "url", "state", "started", "log"):
        table.add_column(column)
    for row in rows:
        if "stopped" in row:
            state = "[green]stopped[/green]" if row["stopped"] else f"[red]still running after {STOP_WAIT_S:.0f} s[/red]"
        elif not row["running"]:
            state = "not running"
        else:
            state = "answering" if row["answers"] else "[yellow]running, not answering[/yellow]"
        table.add_row(str(row["key"]), str(row["pid"]), str(row["url"]), state, str(row["started"]), str(row["log"]))
    console.print(table)
    if not stopping and any(row["running"] for row in rows):
        console.print("stop them with: swarm-lsp models hosts --stop")
