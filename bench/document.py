"""Benchmark the document action on the embedded models: acceptance rate, attempts, wall time,
generation speed. Real models, real gates; nothing is written to the example files.

    .venv/bin/python bench/document.py [--models 0.5b,1.5b] [--seeds 3] [--reviewers N] [--json]
                                       [--write docs/benchmarks.md]

Each (model, target, seed) is one `Swarm.run` with `candidates=3` on a single tier. With
`--write`, the Markdown table replaces the section between the document-benchmark markers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from report import publish
from swarm_lsp.server.config import load_config
from swarm_lsp.server.session.build import build_swarm
from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.types import ActionRequest

REPO = Path(__file__).resolve().parent.parent
TARGETS = [
    ("textutils.py", "slugify"),
    ("textutils.py", "Truncator"),
    ("textutils.py", "Truncator.truncate"),
    ("textutils.ts", "truncate"),
    ("textutils.ts", "WordCounter.top"),
    ("textutils.go", "Truncate"),
    ("textutils.go", "Counter.Add"),
    ("textutils.rs", "truncate"),
    ("textutils.rs", "Counter.add"),
]
def markers(reviewers: int) -> tuple[str, str]:
    suffix = f"-r{reviewers}" if reviewers else ""
    return f"<!-- document-benchmark{suffix}:begin -->", f"<!-- document-benchmark{suffix}:end -->"


async def run_one(model: str, filename: str, symbol: str, seed: int, reviewers: int, ledger: Ledger) -> dict:
    overrides = {"tiers": [f"llamacpp:qwen2.5-coder-{model}"], "seed": seed, "reviewers": reviewers}
    config = load_config(REPO / "examples", overrides=overrides)
    request = ActionRequest("document", read_snapshot(REPO / "examples" / filename), symbol, workspace=str(REPO))
    started = time.perf_counter()
    result = await build_swarm(config, ledger=ledger).run(request)
    by_model = next(iter(result.usage.by_model.values()))
    return {
        "model": model, "target": f"{filename}::{symbol}", "seed": seed, "status": result.status,
        "attempts": len(result.attempts), "wall_s": time.perf_counter() - started,
        "completion_tokens": by_model.completion_tokens, "prompt_tokens": by_model.prompt_tokens,
    }


def summarise(rows: list[dict]) -> list[dict]:
    summary = []
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        summary.append({
            "model": model,
            "runs": len(mine),
            "accepted": sum(r["status"] == "accepted" for r in mine),
            "first_try": sum(r["status"] == "accepted" and r["attempts"] == 1 for r in mine),
            "attempts_mean": statistics.mean(r["attempts"] for r in mine),
            "wall_s_p50": statistics.median(r["wall_s"] for r in mine),
            "wall_s_max": max(r["wall_s"] for r in mine),
            "completion_tokens_per_s": sum(r["completion_tokens"] for r in mine) / sum(r["wall_s"] for r in mine),
        })
    return summary


def markdown(summary: list[dict], seeds: int, reviewers: int) -> str:
    begin, end = markers(reviewers)
    lines = [
        begin,
        f"### Document action on the embedded models ({date.today().isoformat()})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}. Targets: {len(TARGETS)} symbols of `examples/` (Python, TypeScript, Go, Rust) x "
        f"{seeds} seeds, `candidates=3`, one tier, {reviewers or 'no'} reviewers. "
        f"Reproduce: `python bench/document.py --seeds {seeds} --reviewers {reviewers}`.",
        "",
        "| model | runs | accepted | first try | mean attempts | wall p50 (s) | wall max (s) | completion tok/s (incl. prompt) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        lines.append(
            f"| {s['model']} | {s['runs']} | {s['accepted']} | {s['first_try']} | {s['attempts_mean']:.2f} | "
            f"{s['wall_s_p50']:.1f} | {s['wall_s_max']:.1f} | {s['completion_tokens_per_s']:.1f} |"
        )
    lines.append(end)
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="0.5b,1.5b", help="comma-separated: 0.5b, 1.5b")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--reviewers", type=int, default=0, help="reviewer quorum size (0: gates alone)")
    parser.add_argument("--json", action="store_true", help="print the rows and summary as JSON")
    parser.add_argument("--write", metavar="MARKDOWN", help="update this file's document-benchmark section")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as state:
        ledger = Ledger(Path(state) / "ledger.sqlite3")  # keep benchmark calls out of the user's ledger
        for model in args.models.split(","):
            for filename, symbol in TARGETS:
                for seed in range(args.seeds):
                    row = await run_one(model.strip(), filename, symbol, seed, args.reviewers, ledger)
                    print(json.dumps(row), file=sys.stderr)
                    rows.append(row)
        ledger.close()
    summary = summarise(rows)
    publish(rows, summary, markdown(summary, args.seeds, args.reviewers), as_json=args.json, write=args.write,
            begin=markers(args.reviewers)[0], end=markers(args.reviewers)[1])
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
