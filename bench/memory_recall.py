"""Retrieval recall of the memory's embedding choices on a library this project did not write:
boltons 26.2.0 (BSD-3-Clause), indexed as a workspace, and the 60 plain-language questions of
tests/fixtures/memory_questions/boltons.json (30 development, 30 held-out). For each embedder: the
time to index the library, recall@1 and recall@5 (a question counts when any of its answers is
among the first k chunks) and the mean reciprocal rank, per half. A lexical BM25 ranking of the
same chunks is the baseline (no embedding at all).

    ../.venv/bin/python memory_recall.py [--embedders wordllama,bm25,...] [--write ../docs/benchmarks.md]

Rows are kept in results/memory_recall.json (one per embedder; a run replaces its embedders' rows).
The boltons wheel is downloaded once from PyPI into ~/.cache/swarm-lsp-bench and checked against its
SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

from report import write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = REPO / "tests" / "fixtures" / "memory_questions" / "boltons.json"
WHEEL_SHA256 = "41942cbce440211bbcf2487ccdc356964ad674f95a01068b8a0dd7a1d1fed036"
ROWS = HERE / "results" / "memory_recall.json"
BEGIN, END = "<!-- memory-recall:begin -->", "<!-- memory-recall:end -->"
EMBEDDERS = ("bm25", "wordllama", "llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b")


def boltons_source(version: str) -> Path:
    cache = Path.home() / ".cache" / "swarm-lsp-bench" / f"boltons-{version}"
    if (cache / "boltons").is_dir():
        return cache
    download = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q",
                    f"boltons=={version}", "-d", str(download)], check=True)
    wheel = next(download.glob("boltons-*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(cache)
    return cache


Ranked = dict[str, list[tuple[str, str]]]


def rank_all(embedder: str, source: Path, questions: list[dict], k: int) -> list[tuple[str, Ranked, float, int]]:
    """Rows (name, each question's first k (path, symbol), seconds indexing took, chunks): BM25
    alone for "bm25", else the embedder's vectors alone and fused with BM25 (the memory's default)."""
    from swarm_lsp.swarm.memory import open_memory
    from swarm_lsp.swarm.memory.chunks import file_chunks
    from swarm_lsp.swarm.memory.lexical import BM25
    from swarm_lsp.swarm.verify.workspace_copy import list_files

    if embedder == "bm25":
        started = time.perf_counter()
        chunks = [c for rel in list_files(source) if rel.endswith(".py") for c in file_chunks(rel, (source / rel).read_text())]
        ranker = BM25([c.text for c in chunks])
        took = time.perf_counter() - started
        return [("bm25 (baseline)", {q["id"]: [(chunks[i].path, chunks[i].symbol) for i in ranker.top(q["question"], k)]
                                     for q in questions}, took, len(chunks))]
    memory = open_memory(source, embedder=embedder, folder=Path(tempfile.mkdtemp()))
    started = time.perf_counter()
    stats = memory.update(progress=lambda done, total: print(f"\r{embedder}: {done}/{total}", end="", file=sys.stderr))
    took = time.perf_counter() - started
    print(file=sys.stderr)
    return [(f"{embedder}{' + bm25' if hybrid else ''}",
             {q["id"]: [(h.path, h.symbol) for h in memory.search(q["question"], k, hybrid=hybrid)] for q in questions},
             took, stats.chunks) for hybrid in (False, True)]


def score(questions: list[dict], ranked: dict[str, list[tuple[str, str]]]) -> dict[str, dict[str, float]]:
    by_split: dict[str, dict[str, float]] = {}
    for split in ("dev", "heldout"):
        chosen = [q for q in questions if q["split"] == split]
        ranks = []
        for q in chosen:
            answers = {(a["path"], a["symbol"]) for a in q["answers"]}
            ranks.append(next((i + 1 for i, found in enumerate(ranked[q["id"]]) if found in answers), None))
        by_split[split] = {"questions": len(chosen), "recall@1": sum(r == 1 for r in ranks) / len(chosen),
                           "recall@5": sum(r is not None and r <= 5 for r in ranks) / len(chosen),
                           "mrr@10": sum(1 / r for r in ranks if r is not None) / len(chosen)}
    return by_split


def section(rows: list[dict], corpus: dict) -> str:
    lines = [BEGIN, f"### Memory: retrieval recall of the embedding choices ({rows[0]['date']})", "",
             f"Machine: {rows[0]['machine']}. `bench/memory_recall.py`: {corpus['library']} {corpus['version']} "
             f"({corpus['license']}, not written by this project) indexed as a workspace ({rows[0]['chunks']} functions, "
             "methods and classes), then the 60 plain-language questions of tests/fixtures/memory_questions/ "
             "(written without sight of the embedders, no identifier of the answer in the question; 30 development, "
             "30 held-out, on which nothing was tuned). recall@k: share of questions with a right answer among the "
             "first k; MRR over the first 10. BM25 (lexical, no embedding) is the baseline; `+ bm25` is the "
             "embedder's ranking fused with BM25's by reciprocal rank (the memory's search). Index time is the "
             "embedding of every chunk into a new Chroma store (BM25: building its table).", "",
             "| embedder | index time (s) | dev recall@1 | dev recall@5 | dev MRR | held-out recall@1 | held-out recall@5 | held-out MRR |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        d, h = row["scores"]["dev"], row["scores"]["heldout"]
        lines.append(f"| {row['embedder']} | {row['index_s']:.1f} | {d['recall@1']:.0%} | {d['recall@5']:.0%} | {d['mrr@10']:.2f} "
                     f"| {h['recall@1']:.0%} | {h['recall@5']:.0%} | {h['mrr@10']:.2f} |")
    return "\n".join([*lines, "", END])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedders", default=",".join(EMBEDDERS), help=f"comma-separated, of {', '.join(EMBEDDERS)}")
    parser.add_argument("--write", metavar="FILE", help="update this Markdown file's memory-recall section")
    args = parser.parse_args()
    corpus = json.loads(CORPUS.read_text())
    source = boltons_source(corpus["version"])
    kept = {row["embedder"]: row for row in json.loads(ROWS.read_text())} if ROWS.exists() else {}
    for embedder in [e.strip() for e in args.embedders.split(",") if e.strip()]:
        for name, ranked, took, chunks in rank_all(embedder, source, corpus["questions"], 10):
            kept[name] = {"embedder": name, "index_s": took, "chunks": chunks, "scores": score(corpus["questions"], ranked),
                          "ranked": ranked, "date": date.today().isoformat(),
                          "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
            print(json.dumps({k: v for k, v in kept[name].items() if k != "ranked"}), file=sys.stderr)
    order = [n for e in EMBEDDERS for n in (("bm25 (baseline)",) if e == "bm25" else (e, f"{e} + bm25"))]
    rows = [kept[n] for n in order if n in kept]
    ROWS.parent.mkdir(exist_ok=True)
    ROWS.write_text(json.dumps(rows, indent=1))
    text = section(rows, corpus)
    print(text)
    if args.write:
        write_section(Path(args.write), text, BEGIN, END)


if __name__ == "__main__":
    main()
