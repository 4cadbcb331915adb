"""The settings the swarm and the actions run with, their defaults and their ranges: the one source
the configuration (server/config.py) derives its defaults and checks from.

`SwarmSettings` drive the engine (tiers, candidates, reviewers, budgets); `ActionOptions` drive the
actions (doc style, test limits, the refactor's instruction). Both are plain typed values: a front
end builds them through the session, which validates what users write against `LIMITS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# (low, high) of every bounded number a user may set, inclusive.
LIMITS: dict[str, tuple[float, float]] = {
    "candidates": (1, 16),
    "reviewers": (0, 31),
    "max_tokens": (16, 8192),
    "temperature": (0.0, 2.0),
    "seed": (0, 2**32 - 1),
    "cloud_budget_action": (0, 10_000_000),
    "cloud_budget_day": (0, 100_000_000),
    "coverage_goal": (0.0, 1.0),
    "test_timeout": (0.5, 600.0),
    "test_memory_mb": (64, 65536),
    "mutants": (0, 1000),
    "differential_inputs": (0, 5000),
    "differential_seconds": (1.0, 600.0),
    "context_tokens": (0, 8000),
}
DOC_STYLES = ("auto", "google", "numpy", "rest")
DOC_EXAMPLES = ("verified", "observed", "off")
DOC_REVIEWERS = ("off", "auto")
ROUTING_MODES = ("adaptive", "fixed")


@dataclass(frozen=True)
class SwarmSettings:
    tiers: tuple[str, ...]
    candidates: int = 3  # writer attempts per tier
    max_tokens: int = 512
    temperature: float = 0.2
    seed: int = 0
    reviewers: int = 0  # 0: gates alone decide (embedded reviewers measured too weak, docs/benchmarks.md)
    reviewer_tiers: tuple[str, ...] = ()  # empty: the local tiers of the plan
    escalation: str = "on-failure"
    cloud_budget_action: int = 50_000  # cloud tokens one action may spend
    cloud_budget_day: int = 500_000  # cloud tokens per day, all actions together
    # related code from the project's memory shown to the writer (0: none; off until measured, issue 18)
    context_tokens: int = 0
    # adaptive: skip a tier whose recent outcomes on this kind of work are poor (swarm/routing.py); fixed: never
    routing: str = "adaptive"


@dataclass(frozen=True)
class ActionOptions:
    """What an action reads besides its document and target. The first group comes from the
    configuration; the second is per request and belongs to one action (see `Action.option_keys`)."""

    doc_style: str = "auto"  # document: auto (detected from the project), google, numpy or rest
    # document: examples run in a sandbox and kept when they pass; observed: also calls run before
    # writing, their results shown to the writer (measured no better on the embedded models); off: none
    doc_examples: str = "verified"
    doc_reviewers: str = "off"  # document, when `reviewers` is 0: auto asks the measured claim reviewer; off: none
    coverage_goal: float = 1.0  # tests: line and branch coverage of the target at which writing stops
    test_timeout: float = 10.0  # tests: seconds per sandboxed pytest process
    test_memory_mb: int = 1024  # tests: address-space limit per sandboxed pytest process
    mutants: int = 30  # tests: mutants run for the mutation score (0: off)
    audit_skip: tuple[str, ...] = ()  # audit: rule ids and CWE labels never reported
    differential_inputs: int = 500  # refactor (and tests: pinning survivors): inputs both sides run on (0: off)
    differential_seconds: float = 30.0  # refactor: time for those runs, per candidate

    instruction: str | None = None  # refactor: what to change
    preset: str | None = None  # refactor: a named instruction
    fixes: dict[str, Any] | None = None  # refactor: the audit finding the rewrite must remove


CONFIGURED_OPTIONS = ("doc_style", "doc_examples", "doc_reviewers", "coverage_goal", "test_timeout", "test_memory_mb", "mutants", "audit_skip",
                      "differential_inputs", "differential_seconds")
REQUEST_OPTIONS = ("instruction", "preset", "fixes")
