"""Adaptive routing replayed on a measured history (issue 18, item 5): what `routing = adaptive`
would have saved on the cascade benchmark's runs, and at what success rate.

    cd bench && ../.venv/bin/python routing_replay.py [--write ../docs/benchmarks.md]

The history is bench/results/cascade_rows.jsonl (bench/cascade.py): every item of each action run
twice, with the cascade (0.5B, then the 1.5B) and with the 1.5B alone, same seeds. The replay takes
the items of an action in corpus order as one project's history and asks the product's own router
(swarm/routing.py, over a real ledger it fills as it goes) before each: where it keeps the 0.5B,
the item costs what the cascade run cost; where it skips the 0.5B, what the 1.5B-alone run cost.
Both outcomes are real runs; only their order is the replay's. Fixed routing is the cascade alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cascade import LARGE, SMALL, items, load_rows
from doc_action_corpus import implementation_target, without_docstring

from swarm_lsp.swarm.analysis.symbols import target_source
from swarm_lsp.swarm.ledger import ActionRecord, CallRecord, Ledger
from swarm_lsp.swarm.routing import route
from swarm_lsp.swarm.tiers import parse_tier

BEGIN, END = "<!-- routing-replay-benchmark:begin -->", "<!-- routing-replay-benchmark:end -->"
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
WORKSPACE = "replay"


def target_lines(action: str, item: dict[str, Any]) -> int:
    """The size the engine records for the routing key: the target's lines, as `Swarm._route` counts."""
    if action == "audit":
        return (FIXTURES / item["corpus"] / item["file"]).read_text().count("\n") + 1
    spec = importlib.util.find_spec(item["module"])
    text = Path(spec.origin).read_text()
    if action == "document":
        text = without_docstring(text, item["qualname"])
    return target_source(text, spec.origin, implementation_target(text, item["qualname"]))[0].count("\n") + 1


def record(ledger: Ledger, action: str, item: dict[str, Any], row: dict[str, Any], lines: int, when: datetime) -> None:
    record = ActionRecord(action=action, target=item["id"], status=row["status"], workspace=WORKSPACE,
                          tier=row["tier"], local_tokens=sum(row["tokens"].values()), elapsed_s=row["seconds"],
                          time=when, language="python", target_lines=lines)
    ledger.record_action(record)
    for tier, tokens in row["tokens"].items():  # one call row per tier that worked on it is enough for routing
        ledger.record_call(CallRecord(backend=tier, model=tier.split(":", 1)[1], prompt_tokens=tokens,
                                      workspace=WORKSPACE, action_id=record.action_id, action=action, tier=tier,
                                      time=when))


def replay(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        if row["candidates"] is None:  # the full runs, not --quick's
            latest[(row["action"], row["id"], row["mode"])] = row
    plan = [parse_tier(SMALL), parse_tier(LARGE)]
    out = []
    start = datetime.now(timezone.utc) - timedelta(days=1)
    with tempfile.TemporaryDirectory() as folder, Ledger(Path(folder) / "ledger.sqlite3") as ledger:
        for action in ("document", "tests", "refactor", "audit"):
            history = [(item, latest.get((action, item["id"], "cascade")), latest.get((action, item["id"], "1.5b")))
                       for item in items(action)]
            history = [h for h in history if h[1] and h[2]]
            if not history:
                continue
            totals: dict[str, Any] = defaultdict(float, action=action, items=len(history))
            for step, (item, cascade, alone) in enumerate(history):
                lines = target_lines(action, item)
                when = start + timedelta(minutes=step)
                kept, decided = route(plan, ledger, action=action, language="python", lines=lines,
                                      workspace=WORKSPACE, now=when)
                chosen = cascade if any(spec.name == SMALL for spec in kept) else alone
                totals["skipped"] += chosen is alone
                for name, row in (("fixed", cascade), ("adaptive", chosen), ("1.5b", alone)):
                    totals[f"{name}_verified"] += row["verified"]
                    totals[f"{name}_small"] += row["tokens"].get(SMALL, 0)
                    totals[f"{name}_large"] += row["tokens"].get(LARGE, 0)
                    totals[f"{name}_seconds"] += row["seconds"]
                record(ledger, action, item, chosen, lines, when)
            out.append(dict(totals))
    return out


def section(summary: list[dict[str, Any]]) -> str:
    lines = [BEGIN, "### Adaptive routing replayed on the cascade benchmark's runs", "",
             "`bench/routing_replay.py`: each action's items in corpus order as one project's history; before each, "
             "the product's router (`swarm/routing.py`, on a ledger filled as the replay goes) keeps or skips the 0.5B; "
             "a kept 0.5B costs what the cascade run cost, a skipped one what the 1.5B-alone run cost (both real runs "
             "of `bench/cascade.py`). Fixed routing is the cascade on every item.", "",
             "| action | items | 0.5B skipped | verified: fixed / adaptive / 1.5B alone | 0.5B tokens: fixed / adaptive | "
             "1.5B tokens: fixed / adaptive / alone | seconds: fixed / adaptive / alone |",
             "|---|---|---|---|---|---|---|"]
    for s in summary:
        n = s["items"]
        lines.append(
            f"| {s['action']} | {n} | {s['skipped']:.0f} | {s['fixed_verified'] / n:.0%} / {s['adaptive_verified'] / n:.0%}"
            f" / {s['1.5b_verified'] / n:.0%} | {s['fixed_small']:,.0f} / {s['adaptive_small']:,.0f} | "
            f"{s['fixed_large']:,.0f} / {s['adaptive_large']:,.0f} / {s['1.5b_large']:,.0f} | "
            f"{s['fixed_seconds']:,.0f} / {s['adaptive_seconds']:,.0f} / {s['1.5b_seconds']:,.0f} |")
    return "\n".join(lines + ["", END])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", metavar="FILE", help="update this Markdown file's section")
    args = parser.parse_args()
    summary = replay(load_rows())
    if not summary:
        print("no cascade rows with both modes yet: run bench/cascade.py first", file=sys.stderr)
        return 1
    text = section(summary)
    print(text)
    if args.write:
        from report import write_section

        write_section(Path(args.write), text, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
