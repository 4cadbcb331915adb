"""The cascade benchmark's report (bench/cascade.py): per action, verified success of the 0.5B alone
(the cascade's first tier), the 1.5B alone and the cascade on the items both runs finished; the top
tier's tokens the cascade spent against the 1.5B alone; wall time; and two PNG plots."""

from __future__ import annotations

import os
import platform
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- cascade-benchmark:begin -->", "<!-- cascade-benchmark:end -->"
LARGE = "llamacpp:qwen2.5-coder-1.5b"
IMAGES = Path(__file__).resolve().parent.parent / "docs" / "img"


def by_item(rows: list[dict[str, Any]], quick: bool) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """action -> item id -> mode -> the latest row, for the quick rows (one candidate) or the full ones."""
    table: dict[str, dict[str, dict[str, dict[str, Any]]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        if (row["candidates"] == 1) == quick:
            table[row["action"]][row["id"]][row["mode"]] = row
    return table


def summary(rows: list[dict[str, Any]], quick: bool) -> list[dict[str, Any]]:
    out = []
    for action, per_item in by_item(rows, quick).items():
        complete = [m for m in per_item.values() if "cascade" in m and "1.5b" in m]
        if not complete:
            continue
        entry: dict[str, Any] = {"action": action, "items": len(complete)}
        for mode in ("1.5b", "cascade"):
            entry[f"{mode}_verified"] = sum(m[mode]["verified"] for m in complete) / len(complete)
            entry[f"{mode}_seconds"] = sum(m[mode]["seconds"] for m in complete)
        # the 0.5B alone succeeded where the cascade kept its candidate (and it was verified)
        entry["0.5b_verified"] = sum(m["cascade"]["small_accepted"] and m["cascade"]["verified"]
                                     for m in complete) / len(complete)
        top_alone = sum(m["1.5b"]["tokens"].get(LARGE, 0) for m in complete)
        top_in_cascade = sum(m["cascade"]["tokens"].get(LARGE, 0) for m in complete)
        entry["top_tokens_alone"], entry["top_tokens_cascade"] = top_alone, top_in_cascade
        entry["top_share"] = top_in_cascade / top_alone if top_alone else None
        out.append(entry)
    return out


def plots(entries: list[dict[str, Any]], suffix: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    IMAGES.mkdir(parents=True, exist_ok=True)
    names = []
    actions = [e["action"] for e in entries]
    modes = ["0.5b", "1.5b", "cascade"]
    figure, axes = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / len(modes)
    for i, mode in enumerate(modes):
        axes.bar([x + i * width for x in range(len(actions))], [100 * e[f"{mode}_verified"] for e in entries], width,
                 label=mode)
    axes.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(actions))], actions)
    axes.set_ylabel("verified success (%)")
    axes.legend()
    names.append(f"cascade_success{suffix}.png")
    figure.tight_layout()
    figure.savefig(IMAGES / names[-1], dpi=110)
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.bar([x - 0.2 for x in range(len(actions))], [e["top_tokens_alone"] for e in entries], 0.4, label="1.5B alone")
    axes.bar([x + 0.2 for x in range(len(actions))], [e["top_tokens_cascade"] for e in entries], 0.4,
             label="1.5B within the cascade")
    axes.set_xticks(range(len(actions)), actions)
    axes.set_ylabel("top-tier tokens")
    axes.legend()
    names.append(f"cascade_tokens{suffix}.png")
    figure.tight_layout()
    figure.savefig(IMAGES / names[-1], dpi=110)
    plt.close("all")
    return names


def report(rows: list[dict[str, Any]], quick: bool = False) -> str:
    entries = summary(rows, quick)
    title = "quick subset" if quick else "full corpus"
    lines = [BEGIN, f"### The cascade against the top tier alone, {title} ({date.today().isoformat()})", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
             "`bench/cascade.py" + (" --quick" if quick else "") + "`: every item run with the 1.5B alone and with "
             "the cascade (0.5B, then the 1.5B); the 0.5B alone is the cascade's first tier (same seed and prompts: "
             "it succeeded where the cascade kept its candidate). Offline the 1.5B stands in for the cloud tier: the share "
             "of its tokens the cascade still spends is what a cloud tier would still be sent (the goal: within 2 "
             "points of its success, at most 10% of its tokens).", ""]
    if not entries:
        return "\n".join(lines + ["No complete items yet.", "", END])
    modes = ("0.5b", "1.5b", "cascade")
    lines += ["| action | items | verified, 0.5B alone | verified, 1.5B alone | verified, cascade | cascade vs 1.5B alone "
              "(points) | 1.5B tokens: alone / in the cascade (share) | wall, 1.5B alone (s) | wall, cascade (s) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        share = f"{e['top_share']:.0%}" if e["top_share"] is not None else "-"
        lines.append(f"| {e['action']} | {e['items']} | " + " | ".join(f"{e[f'{m}_verified']:.0%}" for m in modes)
                     + f" | {100 * (e['cascade_verified'] - e['1.5b_verified']):+.0f} | "
                     f"{e['top_tokens_alone']:,} / {e['top_tokens_cascade']:,} ({share}) | "
                     f"{e['1.5b_seconds']:.0f} | {e['cascade_seconds']:.0f} |")
    lines.append("")
    lines += [f"![{name}](img/{name})" for name in plots(entries, "_quick" if quick else "")]
    return "\n".join(lines + ["", END])


CONTEXT_BEGIN, CONTEXT_END = "<!-- cascade-context-benchmark:begin -->", "<!-- cascade-context-benchmark:end -->"


def context_report(rows: list[dict[str, Any]]) -> str:
    """Issue 18: the cascade with and without 600 tokens of related code, on the items both ran."""
    lines = [CONTEXT_BEGIN, f"### The cascade with and without related code ({date.today().isoformat()})", "",
             "`bench/cascade.py --modes cascade,cascade+context`: the same items, seeds and plan (0.5B, then the 1.5B); "
             "`cascade+context` shows the writer up to 600 tokens of related code from the package's memory "
             "(`context_tokens = 600`). Verified as in the cascade benchmark (tests: accepted with a kept test).", "",
             "| action | items | verified: without / with | accepted from the 0.5B: without / with | "
             "tokens per item: without / with | s per item: without / with |", "|---|---|---|---|---|---|"]
    for action, per_item in by_item(rows, quick=False).items():
        both = [m for m in per_item.values() if "cascade" in m and "cascade+context" in m]
        if not both:
            continue
        n = len(both)

        def total(mode: str, value: Any) -> float:
            return sum(value(m[mode]) for m in both)

        cells = [(total(mode, lambda r: r["verified"]), total(mode, lambda r: r["small_accepted"]),
                  total(mode, lambda r: sum(r["tokens"].values())) / n, total(mode, lambda r: r["seconds"]) / n)
                 for mode in ("cascade", "cascade+context")]
        (v0, s0, t0, w0), (v1, s1, t1, w1) = cells
        lines.append(f"| {action} | {n} | {v0:.0f} ({v0 / n:.0%}) / {v1:.0f} ({v1 / n:.0%}) | {s0:.0f} / {s1:.0f} | "
                     f"{t0:,.0f} / {t1:,.0f} | {w0:.0f} / {w1:.0f} |")
    return "\n".join(lines + ["", CONTEXT_END])
