"""The document action through the OpenAI-compatible tier against the in-process embedded backend
(issue 17): the same model (the embedded 0.5B), the same targets, the same seed, one candidate.

    cd bench && ../.venv/bin/python openai_tier.py [--rounds 2] [--json] [--write ../docs/benchmarks.md]

Modes, one after the other (never two models at once):
- `in-process`: `llamacpp:qwen2.5-coder-0.5b` with `model_host = "in-process"` (llama.cpp in this process);
- `shared host`: the same tier with `model_host = "shared"` (the default: the machine's model host,
  llama.cpp's OpenAI-compatible server reached through the OpenAI-compatible backend);
- `openai tier`: `openai:qwen2.5-coder-0.5b?base_url=...` against a plain `python -m llama_cpp.server`
  on the same GGUF, started by this script on a loopback port.
Each target of examples/textutils.py is documented once per round in a fresh copy; the first round
includes loading the model (in-process) or starting the host (shared), which is reported apart.
Reported per mode: outcomes, wall time per action (median after the first), prompt and completion
tokens per action (the ledger's; the servers' counts), all from one process with a fresh ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

from report import write_section

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- openai-tier-benchmark:begin -->", "<!-- openai-tier-benchmark:end -->"
MODEL = "qwen2.5-coder-0.5b"
TARGETS = ("slugify", "count_words", "Truncator.truncate")


def start_server(gguf: Path, log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL,
                                "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
                                "--n_threads", str(os.cpu_count() or 1)], stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    while True:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as answer:
                if answer.status == 200:
                    return process, url
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.5)


async def run_mode(mode: str, tier: str, model_host: str, rounds: int, state: Path) -> dict:
    from swarm_lsp.server.config import load_config
    from swarm_lsp.server.session.build import build_swarm
    from swarm_lsp.server.workspace import read_snapshot
    from swarm_lsp.swarm.ledger import Ledger
    from swarm_lsp.swarm.types import ActionRequest

    os.environ["SWARM_LSP_MODEL_HOSTS_DIR"] = str(state / "model-hosts")
    ledger = Ledger(state / f"ledger-{mode.replace(' ', '-')}.sqlite3")
    swarm = None
    rows = []
    for round_ in range(rounds):
        for target in TARGETS:
            with tempfile.TemporaryDirectory(prefix="openai-tier-") as folder:
                workspace = Path(folder)
                shutil.copy(REPO / "examples" / "textutils.py", workspace / "textutils.py")
                config = load_config(workspace, overrides={"tiers": [tier], "candidates": 1, "model_host": model_host,
                                                           "seed": 1})
                swarm = swarm or build_swarm(config, ledger=ledger)  # one swarm: the model loads once
                request = ActionRequest("document", read_snapshot(workspace / "textutils.py"), target, workspace=folder)
                started = time.perf_counter()
                result = await swarm.run(request)
                seconds = time.perf_counter() - started
            used = list(result.usage.by_model.values())  # one model: the tier's
            rows.append({"target": target, "round": round_, "status": result.status, "seconds": round(seconds, 2),
                         "prompt_tokens": sum(u.prompt_tokens for u in used),
                         "completion_tokens": sum(u.completion_tokens for u in used)})
            print(f"{mode}: {target} {result.status} in {seconds:.1f}s", file=sys.stderr, flush=True)
    later = [r["seconds"] for r in rows[1:]]
    return {"mode": mode, "tier": tier.split("?")[0], "rows": rows,
            "statuses": {s: sum(r["status"] == s for r in rows) for s in sorted({r["status"] for r in rows})},
            "first_s": rows[0]["seconds"], "median_s": round(statistics.median(later), 2) if later else None,
            "prompt_tokens": round(statistics.mean(r["prompt_tokens"] for r in rows)),
            "completion_tokens": round(statistics.mean(r["completion_tokens"] for r in rows))}


def markdown(results: list[dict], rounds: int) -> str:
    lines = [BEGIN, f"### The document action through the OpenAI-compatible tier ({date.today().isoformat()})", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
             f"`bench/openai_tier.py --rounds {rounds}`: the embedded {MODEL} documents {', '.join(TARGETS)} of "
             "examples/textutils.py, one candidate, seed 1, once per round, in three ways one after the other: "
             "llama.cpp in the process, the machine's shared model host (the default), and an `openai:` tier against "
             "a plain `python -m llama_cpp.server` on the same GGUF. The first action includes loading the model "
             "(in-process, shared host) and is reported apart; the server of the `openai:` tier was started before.", "",
             "| mode | tier | outcomes | first action (s) | later actions, median (s) | prompt tokens / action | "
             "completion tokens / action |", "|---|---|---|---|---|---|---|"]
    for r in results:
        outcomes = ", ".join(f"{n} {s}" for s, n in r["statuses"].items())
        lines.append(f"| {r['mode']} | `{r['tier']}` | {outcomes} | {r['first_s']} | {r['median_s']} | "
                     f"{r['prompt_tokens']} | {r['completion_tokens']} |")
    return "\n".join(lines + ["", END])


async def main_async(args: argparse.Namespace) -> list[dict]:
    from swarm_lsp.swarm.backends.model_host import recorded_hosts, stop
    from swarm_lsp.swarm.models import ensure_verified, get_model

    gguf = ensure_verified(get_model(MODEL))
    state = Path(tempfile.mkdtemp(prefix="openai-tier-state-"))
    results = [await run_mode("in-process", f"llamacpp:{MODEL}", "in-process", args.rounds, state)]
    results.append(await run_mode("shared host", f"llamacpp:{MODEL}", "shared", args.rounds, state))
    for record in recorded_hosts(state / "model-hosts"):
        stop(state / "model-hosts", record.model)
    process, url = start_server(gguf, state / "llama-server.log")
    try:
        results.append(await run_mode("openai tier", f"openai:{MODEL}?base_url={url}", "shared", args.rounds, state))
    finally:
        process.terminate()
        process.wait(30)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="MARKDOWN")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    (Path(__file__).parent / "results" / "openai_tier.json").write_text(json.dumps(results, indent=1))
    text = markdown(results, args.rounds)
    print(json.dumps(results, indent=2) if args.json else text)
    if args.write:
        write_section(Path(args.write), text, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
