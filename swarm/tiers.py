"""Tiers, escalation modes and cloud token budgets (DESIGN.md §4).

A tier is a backend name; an action tries its tiers in order. `escalation` decides which of them
may run: `on-failure` walks the whole list (local first, the cloud last), `never` stays on the
first tier, `cloud-only` skips straight to the cloud tiers. Cloud calls are also bounded by token
budgets per action and per day; a call that would cross one is not made.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Mapping, Sequence

from swarm_lsp.swarm.backends.base import BACKEND_KINDS
from swarm_lsp.swarm.backends.endpoints import BACKEND_OPTIONS, endpoint_is_cloud
from swarm_lsp.swarm.settings import LIMITS

ESCALATION_MODES = ("never", "on-failure", "cloud-only")
CLOUD_KINDS = tuple(kind for kind, cloud in BACKEND_KINDS.items() if cloud)
LOCAL_DEFAULT_TIERS = ("llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b")
CLOUD_DEFAULT_TIER = "anthropic:claude-sonnet-4-6"  # 4-5 reaches end of life on 2026-11-30 (SDK list)
CHARS_PER_TOKEN = 3.5  # a conservative estimate for code (it overestimates tokens, never under)


TIER_OPTIONS = {name: (kind, *LIMITS[name]) for name, kind in (("candidates", int), ("max_tokens", int),
                                                                 ("temperature", float))}


@dataclass(frozen=True)
class TierSpec:
    """A tier as configured: a backend name plus optional per-tier overrides, written
    `NAME?candidates=1&max_tokens=256` (e.g. one costly attempt on the cloud tier)."""

    name: str
    candidates: int | None = None
    max_tokens: int | None = None
    temperature: float | None = None


def parse_tier(spec: str) -> TierSpec:
    """Parse `NAME[?key=value&...]`; raises ValueError naming the bad option and what is accepted.
    The backend's own options (an OpenAI-compatible tier's `base_url` and `cloud`) stay in the name."""
    name, _, query = spec.strip().partition("?")
    options: dict[str, float] = {}
    kept: list[str] = []
    for pair in filter(None, query.split("&")):
        key, _, raw = pair.partition("=")
        if key in BACKEND_OPTIONS and name.startswith("openai:"):
            kept.append(pair)
            continue
        if key not in TIER_OPTIONS:
            expected = [*TIER_OPTIONS, *(BACKEND_OPTIONS if name.startswith("openai:") else ())]
            raise ValueError(f"tier option {key!r} in {spec!r}: expected one of {', '.join(expected)}")
        kind, low, high = TIER_OPTIONS[key]
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError(f"tier option {key}={raw!r} in {spec!r}: expected a number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"tier option {key}={raw} in {spec!r}: expected a number from {low} to {high}")
        options[key] = value
    candidates, max_tokens = options.get("candidates"), options.get("max_tokens")
    name = f"{name}?{'&'.join(kept)}" if kept else name
    return TierSpec(name, candidates=int(candidates) if candidates is not None else None,
                    max_tokens=int(max_tokens) if max_tokens is not None else None,
                    temperature=options.get("temperature"))


def is_cloud(backend_name: str) -> bool:
    kind = backend_name.partition(":")[0]
    return endpoint_is_cloud(backend_name) if kind == "openai" else kind in CLOUD_KINDS


def reviewer_backends(reviewer_tiers: Sequence[str], plan: Sequence[str]) -> tuple[str, ...]:
    """The backends reviewers cycle through: the configured ones, else the plan's local tiers,
    else its first tier. `plan` holds backend names (tier options already stripped)."""
    configured = tuple(parse_tier(t).name for t in reviewer_tiers)
    return configured or tuple(n for n in plan if not is_cloud(n)) or tuple(plan[:1])


def default_tiers(env: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """The embedded 0.5B then 1.5B; Anthropic last, only when ANTHROPIC_API_KEY is set."""
    if env.get("ANTHROPIC_API_KEY", "").strip():
        return LOCAL_DEFAULT_TIERS + (CLOUD_DEFAULT_TIER,)
    return LOCAL_DEFAULT_TIERS


def plan_tiers(tiers: Sequence[str], escalation: str) -> list[str]:
    """The tier specs an action will try, in order."""
    if escalation not in ESCALATION_MODES:
        raise ValueError(f"escalation {escalation!r}: expected one of {', '.join(ESCALATION_MODES)}")
    if escalation == "never":
        return list(tiers[:1])
    if escalation == "cloud-only":
        cloud = [t for t in tiers if is_cloud(parse_tier(t).name)]
        if not cloud:
            raise ValueError(
                "escalation is cloud-only but no cloud tier is configured "
                f"(add e.g. {CLOUD_DEFAULT_TIER} to tiers and set ANTHROPIC_API_KEY)"
            )
        return cloud
    return list(tiers)


def estimate_tokens(messages: Sequence[Mapping[str, str]], max_tokens: int) -> int:
    """Upper-bound estimate of a call's tokens, checked against the budgets before calling."""
    chars = sum(len(m.get("content", "")) for m in messages)
    return int(chars / CHARS_PER_TOKEN) + 1 + max_tokens


def start_of_today() -> datetime:
    now = datetime.now(timezone.utc)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class CloudBudget:
    """Token budgets for cloud calls; `spent_today` reads the ledger (0 when there is none)."""

    per_action: int
    per_day: int
    spent_today: Callable[[], int] = lambda: 0

    def refusal(self, spent_in_action: int, estimate: int) -> str | None:
        """Why a cloud call of `estimate` tokens must not be made, or None if it may."""
        if spent_in_action + estimate > self.per_action:
            return (
                f"cloud budget per action reached: {spent_in_action} tokens spent + ~{estimate} for the next call "
                f"> {self.per_action} (cloud_budget_action)"
            )
        today = self.spent_today()
        if today + estimate > self.per_day:
            return (
                f"cloud budget per day reached: {today} tokens spent today + ~{estimate} for the next call "
                f"> {self.per_day} (cloud_budget_day)"
            )
        return None
