"""The document action's gates as a classifier, on the labelled documentation corpus (issue 15).

    .venv/bin/python bench/doc_gates_corpus.py [--json] [--write docs/benchmarks.md]

For every docstring of tests/fixtures/doc_corpus (one correct and two or more wrong, each wrong in
one checkable way, per function), the document action runs once with a scripted writer whose
reply is that docstring's content (summary, parameters, returns, raises, as the writer's JSON
schema asks for them): every gate runs on it exactly as on a model's candidate, no reviewer. The
figures: wrong docstrings the gates accept (each accepted one is a false claim a user would get),
correct ones they reject, per half (development, held-out) and per kind of error. The scripted
writer stands in for a model here on purpose: this measures the gates, not a model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import textwrap
from collections import Counter
from datetime import date
from pathlib import Path

from report import publish
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "doc_corpus"
HALVES = ("dev", "heldout")
TIER = "llamacpp:scripted"
BEGIN, END = "<!-- doc-gates-corpus-benchmark:begin -->", "<!-- doc-gates-corpus-benchmark:end -->"


def module_for(entry: dict) -> tuple[str, str]:
    """A module holding the function (a method inside its class): (text, target qualname)."""
    source = entry["source"]
    if entry["kind"] == "method":
        owner, name = entry["qualname"].rsplit(".", 1)
        return f"class {owner.split('.')[-1]}:\n" + textwrap.indent(source, "    "), f"{owner.split('.')[-1]}.{name}"
    return source, entry["qualname"].split(".")[-1]


def reply_for(docstring: dict) -> dict:
    """The writer's JSON for a docstring, from its labelled claims."""
    summary = " ".join(c["text"] for c in docstring["claims"] if c["section"] == "summary")
    params = {c["name"].lstrip("*"): c["text"] for c in docstring["claims"] if c["section"] == "arg"}
    returns = " ".join(c["text"] for c in docstring["claims"] if c["section"] in ("returns", "yields"))
    raises = {c["name"]: c["text"] for c in docstring["claims"] if c["section"] == "raises"}
    return {"summary": summary, "params": params, "returns": returns, "raises": raises}


async def judge(entry: dict, docstring: dict, ledger: Ledger) -> dict:
    text, target = module_for(entry)
    backend = ScriptedBackend(TIER, [reply_for(docstring)])
    swarm = Swarm(SwarmSettings(tiers=(TIER,), candidates=1, reviewers=0), {TIER: backend}.__getitem__, ledger)
    request = ActionRequest("document", DocumentSnapshot("corpus_module.py", text, 1), target, workspace="/corpus")
    result = await swarm.run(request)
    failed = [g.name for a in result.attempts for g in a.gates if not g.passed]
    return {"id": docstring["id"], "half": entry["half"], "label": docstring["label"], "kind": docstring["kind"],
            "accepted": result.status == "accepted", "failed_gates": failed}


async def measure() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as folder, Ledger(Path(folder) / "ledger.sqlite3") as ledger:
        for half in HALVES:
            for entry in json.loads((CORPUS / f"{half}.json").read_text()):
                for docstring in entry["docstrings"]:
                    rows.append(await judge(entry, docstring, ledger))
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    table = []
    for half in HALVES:
        mine = [r for r in rows if r["half"] == half]
        wrong, correct = [r for r in mine if r["label"] == "wrong"], [r for r in mine if r["label"] == "correct"]
        kinds = Counter(r["kind"] for r in wrong)
        accepted_kinds = Counter(r["kind"] for r in wrong if r["accepted"])
        table.append({
            "half": half, "wrong": len(wrong), "wrong_accepted": sum(r["accepted"] for r in wrong),
            "correct": len(correct), "correct_rejected": sum(not r["accepted"] for r in correct),
            "by_kind": {k: [accepted_kinds[k], n] for k, n in sorted(kinds.items())},
            "rejecting_gates": dict(Counter(g for r in mine if not r["accepted"] for g in r["failed_gates"])),
        })
    return table


def markdown(table: list[dict]) -> str:
    kinds = sorted({k for row in table for k in row["by_kind"]})
    lines = [
        BEGIN, f"### The document action's gates on the labelled documentation corpus ({date.today().isoformat()})", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. Corpus: "
        "tests/fixtures/doc_corpus (44 functions and methods from 15 permissively licensed PyPI libraries; one "
        "correct and two or more wrong docstrings each, every wrong one wrong in one checkable way; development "
        "and held-out halves split by library). Each docstring is given to the document action as a scripted "
        "writer's reply and runs through every gate, no reviewers: the gates as a classifier, before issue 15's "
        "checks. Reproduce: `.venv/bin/python bench/doc_gates_corpus.py`.", "",
        "| half | wrong docstrings accepted | correct docstrings rejected | " + " | ".join(f"{k} accepted" for k in kinds)
        + " |",
        "|---|---|---|" + "---|" * len(kinds),
    ]
    for row in table:
        by_kind = " | ".join("{} of {}".format(*row["by_kind"].get(k, [0, 0])) for k in kinds)
        lines.append(f"| {row['half']} | {row['wrong_accepted']} of {row['wrong']} "
                     f"({row['wrong_accepted'] / row['wrong']:.0%}) | {row['correct_rejected']} of {row['correct']} | "
                     f"{by_kind} |")
    rejecting = Counter()
    for row in table:
        rejecting.update(row["rejecting_gates"])
    lines += ["", "Gates that rejected (all halves): " + (", ".join(f"{g} {n}" for g, n in rejecting.most_common())
                                                         or "none") + ". The `content` gate checks lengths and "
              "empty fields, not truth; `raises_documented` checks that the documented exceptions are the ones the "
              "code raises.", END]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="MARKDOWN")
    args = parser.parse_args()
    rows = asyncio.run(measure())
    table = summarise(rows)
    publish(rows, table, markdown(table), as_json=args.json, write=args.write, begin=BEGIN, end=END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
