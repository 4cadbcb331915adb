"""Benchmark bandit alone on the labelled audit corpus: per CWE class, how many flawed files it
detects and how many mitigated twins it flags. No model; deterministic.

    cd bench && ../.venv/bin/python audit_corpus.py [--json] [--write ../docs/benchmarks.md]

A flawed file counts as detected when bandit reports any finding (any severity) whose line range
lies inside the function named in the manifest, whatever its CWE; "CWE matched" additionally
needs one such finding to carry the manifest's CWE. A mitigated twin counts as flagged when bandit
reports a finding of severity medium or high inside that function. With `--write`, the Markdown
table replaces the section between the audit-corpus-benchmark markers (or is appended).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import sys
from datetime import date
from pathlib import Path

import bandit
from report import publish
from swarm_lsp.swarm.audit.bandit_pass import bandit_findings

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


def run_one(entry: dict) -> dict:
    text = (CORPUS / entry["file"]).read_text()
    first, last = function_lines(text, entry["function"])
    findings = bandit_findings(entry["file"], text)
    inside = [f for f in findings if first <= f.start_line and f.end_line <= last]
    return {
        **entry,
        "findings_in_function": [
            {"rule_id": f.rule_id, "cwe": f.cwe, "severity": f.severity, "line": f.start_line} for f in inside
        ],
        "findings_elsewhere": len(findings) - len(inside),
        "detected": bool(inside),
        "cwe_matched": any(f.cwe == entry["cwe"] for f in inside),
        "flagged_medium_plus": any(f.at_least("medium") for f in inside),
    }


def summarise(rows: list[dict]) -> list[dict]:
    summary = []
    for name in dict.fromkeys(r["class"] for r in rows):
        flawed = [r for r in rows if r["class"] == name and r["vulnerable"]]
        twins = [r for r in rows if r["class"] == name and not r["vulnerable"]]
        summary.append({
            "class": name,
            "cwe": flawed[0]["cwe"],
            "vulnerable": len(flawed),
            "detected": sum(r["detected"] for r in flawed),
            "cwe_matched": sum(r["cwe_matched"] for r in flawed),
            "safe": len(twins),
            "safe_flagged": sum(r["flagged_medium_plus"] for r in twins),
        })
    return summary


def totals(summary: list[dict]) -> dict:
    keys = ("vulnerable", "detected", "cwe_matched", "safe", "safe_flagged")
    return {key: sum(s[key] for s in summary) for key in keys}


def markdown(summary: list[dict]) -> str:
    total = totals(summary)
    lines = [
        BEGIN,
        f"### Audit corpus: bandit alone ({date.today().isoformat()})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}, bandit {bandit.__version__}. Corpus: `tests/fixtures/audit_corpus/` "
        f"({len(summary)} classes x 2 flawed files + 2 mitigated twins). Detected: any finding inside the "
        "flawed function; twins flagged: a medium/high finding inside it. "
        "Reproduce: `cd bench && ../.venv/bin/python audit_corpus.py`.",
        "",
        "| class | CWE | vulnerable detected (of 2) | CWE matched | safe twins flagged (of 2) |",
        "|---|---|---|---|---|",
    ]
    for s in summary:
        lines.append(f"| {s['class']} | {s['cwe']} | {s['detected']} | {s['cwe_matched']} | {s['safe_flagged']} |")
    lines.append(
        f"| **total** | | **{total['detected']} / {total['vulnerable']}** | **{total['cwe_matched']} / "
        f"{total['vulnerable']}** | **{total['safe_flagged']} / {total['safe']}** |"
    )
    lines.append(END)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the rows and summary as JSON")
    parser.add_argument("--write", metavar="MARKDOWN", help="update this file's audit-corpus-benchmark section")
    args = parser.parse_args()
    rows = []
    for entry in json.loads((CORPUS / "manifest.json").read_text()):
        row = run_one(entry)
        print(json.dumps({k: row[k] for k in ("file", "detected", "cwe_matched", "flagged_medium_plus",
                                              "findings_in_function")}), file=sys.stderr)
        rows.append(row)
    summary = summarise(rows)
    publish(rows, summary, markdown(summary), as_json=args.json, write=args.write, begin=BEGIN, end=END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
