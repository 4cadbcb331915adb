"""Two swarm-lsp processes running document actions at once (an editor's server and a terminal's
`run`, say): each loading its own embedded model (`model_host = "in-process"`) against both using the machine's
shared model host (`model_host = "shared"`, the default since issue 17).

    .venv/bin/python bench/model_host.py [--actions 4] [--model qwen2.5-coder-0.5b] [--json]
        [--write docs/benchmarks.md]

Each process runs `--actions` document actions on examples/textutils.py::Truncator.truncate (one
candidate, the embedded model alone). Reported per mode: wall time of an action (the first, which
loads the model or starts the host, apart from the median of the rest), the whole run's wall time,
and the threads of the swarm-lsp processes (and of the host) sampled while they run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from report import write_section

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- model-host-benchmark:begin -->", "<!-- model-host-benchmark:end -->"
TARGET = "Truncator.truncate"


async def worker(mode: str, model: str, actions: int, workspace: Path) -> list[list]:
    """One process's run: `actions` document actions, [wall time, status] of each."""
    from swarm_lsp.server.config import load_config
    from swarm_lsp.server.session.build import build_swarm
    from swarm_lsp.server.workspace import read_snapshot
    from swarm_lsp.swarm.ledger import Ledger
    from swarm_lsp.swarm.types import ActionRequest

    config = load_config(workspace, overrides={"tiers": [f"llamacpp:{model}"], "candidates": 1, "model_host": mode})
    swarm = build_swarm(config, ledger=Ledger(workspace / f"ledger-{os.getpid()}.sqlite3"))
    times = []
    for _ in range(actions):
        request = ActionRequest("document", read_snapshot(workspace / "textutils.py"), TARGET, workspace=str(workspace))
        started = time.perf_counter()
        result = await swarm.run(request)
        times.append([time.perf_counter() - started, result.status])
    return times


def threads_of(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))
    return total


def run_mode(mode: str, model: str, actions: int, state: Path) -> dict:
    env = {**os.environ, "XDG_STATE_HOME": str(state),  # the shared host's record lives here
           "SWARM_LSP_MODEL_HOSTS_DIR": str(state / "swarm-lsp" / "model-hosts")}
    workspaces = []
    for index in range(2):
        folder = Path(tempfile.mkdtemp(prefix=f"model-host-{mode}-{index}-"))
        shutil.copy(REPO / "examples" / "textutils.py", folder / "textutils.py")
        workspaces.append(folder)
    started = time.perf_counter()
    processes = [subprocess.Popen([sys.executable, __file__, "--worker", mode, "--model", model,
                                   "--actions", str(actions), "--workspace", str(w)],
                                  stdout=subprocess.PIPE, text=True, env=env, cwd=REPO / "bench") for w in workspaces]
    peak = 0
    while any(p.poll() is None for p in processes):
        hosts = [int(r["pid"]) for r in (json.loads(f.read_text()) for f in (state / "swarm-lsp" / "model-hosts").glob("*.json"))] \
            if (state / "swarm-lsp" / "model-hosts").exists() else []
        peak = max(peak, threads_of([p.pid for p in processes] + hosts))
        time.sleep(0.5)
    wall = time.perf_counter() - started
    runs = [json.loads(p.stdout.read()) for p in processes]
    if any(p.returncode for p in processes):
        raise SystemExit(f"a worker failed in mode {mode}")
    times = [[seconds for seconds, _ in run] for run in runs]
    statuses = [status for run in runs for _, status in run]
    rest = [t for run in times for t in run[1:]]
    return {"mode": mode, "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
            "first_action_s": [round(run[0], 1) for run in times],
            "median_action_s": round(statistics.median(rest), 1) if rest else None,
            "wall_s": round(wall, 1), "peak_threads": peak, "actions_per_process": actions}


def stop_hosts(state: Path) -> None:
    folder = state / "swarm-lsp" / "model-hosts"
    for record in folder.glob("*.json") if folder.exists() else ():
        subprocess.run(["kill", str(json.loads(record.read_text())["pid"])], check=False)


def markdown(rows: list[dict], model: str) -> str:
    lines = [BEGIN, f"### Two processes at once: own models or one shared model host ({date.today().isoformat()})", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
             f"`bench/model_host.py`: two processes each run {rows[0]['actions_per_process']} document actions "
             f"(examples/textutils.py::{TARGET}, `llamacpp:{model}`, one candidate) at the same time. The first "
             "action of each process loads its model (in-process) or finds or starts the host (shared).", "",
             "| model_host | outcomes | first action, each process (s) | later actions, median (s) | "
             "wall, both processes (s) | peak threads |", "|---|---|---|---|---|---|"]
    for row in rows:
        outcomes = ", ".join(f"{n} {status}" for status, n in row["statuses"].items())
        lines.append(f"| {row['mode']} | {outcomes} | {', '.join(map(str, row['first_action_s']))} | "
                     f"{row['median_action_s']} | {row['wall_s']} | {row['peak_threads']} |")
    return "\n".join(lines + ["", END])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=4)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--modes", default="in-process,shared", help="which of in-process,shared to run")
    parser.add_argument("--write", metavar="MARKDOWN")
    parser.add_argument("--worker", choices=("in-process", "shared"), help=argparse.SUPPRESS)
    parser.add_argument("--workspace", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(worker(args.worker, args.model, args.actions, Path(args.workspace)))))
        return 0
    rows = []
    for mode in args.modes.split(","):
        state = Path(tempfile.mkdtemp(prefix="model-host-state-"))
        try:
            rows.append(run_mode(mode, args.model, args.actions, state))
        finally:
            stop_hosts(state)
        print(json.dumps(rows[-1]), file=sys.stderr)
    section = markdown(rows, args.model)
    print(json.dumps(rows, indent=1) if args.json else section)
    if args.write:
        write_section(Path(args.write), section, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
