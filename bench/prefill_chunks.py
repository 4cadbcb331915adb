"""Prompt-evaluation speed of the embedded models by chunk size: what reading a prompt in small,
cancellable chunks (swarm/backends/prefill.py) costs against llama-cpp-python's 512-token batches.

    .venv/bin/python bench/prefill_chunks.py [--models 0.5b,1.5b] [--tokens 1024] [--repeats 3]
        [--json] [--write docs/benchmarks.md]

Each model reads the same prompt (the start of swarm/run.py, `--tokens` tokens) from an empty KV
cache, after one warm-up pass: per chunk size, then as the backend does (chunks sized from the
measured speed), the sizes interleaved within each of `--repeats` rounds; the median is reported. The longest a cancel waits during prompt evaluation
is one chunk: the "s per chunk" column.
"""

from __future__ import annotations

import argparse
import platform
import statistics
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


def adaptive_pass(llama: Llama, tokens: list[int]) -> tuple[float, int]:
    prefill = Prefill()  # what the backend does: chunks sized from the measured speed
    llama.n_tokens = 0
    started = time.perf_counter()
    prefill.run(llama, tokens + [tokens[-1]], should_stop=lambda: False)
    return time.perf_counter() - started, prefill.chunk_size()


def measure(name: str, count: int, repeats: int) -> list[dict]:
    path = models.ensure_verified(models.get_model(MODELS[name]))
    llama = Llama(model_path=str(path), n_ctx=4096, n_threads=2, verbose=False)
    tokens = llama.tokenize((REPO / "swarm" / "run.py").read_text().encode())[:count]
    read_prompt(llama, tokens, 64)  # warm-up: the first pass pages the weights in
    times: dict[object, list[float]] = {}
    chunk_sizes: list[int] = []
    for _ in range(repeats):
        for chunk in CHUNKS:
            times.setdefault(chunk, []).append(read_prompt(llama, tokens, chunk))
        seconds, size = adaptive_pass(llama, tokens)
        times.setdefault("adaptive", []).append(seconds)
        chunk_sizes.append(size)
    llama.close()
    rows = []
    for chunk, samples in times.items():
        rate = len(tokens) / statistics.median(samples)
        size = chunk if chunk != "adaptive" else statistics.median(chunk_sizes)
        label = chunk if chunk != "adaptive" else f"adaptive ({size:.0f})"
        rows.append({"model": name, "chunk": label, "tokens_per_s": round(rate, 1), "s_per_chunk": round(size / rate, 3)})
    return rows


def section(rows: list[dict], args: argparse.Namespace) -> str:
    lines = [BEGIN, f"### Prompt evaluation by chunk size ({date.today().isoformat()})", "",
             f"Machine: {platform.machine()}, 2 cores, Python {platform.python_version()}, llama-cpp-python "
             f"{llama_cpp.__version__}. {args.tokens} prompt tokens from an empty KV cache, median of {args.repeats}. "
             f"Reproduce: `python bench/prefill_chunks.py --models {args.models} --tokens {args.tokens} "
             f"--repeats {args.repeats}`.", "",
             "| model | chunk (tokens) | prompt tokens/s | s per chunk (longest wait for a cancel) |", "|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['chunk']} | {r['tokens_per_s']:.0f} | {r['s_per_chunk']:.2f} |" for r in rows]
    return "\n".join(lines + [END])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="0.5b,1.5b")
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="BENCHMARKS_MD")
    args = parser.parse_args()
    rows = [row for name in args.models.split(",") for row in measure(name, args.tokens, args.repeats)]
    publish(rows, [], section(rows, args), as_json=args.json, write=args.write, begin=BEGIN, end=END)


if __name__ == "__main__":
    main()
