"""Mesh quorum of reviewers (DESIGN.md §2).

With `n` reviewers the quorum tolerates `f = (n-1)//3` faulty ones and accepts with `n - f`
approvals (2f+1 of 3f+1). Polling stops as soon as the outcome is decided: `n - f` approvals, or
`f + 1` rejections (at least one of them honest), or too few reviewers left to reach `n - f`.
A reviewer that errors or returns no usable verdict abstains: it never counts as an approval.

Votes only choose among candidates that already passed every gate; nothing here can turn a
failed gate into an acceptance (the engine never calls the quorum for such a candidate).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Literal, Sequence, TypeVar

Vote = Literal["approve", "reject", "abstain"]
R = TypeVar("R")


@dataclass
class Verdict:
    reviewer: str  # e.g. "r2:llamacpp:qwen2.5-coder-0.5b@0.3"
    vote: Vote
    confidence: float = 0.0
    reasons: list[str] = field(default_factory=list)
    error: str | None = None  # why the reviewer abstained


@dataclass(frozen=True)
class QuorumRule:
    n: int

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("a quorum needs at least one reviewer")

    @property
    def tolerated(self) -> int:
        return (self.n - 1) // 3

    @property
    def needed(self) -> int:
        return self.n - self.tolerated

    @property
    def rejections_to_reject(self) -> int:
        return self.tolerated + 1

    def decide(self, approvals: int, rejections: int, outstanding: int) -> bool | None:
        """True accepted, False rejected, None undecided yet."""
        if approvals >= self.needed:
            return True
        if rejections >= self.rejections_to_reject or approvals + outstanding < self.needed:
            return False
        return None


@dataclass
class QuorumOutcome:
    accepted: bool
    n: int
    needed: int
    tolerated: int
    approvals: int
    rejections: int
    abstentions: int
    verdicts: list[Verdict]

    @property
    def polled(self) -> int:
        return len(self.verdicts)

    def rejection_reasons(self) -> list[str]:
        return [reason for v in self.verdicts if v.vote == "reject" for reason in v.reasons]

    def record(self) -> dict:
        return {
            "n": self.n, "needed": self.needed, "tolerated_faulty": self.tolerated, "polled": self.polled,
            "approvals": self.approvals, "rejections": self.rejections, "abstentions": self.abstentions,
            "outcome": "accepted" if self.accepted else "rejected",
        }


async def run_quorum(
    reviewers: Sequence[R],
    ask: Callable[[R], Awaitable[Verdict]],
    *,
    parallel: int = 1,
    on_verdict: Callable[[Verdict, QuorumRule], None] | None = None,
) -> QuorumOutcome:
    """Poll `reviewers` until the outcome is decided. `parallel` > 1 keeps that many asks in
    flight (for remote backends); pending asks are cancelled the moment the outcome is known.
    The embedded model has one worker per model, so local reviews use `parallel=1`."""
    rule = QuorumRule(len(reviewers))
    verdicts: list[Verdict] = []
    counts = {"approve": 0, "reject": 0, "abstain": 0}
    upcoming = iter(reviewers)
    pending: set[asyncio.Future[Verdict]] = set()
    decision: bool | None = None
    try:
        while decision is None:
            for reviewer in upcoming:
                pending.add(asyncio.ensure_future(ask(reviewer)))
                if len(pending) >= max(1, parallel):
                    break
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                verdict = task.result()
                verdicts.append(verdict)
                counts[verdict.vote] = counts.get(verdict.vote, 0) + 1
                if on_verdict is not None:
                    on_verdict(verdict, rule)
            decision = rule.decide(counts["approve"], counts["reject"], rule.n - len(verdicts))
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    return QuorumOutcome(
        decision, rule.n, rule.needed, rule.tolerated, counts["approve"], counts["reject"],
        len(verdicts) - counts["approve"] - counts["reject"], verdicts,
    )
