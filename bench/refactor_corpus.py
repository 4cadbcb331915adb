"""The refactor action's gates on the labelled refactor corpus (issue 16, step 1).

    .venv/bin/python bench/refactor_corpus.py [--half dev|heldout|heldout2|heldout3|heldout4|all] [--checker differential|tests]
                                              [--write docs/benchmarks.md]

Each rewrite in tests/fixtures/refactor_corpus is given to the refactor action as the reply of a
scripted writer (no model runs: this measures the gates, not a model), in a fresh workspace holding a
copy of the installed package the function comes from and the entry's tests as the project's tests.
A behaviour-changing rewrite passes those tests by construction, so whatever rejects it must see
more than the tests do. Reported per half and per change kind: behaviour-changing rewrites accepted
(the goal is none) and behaviour-preserving ones accepted (the goal is at least 70%). `--checker
tests` turns the differential check off (`differential_inputs = 0`): the gates before issue 16's
step 2. Rows are kept per checker in bench/results/ (a run resumes); `--report` recomputes the
table from them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from doc_action_corpus import copy_package, implementation_target
from report import write_section
from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.settings import ActionOptions
from swarm_lsp.swarm.types import ActionRequest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "refactor_corpus"
RESULTS = {"tests": ROOT / "bench" / "results" / "refactor_gates.json",
           "differential": ROOT / "bench" / "results" / "refactor_differential.json"}
BEGIN, END = "<!-- refactor-corpus-benchmark:begin -->", "<!-- refactor-corpus-benchmark:end -->"
INSTRUCTION = "Make this function easier to read without changing its behaviour."
TIER = "llamacpp:scripted"
HALVES = ("dev", "heldout", "heldout2", "heldout3", "heldout4")


def module_file(workspace: Path, module: str) -> Path:
    path = workspace / (module.replace(".", "/") + ".py")
    return path if path.exists() else workspace / module.replace(".", "/") / "__init__.py"


async def refactor(entry: dict, rewrite: dict, checker: str) -> dict:
    """The refactor action on `entry` with `rewrite` as the writer's only reply."""
    with tempfile.TemporaryDirectory(prefix="refactor-corpus-") as folder:
        workspace = Path(folder)
        top = entry["module"].split(".")[0]
        copy_package(top, workspace)
        for shipped in ("tests", "test", "testing"):  # only the entry's tests are the project's tests
            shutil.rmtree(workspace / top / shipped, ignore_errors=True)
        (workspace / "tests").mkdir()
        (workspace / "tests" / "test_target.py").write_text(entry["tests"])
        (workspace / "pyproject.toml").write_text("[project]\nname = 'corpus-workspace'\n")
        source = module_file(workspace, entry["module"])
        writer = ScriptedBackend(TIER, [f"```python\n{rewrite['source']}\n```"])
        swarm = Swarm(SwarmSettings(tiers=(TIER,), candidates=1, reviewers=0), {TIER: writer}.__getitem__)
        request = ActionRequest("refactor", read_snapshot(source),
                                implementation_target(source.read_text(), entry["qualname"]),
                                workspace=str(workspace), options=ActionOptions(
                                    instruction=INSTRUCTION, **({"differential_inputs": 0} if checker == "tests" else {})))
        started = time.perf_counter()
        result = await swarm.run(request)
        failed = sorted({g.name for a in result.attempts for g in a.gates if not g.passed})
        return {"id": rewrite["id"], "entry": entry["id"], "half": entry["half"], "preserving": rewrite["preserving"],
                "kind": rewrite["kind"], "status": result.status, "failed_gates": failed,
                "message": result.message, "tests_run": result.evidence.get("tests_run", []),
                "differential": result.evidence.get("differential"), "checker": checker,
                "seconds": round(time.perf_counter() - started, 1)}


async def run(halves: list[str], checker: str, path: Path, only: str = "") -> list[dict]:
    rows = {row["id"]: row for row in json.loads(path.read_text())} if path.exists() else {}
    for half in halves:
        entries = json.loads((CORPUS / f"{half}.json").read_text())
        todo = [(e, r) for e in entries for r in e["rewrites"] if r["id"] not in rows and only in r["id"]]
        for number, (entry, rewrite) in enumerate(todo, 1):
            print(f"[{half} {number}/{len(todo)}] {rewrite['id']}", file=sys.stderr, flush=True)
            rows[rewrite["id"]] = row = await refactor(entry, rewrite, checker)
            print(f"    {row['status']} {row['failed_gates'] or ''} in {row['seconds']}s", file=sys.stderr, flush=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(list(rows.values()), indent=1))
    return list(rows.values())


def report(rows_by_checker: dict[str, list[dict]]) -> str:
    lines = [BEGIN, f"### The refactor action's gates on the labelled refactor corpus ({date.today().isoformat()})", "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}. `bench/refactor_corpus.py`: every "
             "rewrite of `tests/fixtures/refactor_corpus` (real functions from permissively licensed libraries, each "
             "with its tests; every behaviour-changing rewrite passes them) given to the refactor action as a "
             "scripted writer's reply, in a copy of the function's package with the entry's tests as the project's "
             "tests. No model runs: the gates as a classifier.", "",
             "Checker `tests`: the exercising tests pass before and after (the gates before the differential "
             "check). Checker `differential`: also the original and the rewrite run side by side in the sandbox "
             "on the calls the tests make, boundary variations and hypothesis-drawn values (default limits).", "",
             "| checker | half | behaviour-changing accepted | behaviour-preserving accepted | changing accepted per "
             "kind | gates that rejected | seconds per rewrite (median) |", "|---|---|---|---|---|---|---|"]
    for checker, half in ((c, h) for c in ("tests", "differential") for h in HALVES):
        mine = [r for r in rows_by_checker.get(checker, []) if r["half"] == half]
        if not mine:
            continue
        changing = [r for r in mine if not r["preserving"]]
        preserving = [r for r in mine if r["preserving"]]
        accepted = [r for r in changing if r["status"] == "accepted"]
        kinds = Counter(r["kind"] for r in changing)
        per_kind = ", ".join(f"{kind} {sum(r['kind'] == kind for r in accepted)}/{count}"
                             for kind, count in sorted(kinds.items()))
        gates = Counter(g for r in mine if r["status"] != "accepted" for g in r["failed_gates"] or [r["status"]])
        kept = sum(r["status"] == "accepted" for r in preserving)
        seconds = sorted(r["seconds"] for r in mine)[len(mine) // 2]
        lines.append(f"| {checker} | {half} | {len(accepted)} of {len(changing)} ({len(accepted) / len(changing):.0%}) | "
                     f"{kept} of {len(preserving)} ({kept / len(preserving):.0%}) | {per_kind} | "
                     f"{', '.join(f'{g} {n}' for g, n in gates.most_common()) or '-'} | {seconds} |")
    return "\n".join(lines + ["", END])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=(*HALVES, "all"), default="all",
                        help="heldout2, heldout3, heldout4: later held-out halves, written without sight of the checker")
    parser.add_argument("--checker", choices=tuple(RESULTS), default="differential")
    parser.add_argument("--rows", metavar="FILE", type=Path,
                        help="keep (and resume) this run's rows here instead of bench/results/ (e.g. a re-measure)")
    parser.add_argument("--only", metavar="TEXT", default="", help="only the rewrites whose id contains TEXT")
    parser.add_argument("--report", action="store_true", help="only recompute the table from the kept rows")
    parser.add_argument("--write", metavar="FILE", help="update this Markdown file's section")
    args = parser.parse_args()
    halves = [h for h in HALVES if (CORPUS / f"{h}.json").exists()] if args.half == "all" else [args.half]
    if not args.report:
        asyncio.run(run(halves, args.checker, args.rows or RESULTS[args.checker], args.only))
    paths = {**RESULTS, **({args.checker: args.rows} if args.rows else {})}
    section = report({name: json.loads(path.read_text()) for name, path in paths.items() if path.exists()})
    print(section)
    if args.write:
        write_section(Path(args.write), section, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
