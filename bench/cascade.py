"""The cascade against the top tier alone (issue 19): each action on the same corpus, with the
embedded 1.5B alone and the cascade (0.5B, then the 1.5B when it fails). The 0.5B alone is the
cascade's first tier: same seed, same prompts, so it succeeded exactly where the cascade accepted
the 0.5B's candidate. Offline the 1.5B stands in for the cloud tier: "top-tier tokens avoided" is
what a cloud tier would not be sent.

    cd bench && ../.venv/bin/python cascade.py [--actions document,tests,refactor,audit] [--quick]
        [--limit N] [--report] [--write ../docs/benchmarks.md]

Corpus: 30 functions of tests/fixtures/doc_corpus (the first 15 of each half; permissively licensed
PyPI libraries, attributed there) for document, tests and refactor (preset `simplify`), each in a
fresh copy of its installed package; the 30 files of the held-out audit corpus for the audit.
Verified success: document, refactor: accepted (every gate passed); tests: accepted with at least
one kept test; audit: the right verdict (a flawed function detected, a mitigated twin not flagged
medium or higher). Each (action, item, mode) is one `Swarm.run` with the default candidates, fixed
routing and no related code; rows are appended to results/cascade_rows.jsonl as they finish, so a
run resumes where it stopped. `--quick`: one item per action, one candidate (under 10 minutes is
the aim; see docs/benchmarks.md for the measured time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from audit_corpus import FIXTURES, function_lines, score
from doc_action_corpus import copy_package, implementation_target, without_docstring

HERE = Path(__file__).resolve().parent
ROWS = HERE / "results" / "cascade_rows.jsonl"
SMALL, LARGE = "llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"
MODES = {"1.5b": (LARGE,), "cascade": (SMALL, LARGE), "cascade+context": (SMALL, LARGE)}
BENCHMARK_MODES = ("1.5b", "cascade")  # what this benchmark compares; the others are asked for by name
CONTEXT_TOKENS = {"cascade+context": 600}  # issue 18: the cascade with related code from the package's memory
PER_HALF = 15
ACTIONS = ("document", "tests", "refactor", "audit")


def items(action: str) -> list[dict[str, Any]]:
    if action == "audit":
        return [{**entry, "corpus": "audit_holdout", "id": f"audit_holdout/{entry['file']}"}
                for entry in json.loads((FIXTURES / "audit_holdout" / "manifest.json").read_text())]
    return [entry for half in ("dev", "heldout")
            for entry in json.loads((FIXTURES / "doc_corpus" / f"{half}.json").read_text())[:PER_HALF]]


async def run_one(action: str, item: dict[str, Any], mode: str, candidates: int | None) -> dict[str, Any]:
    from swarm_lsp.server.config import load_config
    from swarm_lsp.server.session.build import build_swarm
    from swarm_lsp.server.workspace import read_snapshot
    from swarm_lsp.swarm.ledger import Ledger
    from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot

    context_tokens = CONTEXT_TOKENS.get(mode, 0)
    overrides: dict[str, Any] = {"tiers": list(MODES[mode]), "routing": "fixed", "context_tokens": context_tokens,
                                 "reviewers": 0}
    if candidates:
        overrides["candidates"] = candidates
    with tempfile.TemporaryDirectory(prefix="cascade-") as folder, \
            tempfile.TemporaryDirectory(prefix="cascade-memory-") as store:
        workspace = Path(folder)
        if action == "audit":
            text = (FIXTURES / item["corpus"] / item["file"]).read_text()
            (workspace / Path(item["file"]).name).write_text(text)
            document = DocumentSnapshot(Path(item["file"]).name, text, 0)
            target = ""
            overrides.setdefault("candidates", 2)
        else:
            copy_package(item["module"].split(".")[0], workspace)
            module = workspace / (item["module"].replace(".", "/") + ".py")
            if not module.exists():
                module = workspace / item["module"].replace(".", "/") / "__init__.py"
            if action == "document":
                module.write_text(without_docstring(module.read_text(), item["qualname"]))
            document = read_snapshot(module)
            target = implementation_target(module.read_text(), item["qualname"])
        config = load_config(workspace, overrides=overrides)
        options = config.action_options(**({"preset": "simplify"} if action == "refactor" else {}))
        request = ActionRequest(action, document, target, workspace=folder, options=options)
        started = time.perf_counter()
        memory = None
        if context_tokens:  # the package's memory in a store of its own, indexed at the first lookup
            from swarm_lsp.swarm.memory import open_memory

            opened = open_memory(workspace, folder=Path(store))
            memory = lambda _workspace: opened  # noqa: E731
        with Ledger(workspace / "ledger.sqlite3") as ledger:
            result = await build_swarm(config, ledger=ledger, memory=memory).run(request)
        seconds = time.perf_counter() - started
    tokens = {name: usage.prompt_tokens + usage.completion_tokens for name, usage in result.usage.by_model.items()}
    return {"action": action, "id": item["id"], "mode": mode, "candidates": candidates, "status": result.status,
            "tier": result.tier, "verified": verified(action, item, result), "tokens": tokens,
            "small_accepted": result.status == "accepted" and result.tier == SMALL,
            "seconds": round(seconds, 1), "message": result.message[:300]}


def verified(action: str, item: dict[str, Any], result: Any) -> bool:
    if action == "audit":
        from swarm_lsp.swarm.audit.findings import Finding

        first, last = function_lines((FIXTURES / item["corpus"] / item["file"]).read_text(), item["function"])
        found = score(item, [Finding(**f) for f in result.evidence.get("findings", [])], first, last)
        return found["detected"] if item["vulnerable"] else not found["flagged_medium_plus"]
    if action == "tests":
        return result.status == "accepted" and bool(result.evidence.get("tests_kept"))
    return result.status == "accepted"


def load_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in ROWS.read_text().splitlines() if line.strip()] if ROWS.exists() else []


async def run(actions: list[str], modes: list[str], limit: int | None, candidates: int | None) -> None:
    done = {(r["action"], r["id"], r["mode"], r["candidates"]) for r in load_rows()}
    todo = [(a, item, m) for a in actions for item in items(a)[:limit] for m in modes
            if (a, item["id"], m, candidates) not in done]
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("cascade", total=len(todo))
        for action, item, mode in todo:
            bar.update(task, description=f"{action} {item['id']} [{mode}]")
            row = await run_one(action, item, mode, candidates)
            ROWS.parent.mkdir(exist_ok=True)
            with ROWS.open("a") as out:
                out.write(json.dumps(row) + "\n")
            console.print(f"{action} {item['id']} [{mode}]: {row['status']}, verified {row['verified']}, "
                          f"{row['seconds']} s", markup=False)
            bar.advance(task)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", default=",".join(ACTIONS))
    parser.add_argument("--modes", default=",".join(BENCHMARK_MODES),
                        help=f"of {', '.join(MODES)} (cascade+context: issue 18's related code, 600 tokens)")
    parser.add_argument("--limit", type=int, help="the first N items of each action")
    parser.add_argument("--quick", action="store_true", help="1 item per action, 1 candidate")
    parser.add_argument("--report", action="store_true", help="only print (and --write) the report from the rows")
    parser.add_argument("--write", metavar="FILE", help="update this Markdown file's cascade section")
    args = parser.parse_args()
    actions = [a for a in args.actions.split(",") if a]
    unknown = set(actions) - set(ACTIONS) | set(args.modes.split(",")) - set(MODES)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    if not args.report:
        limit, modes, candidates = (1, list(BENCHMARK_MODES), 1) if args.quick else (args.limit, args.modes.split(","), None)
        asyncio.run(run(actions, modes, limit, candidates))
    from cascade_report import BEGIN, CONTEXT_BEGIN, CONTEXT_END, END, context_report, report
    from report import write_section

    rows = load_rows()
    sections = [(report(rows, quick=args.quick), BEGIN, END)]
    if any(row["mode"] == "cascade+context" for row in rows) and not args.quick:
        sections.append((context_report(rows), CONTEXT_BEGIN, CONTEXT_END))
    for text, begin, end in sections:
        print(text)
        if args.write:
            write_section(Path(args.write), text, begin, end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
