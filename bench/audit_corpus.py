"""Benchmark the audit on the labelled corpora: per CWE class, how many flawed files are detected
and how many mitigated twins are flagged, for bandit alone, bandit behind swarm-lsp's gates
(location and mitigation), and the whole audit action (bandit plus the swarm auditors on an
embedded model, optionally with reviewers) side by side.

    cd bench && ../.venv/bin/python audit_corpus.py [--corpus audit_corpus,audit_holdout]
        [--swarm 0.5b,1.5b] [--reviewers N] [--json] [--write ../docs/benchmarks.md]

`audit_corpus` is the development corpus (the mitigation gate was written against it);
`audit_holdout` was written afterwards by someone who had not seen the gate's rules, to measure
how far they generalise.

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
import re
import sys
import tempfile
from datetime import date
from pathlib import Path

import bandit
from report import publish
from swarm_lsp.server.config import load_config
from swarm_lsp.server.session.build import build_swarm
from swarm_lsp.swarm.audit.bandit_pass import bandit_findings
from swarm_lsp.swarm.audit.mitigations import gate_findings
from swarm_lsp.swarm.audit.pipeline import deterministic_pass
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
BEGIN = "<!-- audit-corpus-benchmark:begin -->"
END = "<!-- audit-corpus-benchmark:end -->"
DETERMINISTIC = "bandit + flow pass + gates"  # the audit's deterministic first pass, what `check` reports


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


def run_bandit(entry: dict) -> list[dict]:
    text = (FIXTURES / entry["corpus"] / entry["file"]).read_text()
    first, last = function_lines(text, entry["function"])
    raw = bandit_findings(entry["file"], text)
    gated, _ = gate_findings(raw, text)
    first_pass = deterministic_pass(entry["file"], text).kept
    return [{**entry, "auditor": "bandit", **score(entry, raw, first, last)},
            {**entry, "auditor": "bandit + gates", **score(entry, gated, first, last)},
            {**entry, "auditor": DETERMINISTIC, **score(entry, first_pass, first, last)}]


async def run_swarm(entry: dict, model: str, reviewers: int, ledger: Ledger) -> list[dict]:
    """The audit action's row; with reviewers, also a row for the same auditor answers with the
    reviewers' rejections put back (the votes' effect, free of the auditors' run-to-run variance)."""
    from swarm_lsp.swarm.audit.findings import Finding

    corpus = FIXTURES / entry["corpus"]
    text = (corpus / entry["file"]).read_text()
    first, last = function_lines(text, entry["function"])
    config = load_config(corpus, overrides={"tiers": [f"llamacpp:qwen2.5-coder-{model}"], "candidates": 2,
                                            "reviewers": reviewers})
    request = ActionRequest("audit", DocumentSnapshot(entry["file"], text, 0), "", workspace=str(corpus))
    result = await build_swarm(config, ledger=ledger).run(request)
    findings = [Finding(**item) for item in result.evidence.get("findings", [])]
    dropped = result.evidence.get("dropped", [])
    rows = [{**entry, "auditor": swarm_label(model, reviewers), "status": result.status, "dropped": dropped,
             **score(entry, findings, first, last)}]
    if reviewers:
        rejected = [Finding(**item["finding"]) for item in dropped if item.get("reason") == "rejected by the reviewers"]
        rows.append({**entry, "auditor": swarm_label(model, reviewers, votes_ignored=True), "status": result.status,
                     **score(entry, findings + rejected, first, last)})
    return rows


def without_flow_gate(row: dict) -> dict:
    """The same auditor answers with the findings the flow gate dropped put back (those the
    mitigation gate would still drop stay out): the flow gate's effect on one run."""
    from swarm_lsp.swarm.audit.findings import Finding
    from swarm_lsp.swarm.audit.flow_index import Source
    from swarm_lsp.swarm.audit.mitigations import mitigation

    text = (FIXTURES / row["corpus"] / row["file"]).read_text()
    source = Source(text)
    back = [Finding(**item["finding"]) for item in row["dropped"] if item.get("reason", "").startswith("no flow: ")]
    back = [f for f in back if mitigation(source, f.start_line, f.cwe) is None]
    extra = score(row, back, *function_lines(text, row["function"]))
    return {**row, "auditor": row["auditor"] + ", the same answers without the flow gate", "dropped": [],
            "findings_in_function": row["findings_in_function"] + extra["findings_in_function"],
            **{key: row[key] or extra[key] for key in ("detected", "cwe_matched", "flagged_medium_plus")}}


def swarm_label(model: str, reviewers: int, votes_ignored: bool = False) -> str:
    if votes_ignored:
        return f"audit action, {model}, the same answers without the votes"
    return f"audit action, {model}" + (f", {reviewers} reviewer(s) voting per finding" if reviewers else "")


def summarise(rows: list[dict]) -> list[dict]:
    summary = []
    for corpus in dict.fromkeys(r["corpus"] for r in rows):
        for auditor in dict.fromkeys(r["auditor"] for r in rows if r["corpus"] == corpus):
            mine = [r for r in rows if r["auditor"] == auditor and r["corpus"] == corpus]
            for name in dict.fromkeys(r["class"] for r in mine):
                flawed = [r for r in mine if r["class"] == name and r["vulnerable"]]
                twins = [r for r in mine if r["class"] == name and not r["vulnerable"]]
                summary.append({
                    "corpus": corpus, "auditor": auditor, "class": name, "cwe": (flawed or twins)[0]["cwe"],
                    "vulnerable": len(flawed), "detected": sum(r["detected"] for r in flawed),
                    "cwe_matched": sum(r["cwe_matched"] for r in flawed),
                    "safe": len(twins), "safe_flagged": sum(r["flagged_medium_plus"] for r in twins),
                })
    return summary


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "n/a"


def table(summary: list[dict], corpus: str) -> list[str]:
    mine = [s for s in summary if s["corpus"] == corpus]
    auditors = sorted(dict.fromkeys(s["auditor"] for s in mine), key=lambda a: (not a.startswith("bandit"), a))
    classes = list(dict.fromkeys(s["class"] for s in mine))
    cell = {(s["auditor"], s["class"]): s for s in mine}
    lines = ["| class | CWE | " + " | ".join(auditors) + " |", "|---|---|" + "---|" * len(auditors)]
    for name in classes:
        cwe = cell[(auditors[0], name)]["cwe"]
        cells = [f"{c['detected']} / {c['cwe_matched']} / {c['safe_flagged']}" if c else "-"
                 for c in (cell.get((a, name)) for a in auditors)]
        lines.append(f"| {name} | {cwe} | " + " | ".join(cells) + " |")
    totals, rates = [], []
    for auditor in auditors:
        got = [s for s in mine if s["auditor"] == auditor]
        flawed, twins = sum(s["vulnerable"] for s in got), sum(s["safe"] for s in got)
        detected, flagged = sum(s["detected"] for s in got), sum(s["safe_flagged"] for s in got)
        totals.append(f"**{detected}/{flawed} / {sum(s['cwe_matched'] for s in got)} / {flagged}/{twins}**")
        rates.append(f"TP {_percent(detected, flawed)}, FP {_percent(flagged, twins)}")
    lines.append("| **total** | | " + " | ".join(totals) + " |")
    lines.append("| **rates** | | " + " | ".join(rates) + " |")
    return lines


def markdown(summary: list[dict]) -> str:
    lines = [
        BEGIN,
        f"### Audit corpora: bandit alone, bandit behind the gates, and the audit action ({date.today().isoformat()})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}, bandit {bandit.__version__}. Each cell: flawed files detected (any finding inside "
        "the flawed function, any severity) / with the corpus CWE / mitigated twins flagged (a medium or high "
        "finding inside the function). TP rate = flawed files detected, FP rate = twins flagged. `bandit + gates` "
        "is bandit's findings after the location and mitigation gates; `bandit + flow pass + gates` adds the flow "
        "pass (request input reaching an operation unmitigated, swarm/audit/taint.py): what `swarm-lsp check` "
        "reports and the audit action's first pass. The audit action is that first pass plus the swarm auditors "
        "on one embedded model (`candidates=2`), behind the same gates, "
        "with reviewers voting on every finding when the column says so (one yes/no token per finding; "
        "\"the same answers without the votes\" puts the findings they rejected back; \"without the flow gate\" "
        "puts back the findings the flow gate dropped, where the mitigation gate would keep them). "
        "Reproduce: `cd bench && ../.venv/bin/python audit_corpus.py --swarm 1.5b [--reviewers N] --rows rows.json`.",
    ]
    for corpus in dict.fromkeys(s["corpus"] for s in summary):
        note = (" (development set: the mitigation gate was written against it)" if corpus == "audit_corpus" else
                " (held out: written afterwards, without sight of the gate's rules; not tuned on)")
        lines += ["", f"`tests/fixtures/{corpus}/`{note}:", "", *table(summary, corpus)]
    lines.append(END)
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="audit_corpus,audit_holdout", help="corpora under tests/fixtures, "
                        "comma-separated (default: both)")
    parser.add_argument("--swarm", metavar="MODELS", default="", help="also run the audit action on these "
                        "embedded models, comma-separated (0.5b, 1.5b)")
    parser.add_argument("--reviewers", type=int, default=0, help="reviewers voting on each finding (default 0)")
    parser.add_argument("--rows", metavar="FILE", help="keep rows in this JSON file: rows already there are not "
                        "re-run, so a long run can be resumed and runs of several settings combined")
    parser.add_argument("--json", action="store_true", help="print the rows and summary as JSON")
    parser.add_argument("--write", metavar="MARKDOWN", help="update this file's audit-corpus-benchmark section")
    args = parser.parse_args()
    saved = Path(args.rows) if args.rows else None
    rows = json.loads(saved.read_text()) if saved and saved.exists() else []
    done = {(r["corpus"], r["auditor"], r["file"]) for r in rows}
    entries = [{**entry, "corpus": corpus} for corpus in args.corpus.split(",")
               for entry in json.loads((FIXTURES / corpus / "manifest.json").read_text())]
    rows = [r for r in rows if r["auditor"] not in ("bandit", "bandit + gates", DETERMINISTIC)]
    rows += [row for entry in entries for row in run_bandit(entry)]
    with tempfile.TemporaryDirectory() as state:
        ledger = Ledger(Path(state) / "ledger.sqlite3")  # keep benchmark calls out of the user's ledger
        for model in filter(None, (m.strip() for m in args.swarm.split(","))):
            label = swarm_label(model, args.reviewers)
            for entry in entries:
                if (entry["corpus"], label, entry["file"]) in done:
                    continue
                for row in await run_swarm(entry, model, args.reviewers, ledger):
                    print(json.dumps({k: row[k] for k in ("auditor", "corpus", "file", "detected",
                                                          "flagged_medium_plus")}), file=sys.stderr)
                    rows.append(row)
                if saved:
                    saved.write_text(json.dumps(rows, indent=1))
        ledger.close()
    if saved:
        saved.write_text(json.dumps(rows, indent=1))
    ablated = [without_flow_gate(r) for r in rows if re.fullmatch(r"audit action, [\d.]+b", r["auditor"])]
    summary = summarise(rows + ablated)
    publish(rows, summary, markdown(summary), as_json=args.json, write=args.write, begin=BEGIN, end=END)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
