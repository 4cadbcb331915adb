"""Benchmark the tests action on the embedded models: how many generated tests survive the gates,
the coverage and mutation score they reach, and where the time goes. Real models, real sandboxed
pytest runs; each run works on a fresh temporary copy of its fixture.

    .venv/bin/python bench/tests_action.py [--models 0.5b,1.5b] [--seeds 2] [--json]
                                           [--write docs/benchmarks.md]

Each (model, target, seed) is one `Swarm.run` with `candidates=3` per tier, coverage goal 1.0 and
up to 30 mutants; `0.5b+1.5b` is the default two-tier plan (kept tests carry over when the 0.5B
leaves the target incomplete and the 1.5B continues). With `--write`, the Markdown table replaces the section between the
tests-benchmark markers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
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
FIXTURES = REPO / "tests" / "fixtures" / "testgen"
TARGETS = [  # (folder to copy, file inside it, symbol): a pure function, raising ones, classes
    (FIXTURES / "shop", "shop/pricing.py", "apply_discount"),
    (FIXTURES / "shop", "shop/pricing.py", "parse_port"),
    (FIXTURES / "shop", "shop/pricing.py", "Stack"),
    (REPO / "examples", "examples/textutils.py", "slugify"),
    (REPO / "examples", "examples/textutils.py", "Truncator"),
]
# Since issue 16's pinning tests: the sections before them (tests-benchmark, then
# tests-benchmark-survivor-loop, the writer's loop alone) stay as baselines.
BEGIN, END = "<!-- tests-benchmark-pinning:begin -->", "<!-- tests-benchmark-pinning:end -->"


async def run_one(model: str, folder: Path, filename: str, symbol: str, seed: int, ledger: Ledger) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        shutil.copytree(folder, workspace / folder.name)
        (workspace / "pyproject.toml").write_text("[project]\nname = 'bench'\n")
        tiers = [f"llamacpp:qwen2.5-coder-{size}" for size in model.split("+")]  # "0.5b+1.5b": escalation
        overrides = {"tiers": tiers, "seed": seed, "candidates": 3, "escalation": "on-failure"}
        config = load_config(workspace, overrides=overrides)
        request = ActionRequest("tests", read_snapshot(workspace / filename), symbol, workspace=str(workspace),
                                options=config.action_options())
        started = time.perf_counter()
        result = await build_swarm(config, ledger=ledger).run(request)
        wall = time.perf_counter() - started
    evidence = result.evidence
    sandbox_s = sum(evidence.get("run_times_s", {}).values())
    return {
        "model": model, "target": f"{filename}::{symbol}", "seed": seed, "status": result.status,
        "complete": evidence.get("complete", False), "attempts": len(result.attempts),
        "generated": evidence.get("tests_generated", 0), "kept": len(evidence.get("tests_kept", [])),
        "line_coverage": evidence.get("line_coverage", 0.0), "branch_coverage": evidence.get("branch_coverage", 0.0),
        "mutation_score": evidence.get("mutation_score"), "repairs": len(evidence.get("repairs", [])),
        # the score when the coverage goal was reached, before the survivor loop (the final one when it never was)
        "mutation_score_before": evidence.get("mutation_score_before", evidence.get("mutation_score")),
        "killed_by_new_tests": len(evidence.get("mutants", {}).get("killed_by_new_tests", [])),
        "killed_by_pinning_tests": len(evidence.get("mutants", {}).get("killed_by_pinning_tests", [])),
        "wall_s": wall, "sandbox_s": sandbox_s, "local_tokens": result.usage.local_tokens,
    }


def summarise(rows: list[dict]) -> list[dict]:
    summary = []
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        scores = [r["mutation_score"] for r in mine if r["mutation_score"] is not None]
        before = [r["mutation_score_before"] for r in mine if r.get("mutation_score_before") is not None]
        summary.append({
            "model": model, "runs": len(mine),
            "accepted": sum(r["status"] == "accepted" for r in mine),
            "complete": sum(bool(r["complete"]) for r in mine),
            "kept": sum(r["kept"] for r in mine), "generated": sum(r["generated"] for r in mine),
            "line_coverage_mean": statistics.mean(r["line_coverage"] for r in mine),
            "branch_coverage_mean": statistics.mean(r["branch_coverage"] for r in mine),
            "mutation_score_mean": statistics.mean(scores) if scores else None,
            "mutation_score_median": statistics.median(scores) if scores else None,
            "mutation_before_mean": statistics.mean(before) if before else None,
            "mutation_before_median": statistics.median(before) if before else None,
            "killed_by_new_tests": sum(r.get("killed_by_new_tests", 0) for r in mine),
            "killed_by_pinning_tests": sum(r.get("killed_by_pinning_tests", 0) for r in mine),
            "wall_s_p50": statistics.median(r["wall_s"] for r in mine),
            "wall_s_max": max(r["wall_s"] for r in mine),
            "sandbox_share": sum(r["sandbox_s"] for r in mine) / sum(r["wall_s"] for r in mine),
        })
    return summary


def markdown(summary: list[dict], rows: list[dict], seeds: int) -> str:
    lines = [
        BEGIN,
        f"### Tests action on the embedded models ({date.today().isoformat()})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}. Targets: {len(TARGETS)} (`tests/fixtures/testgen/shop/pricing.py`: apply_discount, "
        f"parse_port, Stack; `examples/textutils.py`: slugify, Truncator) x {seeds} seeds, `candidates=3` per tier (`0.5b+1.5b`: the default plan, escalating when incomplete), "
        f"coverage goal 1.0, up to 30 mutants. Coverage is of the target's lines and branches, averaged over all "
        f"runs (a rejected run counts 0). Sandbox share: time in sandboxed runs (gates, mutants, pinning) / wall. "
        f"Reproduce: `python bench/tests_action.py --seeds {seeds}`.",
        "",
        "Mutation score: mean / median over the runs with one, before the survivor loop (when the kept tests "
        "reached the coverage goal; the final score for runs that never did) and after it and the pinning "
        "tests; mutants killed: by tests the writer's loop kept, and by pinning tests (no model: the original's "
        "outcome stated where a survivor differs).",
        "",
        "| model | runs | accepted | complete | tests kept / generated | line cov | branch cov | mutation score before | "
        "mutation score after | mutants killed by the loop / by pinning tests | wall p50 (s) | wall max (s) | "
        "sandbox share |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def pair(mean: float | None, median: float | None) -> str:
        return "-" if mean is None or median is None else f"{mean:.2f} / {median:.2f}"

    for s in summary:
        lines.append(
            f"| {s['model']} | {s['runs']} | {s['accepted']} | {s['complete']} | {s['kept']} / {s['generated']} | "
            f"{s['line_coverage_mean']:.2f} | {s['branch_coverage_mean']:.2f} | "
            f"{pair(s['mutation_before_mean'], s['mutation_before_median'])} | "
            f"{pair(s['mutation_score_mean'], s['mutation_score_median'])} | "
            f"{s['killed_by_new_tests']} / {s['killed_by_pinning_tests']} | "
            f"{s['wall_s_p50']:.1f} | "
            f"{s['wall_s_max']:.1f} | {s['sandbox_share']:.0%} |"
        )
    lines += ["", "Per target (line / branch coverage, mutation score before->after the loop, per seed):", ""]
    for model in dict.fromkeys(r["model"] for r in rows):
        for target in dict.fromkeys(r["target"] for r in rows):
            cells = [
                f"{r['line_coverage']:.2f}/{r['branch_coverage']:.2f}/"
                + ("-" if r["mutation_score"] is None else
                   f"{r.get('mutation_score_before') or 0:.2f}->{r['mutation_score']:.2f}")
                for r in rows if r["model"] == model and r["target"] == target
            ]
            lines.append(f"- {model} `{target}`: {', '.join(cells)}")
    lines.append(END)
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="0.5b,1.5b,0.5b+1.5b",
                        help="comma-separated: 0.5b, 1.5b, or 0.5b+1.5b (the default tiers: 0.5B, escalating to 1.5B)")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the rows and summary as JSON")
    parser.add_argument("--write", metavar="MARKDOWN", help="update this file's tests-benchmark-pinning section")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as state:
        ledger = Ledger(Path(state) / "ledger.sqlite3")  # keep benchmark calls out of the user's ledger
        for model in args.models.split(","):
            for folder, filename, symbol in TARGETS:
                for seed in range(args.seeds):
                    row = await run_one(model.strip(), folder, filename, symbol, seed, ledger)
                    print(json.dumps(row), file=sys.stderr)
                    rows.append(row)
        ledger.close()
    summary = summarise(rows)
    publish(rows, summary, markdown(summary, rows, args.seeds), as_json=args.json, write=args.write,
            begin=BEGIN, end=END)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
