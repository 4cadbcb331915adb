"""Adaptive routing (issue 18, item 4): a tier that has kept failing on this kind of work is skipped.

Outcomes come from the ledger, grouped by (action, language, size of the target, tier): a tier
tried on an action (it made a call) succeeded when its candidate was the one accepted. Its success
rate has a Beta(1, 1) prior; with at least `MIN_OUTCOMES` recent outcomes (the last `WINDOW`
within `DAYS` days, so old failures expire and the tier is tried again), a tier whose posterior
mean is below `MIN_RATE` is skipped, unless it is the last tier of the plan. The result says so:
"skipped llamacpp:qwen2.5-coder-0.5b: 2 of 11 recent successes".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from swarm_lsp.swarm.ledger import Ledger, format_time
from swarm_lsp.swarm.tiers import TierSpec

MIN_RATE = 0.25
MIN_OUTCOMES = 5
WINDOW = 20
DAYS = 30
SIZES = ((0, 20), (21, 80), (81, 10**9))  # target lines: small, medium, large


@dataclass(frozen=True)
class TierOutcome:
    tier: str
    successes: int
    outcomes: int
    skipped: bool

    @property
    def estimate(self) -> float:
        """Posterior mean success rate, Beta(1 + successes, 1 + failures)."""
        return (1 + self.successes) / (2 + self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        return {"tier": self.tier, "successes": self.successes, "outcomes": self.outcomes,
                "estimate": round(self.estimate, 3), "skipped": self.skipped}

    def message(self) -> str:
        return f"skipped {self.tier}: {self.successes} of {self.outcomes} recent successes"


def size_range(lines: int) -> tuple[int, int]:
    return next(r for r in SIZES if r[0] <= lines <= r[1])


def history(ledger: Ledger, tier: str, *, action: str, language: str | None, lines: int, workspace: str,
            now: datetime | None = None) -> tuple[int, int]:
    """(successes, outcomes) of `tier` on the last WINDOW finished actions of this kind."""
    low, high = size_range(lines)
    since = (now or datetime.now(timezone.utc)) - timedelta(days=DAYS)
    rows = ledger.query(
        "SELECT a.status = 'accepted' AND a.tier = ? AS won FROM actions a"
        " WHERE a.action = ? AND a.language IS ? AND a.target_lines BETWEEN ? AND ? AND a.workspace = ?"
        " AND a.status != 'cancelled' AND a.time >= ?"
        " AND EXISTS (SELECT 1 FROM calls c WHERE c.action_id = a.action_id AND c.tier = ?)"
        " ORDER BY a.time DESC LIMIT ?",
        (tier, action, language, low, high, workspace, format_time(since), tier, WINDOW))
    return sum(1 for row in rows if row["won"]), len(rows)


def route(plan: list[TierSpec], ledger: Ledger | None, *, action: str, language: str | None, lines: int,
          workspace: str, now: datetime | None = None) -> tuple[list[TierSpec], list[TierOutcome]]:
    """The plan without the tiers the history says to skip, and what was decided for each tier
    looked at (every tier but the last)."""
    if ledger is None or len(plan) < 2:
        return plan, []
    kept, decided = [], []
    for index, spec in enumerate(plan):
        if index == len(plan) - 1:
            kept.append(spec)
            break
        successes, outcomes = history(ledger, spec.name, action=action, language=language, lines=lines,
                                      workspace=workspace, now=now)
        estimate = (1 + successes) / (2 + outcomes)
        skip = outcomes >= MIN_OUTCOMES and estimate < MIN_RATE
        decided.append(TierOutcome(spec.name, successes, outcomes, skip))
        if not skip:
            kept.append(spec)
    return kept, decided
