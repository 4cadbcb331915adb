"""Orchestration overhead of the reviewer quorum, with a zero-latency scripted backend.

Everything but model time is measured: building each reviewer's prompt, the backend call path
(a ScriptedBackend that answers at once), parsing the verdict, quorum bookkeeping and early stop.

    .venv/bin/python bench/orchestration.py [--json] [--rounds 2000] [--write docs/benchmarks.md]

Budgets (DESIGN.md §7): round_overhead_ms_p50 < 1 ms with 7 reviewers, votes_per_s >= 10,000,
and time per vote roughly constant from 1 to 1,000 agents (linear scaling).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from report import write_section
from swarm_lsp.swarm.agents.reviewers import ask_reviewer, build_reviewers
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.consensus import run_quorum

APPROVE = {"vote": "approve", "confidence": 0.9, "reasons": []}
MATERIAL = "def area(w, h):\n    return w * h\n\nProposed documentation: Compute the area.\n" * 4
FOCUSES = ["accuracy", "completeness", "usefulness"]
BEGIN, END = "<!-- orchestration-benchmark:begin -->", "<!-- orchestration-benchmark:end -->"


async def one_round(n: int, backend: ScriptedBackend, cancel: CancelToken, parallel: int = 1) -> tuple[float, int]:
    reviewers = build_reviewers(n, (backend.name,), FOCUSES)

    async def ask(reviewer):
        return await ask_reviewer(reviewer, backend, MATERIAL, seed=0, cancel=cancel,
                                  on_reply=lambda *_: None)

    started = time.perf_counter()
    outcome = await run_quorum(reviewers, ask, parallel=parallel)
    return time.perf_counter() - started, outcome.polled


async def measure(rounds: int) -> dict:
    backend = ScriptedBackend("llamacpp:scripted", lambda _messages: APPROVE)
    cancel = CancelToken()
    for _ in range(50):  # warm up
        await one_round(7, backend, cancel)
    samples = [await one_round(7, backend, cancel) for _ in range(rounds)]
    seconds = [s for s, _ in samples]
    votes = sum(v for _, v in samples)
    scaling = []
    for n in (1, 10, 100, 1000):
        repeats = max(3, 2000 // n)
        runs = [await one_round(n, backend, cancel) for _ in range(repeats)]
        total_s, total_votes = sum(s for s, _ in runs), sum(v for _, v in runs)
        scaling.append({"agents": n, "round_ms": 1000 * total_s / repeats, "us_per_vote": 1e6 * total_s / total_votes})
    parallel_runs = [await one_round(7, backend, cancel, parallel=7) for _ in range(rounds // 4)]
    return {
        "round_overhead_ms_p50": 1000 * statistics.median(seconds),
        "round_overhead_ms_p99": 1000 * sorted(seconds)[int(0.99 * len(seconds)) - 1],
        "parallel_round_ms_p50": 1000 * statistics.median(s for s, _ in parallel_runs),
        "votes_per_s": votes / sum(seconds),
        "scaling": scaling,
        "rounds": rounds,
    }


def markdown(result: dict) -> str:
    lines = [
        BEGIN,
        f"### Quorum orchestration overhead ({date.today().isoformat()})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        f"Zero-latency scripted backend, {result['rounds']} rounds of 7 reviewers (the quorum decides after 5 "
        "approvals). Reproduce: `python bench/orchestration.py`.",
        "",
        "| metric | value | budget |",
        "|---|---|---|",
        f"| round_overhead_ms_p50 (7 reviewers, sequential) | {result['round_overhead_ms_p50']:.3f} | < 1 ms |",
        f"| round_overhead_ms_p99 | {result['round_overhead_ms_p99']:.3f} | |",
        f"| parallel_round_ms_p50 (7 in flight) | {result['parallel_round_ms_p50']:.3f} | |",
        f"| votes_per_s | {result['votes_per_s']:,.0f} | >= 10,000 |",
        "",
        "| agents | ms per round | us per vote |",
        "|---|---|---|",
    ]
    lines += [f"| {s['agents']} | {s['round_ms']:.3f} | {s['us_per_vote']:.1f} |" for s in result["scaling"]]
    lines.append(END)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Quorum orchestration overhead (zero-latency backend)")
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument("--write", metavar="MARKDOWN", help="update this file's orchestration section")
    args = parser.parse_args()
    result = asyncio.run(measure(args.rounds))
    print(json.dumps(result, indent=2) if args.json else markdown(result))
    if args.write:
        write_section(Path(args.write), markdown(result), BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
