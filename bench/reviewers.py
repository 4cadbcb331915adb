"""How well do embedded models judge documentation as reviewers? Labelled cases, real models.

For a few example functions there is one correct docstring and several wrong ones (a false
summary, a false parameter description, a false exception). Each reviewer focus of the document
action answers on every case; we report how often a correct proposal is approved and a wrong one
rejected, per model, and what a quorum of 4 would have decided.

    .venv/bin/python bench/reviewers.py [--models 0.5b,1.5b] [--json] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
from datetime import date
from pathlib import Path

from report import write_section

from swarm_lsp.swarm.actions.doc_prompt import REVIEW_FOCUSES, doc_review_material
from swarm_lsp.swarm.agents.reviewers import ask_reviewer, build_reviewers
from swarm_lsp.swarm.backends import create_backend
from swarm_lsp.swarm.codemods.content import DocFacts
from swarm_lsp.swarm.consensus import QuorumRule

SLUGIFY = '''def slugify(text, max_len=40, separator="-"):
    if not text or not text.strip():
        raise ValueError("cannot slugify empty text")
    words = re.findall(r"[a-z0-9]+", text.lower())
    return separator.join(words)[:max_len]
'''
MEAN = '''def mean(values):
    if not values:
        raise ZeroDivisionError("mean of no values")
    return sum(values) / len(values)
'''
CASES = [
    (SLUGIFY, DocFacts("slugify", "function", "python", ("text", "max_len", "separator"), True, ("ValueError",)), {
        "good": ("Turn text into a lowercase URL slug.", "The text to convert.", "The longest slug to return.",
                 "The string put between words.", "If text is empty or blank."),
        "wrong summary": ("Sort a list of numbers in descending order.", "The text to convert.",
                          "The longest slug to return.", "The string put between words.", "If text is empty or blank."),
        "wrong parameter": ("Turn text into a lowercase URL slug.", "The text to convert.", "The longest slug to return.",
                            "The number of times to retry the request.", "If text is empty or blank."),
        "wrong exception": ("Turn text into a lowercase URL slug.", "The text to convert.", "The longest slug to return.",
                            "The string put between words.", "If the network connection fails."),
    }),
    (MEAN, DocFacts("mean", "function", "python", ("values",), True, ("ZeroDivisionError",)), {
        "good": ("Return the arithmetic mean of the values.", "The numbers to average.", None, None,
                 "If values is empty."),
        "wrong summary": ("Open a database connection and return a cursor.", "The numbers to average.", None, None,
                          "If values is empty."),
        "wrong parameter": ("Return the arithmetic mean of the values.", "The path of the file to delete.", None, None,
                            "If values is empty."),
        "wrong exception": ("Return the arithmetic mean of the values.", "The numbers to average.", None, None,
                            "If the file is not found."),
    }),
]


# The reviewer question that is about each defect (REVIEW_FOCUSES order: summary, parameters, returns/raises).
RELEVANT_FOCUS = {"wrong summary": 0, "wrong parameter": 1, "wrong exception": 2}


def docstring(facts: DocFacts, parts) -> str:
    summary, *params, raises = parts
    lines = [f'"""{summary}', "", "    Args:"]
    lines += [f"        {name}: {text}" for name, text in zip(facts.params, params) if text]
    lines += ["", "    Raises:", f"        {facts.raises[0]}: {raises}", '    """']
    return "\n".join(lines)


async def judge(model: str) -> list[dict]:
    backend = create_backend(f"llamacpp:qwen2.5-coder-{model}")
    reviewers = build_reviewers(len(REVIEW_FOCUSES), (backend.name,), REVIEW_FOCUSES)
    rows = []
    for source, facts, variants in CASES:
        for label, parts in variants.items():
            material = doc_review_material(facts, source, docstring(facts, parts), ["parses", "code_unchanged"])
            for reviewer in reviewers:
                verdict = await ask_reviewer(reviewer, backend, material, seed=0, cancel=None,
                                             on_reply=lambda *_: None)
                rows.append({"model": model, "function": facts.name, "case": label, "focus": reviewer.index,
                             "vote": verdict.vote})
                print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        good = [r for r in mine if r["case"] == "good"]
        bad = [r for r in mine if r["case"] != "good" and r["focus"] == RELEVANT_FOCUS[r["case"]]]
        rule = QuorumRule(len(REVIEW_FOCUSES))
        decisions = {}
        for r in mine:
            decisions.setdefault((r["function"], r["case"]), []).append(r["vote"])
        quorum_ok = sum(
            (sum(v == "approve" for v in votes) >= rule.needed) == (case == "good")
            for (_, case), votes in decisions.items()
        )
        out.append({
            "model": model,
            "approve_good": sum(r["vote"] == "approve" for r in good) / len(good),
            "reject_bad": sum(r["vote"] == "reject" for r in bad) / len(bad),
            "abstain": sum(r["vote"] == "abstain" for r in mine) / len(mine),
            "quorum_correct": f"{quorum_ok}/{len(decisions)}",
        })
    return out


def markdown(summary: list[dict]) -> str:
    begin, end = "<!-- reviewer-benchmark:begin -->", "<!-- reviewer-benchmark:end -->"
    lines = [
        begin, f"### Embedded models as documentation reviewers ({date.today().isoformat()})", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores. {len(CASES)} functions x (1 correct + 3 wrong "
        f"docstrings) x {len(REVIEW_FOCUSES)} reviewer questions, temperature per reviewer as in the product. "
        "Reproduce: `python bench/reviewers.py`.", "",
        "| model | approves correct | the question about the defect rejects it | abstains | quorum of 3 decides right |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {s['model']} | {s['approve_good']:.0%} | {s['reject_bad']:.0%} | {s['abstain']:.0%} | "
              f"{s['quorum_correct']} |" for s in summary]
    lines.append(end)
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description="Reviewer accuracy of the embedded models")
    parser.add_argument("--models", default="0.5b,1.5b")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="MARKDOWN")
    args = parser.parse_args()
    rows = [row for model in args.models.split(",") for row in await judge(model.strip())]
    summary = summarise(rows)
    print(json.dumps({"rows": rows, "summary": summary}, indent=2) if args.json else markdown(summary))
    if args.write:
        write_section(Path(args.write), markdown(summary), "<!-- reviewer-benchmark:begin -->",
                      "<!-- reviewer-benchmark:end -->")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
