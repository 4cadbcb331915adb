"""`swarm-lsp report --png FILE`: tokens per day as stacked bars (local, cloud, avoided), drawn by
matplotlib's Agg renderer (no display). matplotlib is the optional `report` extra."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from swarm_lsp.server.cli_options import UsageError

INSTALL_HINT = "pip install 'swarm-lsp[report]'"
MAX_LABELLED_DAYS = 15  # beyond this, label every nth day so the dates stay readable
MIN_SLOTS = 5


def require_matplotlib() -> None:
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError(f"--png needs matplotlib, which is not installed: {INSTALL_HINT}")


def write_chart(report: dict[str, Any], path: Path) -> None:
    # Figure + the Agg canvas directly: no pyplot, so no global backend or figure state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    days = report["by_day"]
    labels = [d["day"] for d in days]
    local = [d["local_tokens"] for d in days]
    cloud = [d["cloud_tokens"] for d in days]
    avoided = [d["avoided_cloud_tokens_estimate"] for d in days]
    factor = report["avoided_cloud_tokens"]["factor"]

    figure = Figure(figsize=(max(8.0, 0.5 * len(days) + 3), 5.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    series = [  # (values, label, face colour, hatch, edge colour), stacked in this order
        (local, "local tokens (measured)", "#2b8a3e", None, None),
        (cloud, "cloud tokens (measured)", "#c92a2a", None, None),
        (avoided, f"cloud tokens avoided (ESTIMATE: local tokens of actions\nfinished locally x {factor} tokenizer factor)",
         "#74c0fc", "//", "#1864ab"),
    ]
    bottom = [0] * len(days)
    for values, _, face, hatch, edge in series:
        axes.bar(positions, values, width=0.7, bottom=bottom, facecolor=face, hatch=hatch, edgecolor=edge)
        bottom = [b + v for b, v in zip(bottom, values)]
    # Legend entries drawn apart from the bars, so an empty report has them too.
    handles = [Patch(label=label, facecolor=face, hatch=hatch, edgecolor=edge) for _, label, face, hatch, edge in series]
    pad = max(0.0, (MIN_SLOTS - len(days)) / 2)  # a day or two: narrow bars, not the whole width
    axes.set_xlim(-0.5 - pad, len(days) - 0.5 + pad)
    step = max(1, -(-len(days) // MAX_LABELLED_DAYS))
    axes.set_xticks(positions[::step], labels[::step], rotation=45, ha="right")
    axes.set_xlabel("day (UTC)")
    axes.set_ylabel("tokens (prompt + completion)")
    filters = report["filters"]
    scope = [f"since {filters['since'][:16]}" if filters["since"] else "",
             f"workspace {Path(filters['workspace']).name}" if filters["workspace"] else ""]
    title = "swarm-lsp tokens per day"
    figure.suptitle(f"{title} ({', '.join(s for s in scope if s)})" if any(scope) else title)
    if not days:
        axes.set_ylim(0, 1)
        axes.text(0.5, 0.5, report["message"] or "no tokens recorded", transform=axes.transAxes,
                  ha="center", va="center")
    figure.legend(handles=handles, loc="outside lower center", ncols=2, fontsize="small")  # below the bars
    axes.ticklabel_format(axis="y", style="plain")
    try:
        figure.savefig(path, format="png", dpi=100)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc}") from exc
