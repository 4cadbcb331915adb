"""Benchmark the audit on the labelled corpus: per CWE class, how many flawed files are detected
and how many mitigated twins are flagged, for bandit alone and for the whole audit action (bandit
plus the swarm auditors on an embedded model, no reviewers) side by side.

    cd bench && ../.venv/bin/python audit_corpus.py [--swarm 0.5b,1.5b] [--json] [--write ../docs/benchmarks.md]

A flawed file counts as detected when bandit reports any finding (any severity) whose line range
lies inside the function named in the manifest, whatever its CWE; "CWE matched" additionally
needs one such finding to carry the manifest's CWE. A mitigated twin counts as flagged when bandit
reports a finding of severity medium or high inside that function. With `--write`, the Markdown
table replaces the section between the audit-corpus-benchmark markers (or is appended).
"""

from __future__ import annotations

import argparse
import asyncio
import ast
import json
import os
import platform
import sys
import tempfile
from datetime import date
from pathlib import Path

import bandit
from report import publish
from swarm_lsp.server.config import load_config
from swarm_lsp.server.session import build_swarm
from swarm_lsp.swarm.audit.bandit_pass import bandit_findings
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fixtures" / "audit_corpus"
BEGIN = "<!-- audit-corpus-benchmark:begin -->"
END = "<!-- audit-corpus-benchmark:end -->"


def function_lines(text: str, name: str) -> tuple[int, int]:
    """First and last line of the function `name` (decorators included)."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            first = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
            return first, node.end_lineno
    raise ValueError(f"no function {name!r}")


def score(entry: dict, findings: list, first: int, last: int) -> dict:
    inside = [f for f in findings if first <= f.start_line and f.end_line <= last]
    return {
        "findings_in_function": [
            {"source": f.source, "rule_id": f.rule_id, "cwe": f.cwe, "severity": f.severity, "line": f.start_line}
            for f in inside
        ],
        "detected": bool(inside),
        "cwe_matched": any(f.cwe == entry["cwe"] for f in inside),
        "flagged_medium_plus": any(f.at_least("medium") for f in inside),
    }


def run_one(entry: dict) -> dict:
    text = (CORPUS / entry["file"]).read_text()
    first, last = function_lines(text, entry["function"])
    return {**entry, "auditor": "bandit", **score(entry, bandit_findings(entry["file"], text), first, last)}


async def run_swarm(entry: dict, model: str, ledger: Ledger) -> dict:
    from swarm_lsp.swarm.audit.findings import Finding

    path = CORPUS / entry["file"]
    text = path.read_text()
    first, last = function_lines(text, entry["function"])
    config = load_config(CORPUS, overrides={"tiers": [f"llamacpp:qwen2.5-coder-{model}"], "candidates": 2,
                                            "reviewers": 0})
    request = ActionRequest("audit", DocumentSnapshot(entry["file"], text, 0), "", workspace=str(CORPUS))
    result = await build_swarm(config, ledger=ledger).run(request)
    findings = [Finding(**item) for item in result.evidence.get("findings", [])]
    return {**entry, "auditor": f"audit action, {model}", "status": result.status, **score(entry, findings, first, last)}


def summarise(rows: list[dict]) -> list[dict]:
    summary = []
    for auditor in dict.fromkeys(r["auditor"] for r in rows):
        mine = [r for r in rows if r["auditor"] == auditor]
        for name in dict.fromkeys(r["class"] for r in mine):
            flawed = [r for r in mine if r["class"] == name and r["vulnerable"]]
            twins = [r for r in mine if r["class"] == name and not r["vulnerable"]]
            summary.append({
                "auditor": auditor, "class": name, "cwe": flawed[0]["cwe"], "vulnerable": len(flawed),
                "detected": sum(r["detected"] for r in flawed), "cwe_matched": sum(r["cwe_matched"] for r in flawed),
                "safe": len(twins), "safe_flagged": sum(r["flagged_medium_plus"] for r in twins),
            })
    return summary


def markdown(summary: list[dict]) -> str:
    auditors = list(dict.fromkeys(s["auditor"] for s in summary))
    classes = list(dict.fromkeys(s["class"] for s in summary))
    cell = {(s["auditor"], s["class"]): s for s in summary}
    lines = [
        BEGIN,
        f"### Audit corpus: bandit alone and the audit action ({date.today().isoformat()})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}, bandit {bandit.__version__}. Corpus: `tests/fixtures/audit_corpus/` "
        f"({len(classes)} classes x 2 flawed files + 2 mitigated twins). Each cell: flawed files detected "
        "(any finding inside the flawed function) / with the corpus CWE / mitigated twins flagged (a medium or "
        "high finding inside the function), of 2 each. The audit action is bandit plus the swarm auditors on "
        "one embedded model, `candidates=2`, no reviewers. "
        f"Reproduce: `cd bench && ../.venv/bin/python audit_corpus.py{' --swarm ' + ','.join(a.split(', ')[1] for a in auditors[1:]) if len(auditors) > 1 else ''}`.",
        "",
        "| class | CWE | " + " | ".join(auditors) + " |",
        "|---|---|" + "---|" * len(auditors),
    ]
    for name in classes:
        cwe = cell[(auditors[0], name)]["cwe"]
        cells = [f"{c['detected']} / {c['cwe_matched']} / {c['safe_flagged']}"
                 for c in (cell[(a, name)] for a in auditors)]
        lines.append(f"| {name} | {cwe} | " + " | ".join(cells) + " |")
    totals = []
    for auditor in auditors:
        mine = [s for s in summary if s["auditor"] == auditor]
        totals.append(f"**{sum(s['detected'] for s in mine)}/{sum(s['vulnerable'] for s in mine)} / "
                      f"{sum(s['cwe_matched'] for s in mine)} / {sum(s['safe_flagged'] for s in mine)}/"
                      f"{sum(s['safe'] for s in mine)}**")
    lines.append("| **total** | | " + " | ".join(totals) + " |")
    lines.append(END)
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--swarm", metavar="MODELS", default="", help="also run the audit action on these "
                        "embedded models, comma-separated (0.5b, 1.5b)")
    parser.add_argument("--json", action="store_true", help="print the rows and summary as JSON")
    parser.add_argument("--write", metavar="MARKDOWN", help="update this file's audit-corpus-benchmark section")
    args = parser.parse_args()
    entries = json.loads((CORPUS / "manifest.json").read_text())
    rows = [run_one(entry) for entry in entries]
    with tempfile.TemporaryDirectory() as state:
        ledger = Ledger(Path(state) / "ledger.sqlite3")  # keep benchmark calls out of the user's ledger
        for model in filter(None, (m.strip() for m in args.swarm.split(","))):
            for entry in entries:
                row = await run_swarm(entry, model, ledger)
                print(json.dumps({k: row[k] for k in ("auditor", "file", "detected", "flagged_medium_plus")}),
                      file=sys.stderr)
                rows.append(row)
        ledger.close()
    summary = summarise(rows)
    publish(rows, summary, markdown(summary), as_json=args.json, write=args.write, begin=BEGIN, end=END)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
