"""Benchmark `swarm-lsp check` on this repository: a cold run (empty cache) and a warm one (every
file's result cached by content), wall time each, via the real command line.

    cd bench && ../.venv/bin/python check.py [--runs 3] [--write ../docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from report import publish

REPO = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "swarm-lsp"
BEGIN, END = "<!-- check-benchmark:begin -->", "<!-- check-benchmark:end -->"


def timed_check(cache: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    completed = subprocess.run(
        [str(CLI), "check", str(REPO), "--format", "json", "--no-progress"],
        capture_output=True, text=True, env={**os.environ, "SWARM_LSP_AUDIT_CACHE": str(cache)}, check=False,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        raise SystemExit(f"check failed: {completed.stderr}")
    return elapsed, json.loads(completed.stdout)["summary"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="cold/warm pairs")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="MARKDOWN")
    args = parser.parse_args()
    rows = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder) / "cache.sqlite3"
            cold, summary = timed_check(cache)
            warm, warm_summary = timed_check(cache)
        rows.append({"run": run, "cold_s": cold, "warm_s": warm, "files": summary["files"],
                     "warm_cached": warm_summary["cached"], "findings": summary["findings"]})
        print(json.dumps(rows[-1]), file=sys.stderr)
    cold_p50 = statistics.median(r["cold_s"] for r in rows)
    warm_p50 = statistics.median(r["warm_s"] for r in rows)
    summary = {"cold_s_p50": cold_p50, "warm_s_p50": warm_p50}
    section = "\n".join([
        BEGIN, f"### `swarm-lsp check` cold and warm ({date.today().isoformat()})", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}. This repository ({rows[0]['files']} Python files, {rows[0]['findings']} findings), "
        f"`--format json`, wall time of the whole command (process start included), median of {args.runs}. "
        "Reproduce: `cd bench && ../.venv/bin/python check.py`.", "",
        "| run | wall (s) | files from the cache |", "|---|---|---|",
        f"| cold (empty cache) | {cold_p50:.2f} | 0 |",
        f"| warm (unchanged tree) | {warm_p50:.2f} | {rows[0]['warm_cached']} |",
        END,
    ])
    publish(rows, [summary], section, as_json=args.json, write=args.write, begin=BEGIN, end=END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
