"""Prompt-evaluation speed of the embedded models by chunk size: what reading a prompt in small,
cancellable chunks (swarm/backends/prefill.py) costs against llama-cpp-python's 512-token batches.

    .venv/bin/python bench/prefill_chunks.py [--models 0.5b,1.5b] [--tokens 1024] [--json] [--write docs/benchmarks.md]

Each model reads the same prompt (the start of swarm/run.py, `--tokens` tokens) once per chunk size
from an empty KV cache, after one warm-up pass. The longest a cancel waits during prompt evaluation
is one chunk: the "s per chunk" column.
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date
from pathlib import Path

import llama_cpp
from llama_cpp import Llama
from report import publish
from swarm_lsp.swarm import models
from swarm_lsp.swarm.backends.prefill import Prefill

REPO = Path(__file__).resolve().parents[1]
MODELS = {"0.5b": "qwen2.5-coder-0.5b", "1.5b": "qwen2.5-coder-1.5b"}
CHUNKS = (8, 16, 32, 64, 128, 256, 512)
BEGIN, END = "<!-- prefill-chunks-benchmark:begin -->", "<!-- prefill-chunks-benchmark:end -->"


def read_prompt(llama: Llama, tokens: list[int], chunk: int) -> float:
    llama.n_tokens = 0
    started = time.perf_counter()
    for start in range(0, len(tokens), chunk):
        llama.eval(tokens[start: start + chunk])
    return time.perf_counter() - started


def measure(name: str, count: int) -> list[dict]:
    path = models.ensure_verified(models.get_model(MODELS[name]))
    llama = Llama(model_path=str(path), n_ctx=4096, n_threads=2, verbose=False)
    tokens = llama.tokenize((REPO / "swarm" / "run.py").read_text().encode())[:count]
    read_prompt(llama, tokens, 64)  # warm-up: the first pass pages the weights in
    rows = []
    for chunk in CHUNKS:
        seconds = read_prompt(llama, tokens, chunk)
        rate = len(tokens) / seconds
        rows.append({"model": name, "chunk": chunk, "tokens_per_s": round(rate, 1), "s_per_chunk": round(chunk / rate, 3)})
    adaptive = Prefill()  # what the backend does: chunks sized from the measured speed
    llama.n_tokens = 0
    started = time.perf_counter()
    adaptive.run(llama, tokens + [tokens[-1]], should_stop=lambda: False)
    seconds = time.perf_counter() - started
    rows.append({"model": name, "chunk": f"adaptive ({adaptive.chunk_size()})", "tokens_per_s": round(len(tokens) / seconds, 1),
                 "s_per_chunk": round(adaptive.chunk_size() / adaptive.tokens_per_s, 3)})
    llama.close()
    return rows


def section(rows: list[dict], args: argparse.Namespace) -> str:
    lines = [BEGIN, f"### Prompt evaluation by chunk size ({date.today().isoformat()})", "",
             f"Machine: {platform.machine()}, 2 cores, Python {platform.python_version()}, llama-cpp-python "
             f"{llama_cpp.__version__}. {args.tokens} prompt tokens from an empty KV cache. Reproduce: "
             f"`python bench/prefill_chunks.py --models {args.models} --tokens {args.tokens}`.", "",
             "| model | chunk (tokens) | prompt tokens/s | s per chunk (longest wait for a cancel) |", "|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['chunk']} | {r['tokens_per_s']:.0f} | {r['s_per_chunk']:.2f} |" for r in rows]
    return "\n".join(lines + [END])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="0.5b,1.5b")
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="BENCHMARKS_MD")
    args = parser.parse_args()
    rows = [row for name in args.models.split(",") for row in measure(name, args.tokens)]
    publish(rows, [], section(rows, args), as_json=args.json, write=args.write, begin=BEGIN, end=END)


if __name__ == "__main__":
    main()
