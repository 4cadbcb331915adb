"""The document action end to end on the corpus functions, in their real packages (issue 15, step 1).

    .venv/bin/python bench/doc_action_corpus.py --variant examples [--half heldout] [--reviewers 3]

For each function of a half of tests/fixtures/doc_corpus, the installed package it comes from is
copied into a fresh workspace, the function's docstring is removed there, and the document action
runs on it with the default plan (the embedded 0.5B, then the 1.5B) and the variant's settings.
Kept per function in bench/results/doc_action_<variant>_<half>.json (a run resumes where it
stopped): accepted or not, the tier, the docstring, its claims with how each was verified, tokens
and seconds. The claims of the accepted docstrings are then judged true or false against the code
by a careful reader and the judgements kept in tests/fixtures/doc_corpus/generated_<half>.json;
`--report` joins both into the table of docs/benchmarks.md (false claims among accepted docstrings,
targets accepted).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from report import write_section
from swarm_lsp.server.config import load_config
from swarm_lsp.server.session.build import build_swarm
from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.settings import ActionOptions
from swarm_lsp.swarm.types import ActionRequest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "doc_corpus"
RESULTS = ROOT / "bench" / "results"
def markers(half: str) -> tuple[str, str]:
    return f"<!-- doc-action-corpus-benchmark:{half}:begin -->", f"<!-- doc-action-corpus-benchmark:{half}:end -->"
# name -> (doc_examples, reviewers: -1 none at all, 0 the default claim reviewer, N a quorum of N)
CONTEXT_TOKENS = {"context": 600}  # variants that show the writer related code from the package's memory
VARIANTS = {
    "gates": ("off", -1),  # before this steps 2 and 4: the gates alone, prose only
    "examples": ("verified", -1),  # executed examples and raise claims, no reviewers (before returns_match_results)
    "examples+reviewers": ("verified", 0),  # and the default claim reviewer (doc_reviewers = auto)
    "observed": ("observed", -1),  # the writer also sees what calls of the function returned before it writes
    "default": ("verified", -1),  # the default settings with every gate of today
    "context": ("verified", -1),  # the default, plus 600 tokens of related code (issue 18)
}


def copy_package(top: str, into: Path) -> None:
    spec = importlib.util.find_spec(top)
    if spec is not None and spec.origin is None and spec.submodule_search_locations:  # a namespace package
        for location in spec.submodule_search_locations:  # (opentelemetry: one folder per distribution)
            shutil.copytree(location, into / top, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        return
    if spec is None or spec.origin is None:
        raise SystemExit(f"{top} is not installed: pip install it first")
    origin = Path(spec.origin)
    if origin.name == "__init__.py":
        shutil.copytree(origin.parent, into / top, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy(origin, into / origin.name)


def without_docstring(text: str, qualname: str) -> str:
    """`text` with the docstring of `qualname` (a function or a method) removed, lines and all."""
    scope: list[ast.stmt] = ast.parse(text).body
    node: ast.AST | None = None
    for part in qualname.split("."):
        node = next(n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                    and n.name == part)
        scope = node.body
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    first = node.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)):
        return text
    lines = text.splitlines(keepends=True)
    assert first.end_lineno is not None
    del lines[first.lineno - 1:first.end_lineno]
    if len(node.body) == 1:  # only a docstring: keep the function valid
        lines.insert(first.lineno - 1, " " * first.col_offset + "pass\n")
    return "".join(lines)


def implementation_target(text: str, qualname: str) -> str:
    """`qualname`, or the line of its last definition when `@overload` stubs precede it."""
    scope: list[ast.stmt] = ast.parse(text).body
    found: list[ast.stmt] = []
    for part in qualname.split("."):
        found = [n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                 and n.name == part]
        scope = found[-1].body if found else []
    return qualname if len(found) <= 1 else str(found[-1].lineno)


async def document(entry: dict, examples: str, reviewers: int, threads: int | None, context_tokens: int = 0) -> dict:
    with tempfile.TemporaryDirectory(prefix="doc-corpus-") as folder, \
            tempfile.TemporaryDirectory(prefix="doc-corpus-memory-") as store:
        workspace = Path(folder)
        top = entry["module"].split(".")[0]
        copy_package(top, workspace)
        module_file = workspace / (entry["module"].replace(".", "/") + ".py")
        if not module_file.exists():
            module_file = workspace / entry["module"].replace(".", "/") / "__init__.py"
        module_file.write_text(without_docstring(module_file.read_text(), entry["qualname"]))
        settings = (f"[tool.swarm-lsp]\ndoc_reviewers = \"{'off' if reviewers < 0 else 'auto'}\"\n"
                    f"reviewers = {max(reviewers, 0)}\ncontext_tokens = {context_tokens}\n"
                    + (f"threads = {threads}\n" if threads else ""))
        (workspace / "pyproject.toml").write_text(settings)
        config = load_config(workspace)
        request = ActionRequest("document", read_snapshot(module_file), implementation_target(
                                    module_file.read_text(), entry["qualname"]), workspace=str(workspace),
                                options=ActionOptions(doc_examples=examples))
        started = time.perf_counter()
        memory = None
        if context_tokens:  # the package's memory, in a store of its own (indexed at the first lookup)
            from swarm_lsp.swarm.memory import open_memory

            opened = open_memory(workspace, folder=Path(store))
            memory = lambda _workspace: opened  # noqa: E731
        result = await build_swarm(config, memory=memory).run(request)
        evidence = result.evidence
        return {"id": entry["id"], "status": result.status, "tier": result.tier, "message": result.message,
                "attempts": len(result.attempts), "seconds": round(time.perf_counter() - started, 1),
                "local_tokens": result.usage.local_tokens, "docstring": evidence.get("documentation"),
                "claims": evidence.get("claims", []), "claims_removed": evidence.get("claims_removed", []),
                "summary": evidence.get("summary"), "examples": evidence.get("examples"),
                "context": evidence.get("context")}


async def run(variant: str, half: str, limit: int | None, threads: int | None) -> Path:
    examples, reviewers = VARIANTS[variant]
    path = RESULTS / f"doc_action_{variant}_{half}.json"
    done = {row["id"]: row for row in json.loads(path.read_text())} if path.exists() else {}
    entries = json.loads((CORPUS / f"{half}.json").read_text())[:limit]
    for number, entry in enumerate(entries, 1):
        if entry["id"] in done:
            continue
        print(f"[{number}/{len(entries)}] {entry['id']}", file=sys.stderr, flush=True)
        row = await document(entry, examples, reviewers, threads, CONTEXT_TOKENS.get(variant, 0))
        done[entry["id"]] = row
        print(f"    {row['status']} from {row['tier']} in {row['seconds']}s: {row['summary']}", file=sys.stderr, flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(list(done.values()), indent=1))
    return path


def judged_claims(half: str) -> dict[tuple[str, str], dict]:
    """(function id, claim text) -> the careful reader's judgement, from the corpus."""
    path = CORPUS / f"generated_{half}.json"
    if not path.exists():
        return {}
    return {(row["id"], claim["claim"]): claim for row in json.loads(path.read_text()) for claim in row["claims"]}


def report(half: str) -> str:
    judged = judged_claims(half)
    begin, end = markers(half)
    lines = [begin, f"### The document action end to end on the {half} functions, claims judged by a reader", "",
             "`bench/doc_action_corpus.py`: each function of the half documented in a copy of its real package "
             "(its docstring removed) with the default plan (the embedded 0.5B, then the 1.5B, 3 candidates each); "
             "every claim of every accepted docstring judged true or false against the code (judgements in "
             f"`tests/fixtures/doc_corpus/generated_{half}.json`). A docstring is counted false when one claim is.", "",
             "| variant | targets | accepted | from the 0.5B | accepted with a false claim | false claims | "
             "claims verified (executed / checked / voted) | s per target |", "|---|---|---|---|---|---|---|---|"]
    for variant in VARIANTS:
        path = RESULTS / f"doc_action_{variant}_{half}.json"
        if not path.exists():
            continue
        rows = json.loads(path.read_text())
        accepted = [r for r in rows if r["status"] == "accepted"]
        labels = [[judged.get((r["id"], c["claim"]), {}).get("label") for c in r["claims"]] for r in accepted]
        complete = [ls for ls in labels if ls and None not in ls]
        false_docs = sum(1 for ls in complete if False in ls)
        claims = [c for r in accepted for c in r["claims"]]
        false_claims = sum(ls.count(False) for ls in complete)
        executed = sum(c["how"] == "executed" for c in claims)
        voted = sum(c["how"] == "voted" for c in claims)
        checked = sum(c["how"] == "checked" for c in claims)
        small = sum(1 for r in accepted if r["tier"].endswith("0.5b"))
        judged_note = "" if len(complete) == len(accepted) else f" ({len(complete)} judged)"
        lines.append(
            f"| {variant} | {len(rows)} | {len(accepted)} ({len(accepted) / len(rows):.0%}) | {small} | "
            f"{false_docs} of {len(complete)} ({false_docs / max(len(complete), 1):.0%}){judged_note} | "
            f"{false_claims} of {sum(len(ls) for ls in complete)} | "
            f"{executed + checked + voted} of {len(claims)} ({executed} / {checked} / {voted}) | "
            f"{sum(r['seconds'] for r in rows) / len(rows):.0f} |")
    return "\n".join(lines + ["", end])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="examples")
    parser.add_argument("--half", choices=("dev", "heldout"), default="heldout")
    parser.add_argument("--limit", type=int, help="only the first N functions")
    parser.add_argument("--threads", type=int, help="llama.cpp threads (default: all cores)")
    parser.add_argument("--report", action="store_true", help="print the table from the kept results and judgements")
    parser.add_argument("--write", metavar="FILE", help="with --report: update this Markdown file's section")
    args = parser.parse_args()
    if args.report:
        section = report(args.half)
        print(section)
        if args.write:
            write_section(Path(args.write), section, *markers(args.half))
        return 0
    print(asyncio.run(run(args.variant, args.half, args.limit, args.threads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
