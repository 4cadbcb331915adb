"""Cancel -> job ended, at random moments of each stage of a real job on the embedded models.

    .venv/bin/python bench/cancel_latency.py [--models 0.5b,1.5b] [--trials 10] [--loads 0,2]
        [--stages load,prompt,generation,gates,analysis] [--json] [--write docs/benchmarks.md]

Each trial starts `Swarm.run` (real backend, real gates) and cancels its token, as every front end
does, at a uniformly random moment inside one stage; the latency is from `cancel()` to `Swarm.run`
returning its `cancelled` result. Which stage the job was really in at that moment is read off
probes wrapped around the functions that run each stage (bench instrumentation only), and a trial
is filed under that stage:

- load: llama.cpp loading the GGUF (a fresh worker per trial), document action
- prompt: prompt evaluation of `argparse.ArgumentParser._parse_known_args` (249 lines, cut to the
  document action's 6,000 characters), with the KV cache emptied first so the whole prompt is read
- generation: token generation, document action on examples/textutils.py::slugify
- gates: the tests action's sandboxed pytest runs on a candidate for slugify (0.5b only)
- analysis: the audit action's bandit pass and gates over the whole of argparse.py (2,600 lines);
  the random moment falls within the duration of one uncancelled pass, timed first

`--loads 0,2` repeats everything with 0 and then 2 busy-loop processes competing for the 2 cores
(a loaded machine is where users press cancel). argparse.py is copied from the running Python's
standard library (PSF licence) into a temporary workspace; nothing is written elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import llama_cpp
from report import publish
from swarm_lsp.server.config import load_config
from swarm_lsp.server.session.build import build_swarm
from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.actions.audit import AuditAction
from swarm_lsp.swarm.actions.tests import TestsJob
from swarm_lsp.swarm.backends import llamacpp
from swarm_lsp.swarm.backends.prefill import Prefill
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.types import ActionRequest
from swarm_lsp.swarm.settings import ActionOptions

REPO = Path(__file__).resolve().parents[1]
MODELS = {"0.5b": "llamacpp:qwen2.5-coder-0.5b", "1.5b": "llamacpp:qwen2.5-coder-1.5b"}
STAGES = ("load", "prompt", "generation", "gates", "analysis")
BEGIN, END = "<!-- cancel-latency-benchmark:begin -->", "<!-- cancel-latency-benchmark:end -->"
CAP_S = {"load": 0.8, "prompt": 4.0, "generation": 3.0, "gates": 3.0, "analysis": 3.0}  # latest cancel


class Probe:
    """Which stage functions are running right now (entered and not yet left), by thread-safe count."""

    def __init__(self) -> None:
        self.active: dict[str, int] = {}
        self.lock = threading.Lock()

    def wrap(self, owner, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def probed(*args, **kwargs):
            with self.lock:
                self.active[stage] = self.active.get(stage, 0) + 1
            try:
                return original(*args, **kwargs)
            finally:
                with self.lock:
                    self.active[stage] -= 1

        setattr(owner, name, probed)

    def running(self, stage: str) -> bool:
        return self.active.get(stage, 0) > 0

    def stage_now(self) -> str:
        for stage in ("load", "prompt", "gates", "analysis"):
            if self.running(stage):
                return stage
        return "generation" if self.running("model") else "other"


async def until(condition, guard_s: float = 600) -> None:
    deadline = time.monotonic() + guard_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the stage never started")
        await asyncio.sleep(0.005)


def workspace() -> Path:
    root = Path(tempfile.mkdtemp(prefix="swarm-cancel-bench-"))
    shutil.copy(REPO / "examples" / "textutils.py", root / "textutils.py")
    shutil.copy(inspect.getsourcefile(argparse), root / "stdlib_argparse.py")
    (root / "pyproject.toml").write_text("[project]\nname = 'bench'\n")
    return root


def request_for(stage: str, root: Path) -> ActionRequest:
    if stage == "prompt":
        return ActionRequest("document", read_snapshot(root / "stdlib_argparse.py"),
                             "ArgumentParser._parse_known_args", workspace=str(root))
    if stage == "analysis":
        return ActionRequest("audit", read_snapshot(root / "stdlib_argparse.py"), "", workspace=str(root))
    kind = "tests" if stage == "gates" else "document"
    return ActionRequest(kind, read_snapshot(root / "textutils.py"), "slugify", workspace=str(root),
                         options=ActionOptions(mutants=0))


def forget_models() -> None:
    """A fresh worker per trial, so the next call loads the GGUF again (from the page cache)."""
    with llamacpp._workers_lock:
        workers = list(llamacpp._workers.values())
        llamacpp._workers.clear()
    for worker in workers:
        worker.close()


def empty_kv_caches() -> None:
    for worker in list(llamacpp._workers.values()):
        if worker._llama is not None:
            worker._llama.n_tokens = 0


async def trial(stage: str, model: str, root: Path, probe: Probe, rng: random.Random) -> dict:
    config = load_config(root, overrides={"tiers": [model], "candidates": 1, "max_tokens": 1024})
    swarm = build_swarm(config, workspace=root)
    if stage == "load":
        forget_models()
    else:
        await swarm.backend(model).chat([{"role": "user", "content": "hi"}], max_tokens=1)  # loaded
    if stage == "prompt":
        empty_kv_caches()
    token = CancelToken()
    job = asyncio.ensure_future(swarm.run(request_for(stage, root), cancel=token))
    if stage == "generation":
        await until(lambda: probe.running("model") and not probe.running("prompt") or job.done())
    else:
        await until(lambda: probe.running(stage) or job.done())
    await asyncio.sleep(rng.uniform(0, CAP_S[stage]))
    if job.done():
        return {"stage": stage, "model": model, "finished_first": True}
    observed = probe.stage_now()
    cancelled_at = time.perf_counter()
    token.cancel("bench")
    result = await job
    latency = time.perf_counter() - cancelled_at
    await until(lambda: not any(probe.active.values()))  # abandoned threads end before the next trial
    return {"stage": observed, "aimed_at": stage, "model": model, "status": result.status, "latency_s": latency}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summarise(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[float]] = {}
    for row in rows:
        if "latency_s" in row:
            groups.setdefault((row["load"], row["model"], row["stage"]), []).append(row["latency_s"])
    return [{"load": load, "model": model, "stage": stage, "n": len(values),
             "p50_s": round(statistics.median(values), 3), "p99_s": round(percentile(values, 0.99), 3),
             "max_s": round(max(values), 3)}
            for (load, model, stage), values in sorted(groups.items(), key=lambda item: (
                item[0][0], item[0][1], STAGES.index(item[0][2]) if item[0][2] in STAGES else 99))]


def section(summary: list[dict], rows: list[dict], args: argparse.Namespace) -> str:
    worst = max((s["max_s"] for s in summary), default=0.0)
    lines = [BEGIN, f"### Cancel -> job ended, at random moments of each stage ({date.today().isoformat()})", "",
             f"Machine: {platform.machine()}, 2 cores, Python {platform.python_version()}, {platform.system()}, "
             f"llama-cpp-python {llama_cpp.__version__}. {args.trials} trials per stage and model; busy-loop "
             f"processes competing for the cores: {args.loads}. Reproduce: `python bench/cancel_latency.py "
             f"--models {args.models} --trials {args.trials} --loads {args.loads}`.", "",
             "| busy processes | model | stage at the cancel | n | p50 (s) | p99 (s) | max (s) |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {s['load']} | {s['model']} | {s['stage']} | {s['n']} | {s['p50_s']:.2f} | {s['p99_s']:.2f} | "
              f"{s['max_s']:.2f} |" for s in summary]
    finished = sum(1 for row in rows if row.get("finished_first"))
    statuses = {row["status"] for row in rows if "status" in row}
    lines += ["", f"Slowest cancel of all: {worst:.2f} s. Every cancelled job ended as {', '.join(sorted(statuses))}; "
              f"{finished} trial(s) finished before their random cancel moment and are not counted.", END]
    return "\n".join(lines)


def busy_processes(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


async def run(args: argparse.Namespace) -> list[dict]:
    probe = Probe()
    probe.wrap(llama_cpp.Llama, "__init__", "load")
    probe.wrap(Prefill, "run", "prompt")
    probe.wrap(llamacpp._ModelWorker, "complete", "model")
    probe.wrap(TestsJob, "evaluate", "gates")
    probe.wrap(AuditAction, "prepare", "analysis")
    rng, root, rows = random.Random(args.seed), workspace(), []
    started = time.perf_counter()
    AuditAction().prepare(request_for("analysis", root), {})
    CAP_S["analysis"] = time.perf_counter() - started  # bandit and the gates: cancel anywhere inside
    try:
        for load in (int(n) for n in args.loads.split(",")):
            hogs = busy_processes(load)
            try:
                for name in args.models.split(","):
                    for stage in args.stages.split(","):
                        if stage in ("gates", "analysis") and name != args.models.split(",")[0]:
                            continue  # not a model stage: measured once
                        for index in range(args.trials):
                            row = await trial(stage, MODELS[name], root, probe, rng)
                            row.update(load=load, model=name)
                            rows.append(row)
                            print(f"load {load} {name} {stage} #{index + 1}: {row}", file=sys.stderr, flush=True)
            finally:
                for hog in hogs:
                    hog.kill()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="0.5b,1.5b")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--loads", default="0,2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="BENCHMARKS_MD")
    args = parser.parse_args()
    rows = asyncio.run(run(args))
    summary = summarise(rows)
    publish(rows, summary, section(summary, rows, args), as_json=args.json, write=args.write, begin=BEGIN, end=END)


if __name__ == "__main__":
    main()
