"""Request limits of the MCP HTTP transport (issue 20, item 6): per client (remote address), a token
bucket on requests (`rate` per second refilled, `burst` at most) and a cap on requests in flight
(a tool call holds its POST open until its result). Over either limit the request gets 429 before
it reaches the MCP app, so no tool runs; a rate refusal says in `Retry-After` when a request will
pass again. Configured by `--rate-limit` where the CLI passes it, else `$SWARM_LSP_MCP_RATE_LIMIT`:
`20/s` (burst twice the rate), `20/s:40`, `600/min`, or `0` / `off`."""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

RATE_LIMIT_ENV = "SWARM_LSP_MCP_RATE_LIMIT"
DEFAULT_RATE = 20.0  # requests per second per client: far above an assistant's pace, far below a flood
DEFAULT_BURST = 40  # a client's start-up (initialize, list tools/resources, a few calls) fits in it
DEFAULT_MAX_CONCURRENT = 8  # requests in flight per client; runs are queued one at a time anyway
MAX_CLIENTS = 4096  # buckets kept; the fullest (idle) ones are dropped beyond it
_SPEC = re.compile(r"^\s*(?P<rate>\d+(?:\.\d+)?)\s*/\s*(?P<unit>s|sec|second|m|min|minute)\s*"
                   r"(?::\s*(?P<burst>\d+))?\s*$")


@dataclass(frozen=True)
class RateLimit:
    """`rate` requests per second refilled, up to `burst`; `max_concurrent` in flight (0: no cap).
    `rate == 0` turns the request limit off."""

    rate: float = DEFAULT_RATE
    burst: int = DEFAULT_BURST
    max_concurrent: int = DEFAULT_MAX_CONCURRENT

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def describe(self) -> str:
        if not self.enabled:
            return "off"
        cap = f", {self.max_concurrent} in flight" if self.max_concurrent else ""
        return f"{self.rate:g}/s, burst {self.burst}{cap} per client"


def parse_rate_limit(spec: str | None, max_concurrent: int = DEFAULT_MAX_CONCURRENT) -> RateLimit:
    """`None`/"" -> the default; `0`/`off` -> no request limit; `N/s`, `N/min`, `N/s:BURST`."""
    if spec is None or not spec.strip():
        return RateLimit(max_concurrent=max_concurrent)
    if spec.strip().lower() in ("0", "off", "none"):
        return RateLimit(rate=0.0, burst=0, max_concurrent=max_concurrent)
    match = _SPEC.match(spec)
    if not match:
        raise ValueError(f"expected a rate such as 20/s, 600/min, 20/s:40 (burst) or 0 (off), got {spec!r}")
    rate = float(match["rate"]) / (60.0 if match["unit"].startswith("m") else 1.0)
    if rate == 0:
        return RateLimit(rate=0.0, burst=0, max_concurrent=max_concurrent)
    burst = int(match["burst"]) if match["burst"] else max(1, math.ceil(2 * rate))
    if burst < 1:
        raise ValueError(f"the burst must be at least 1, got {spec!r}")
    return RateLimit(rate=rate, burst=burst, max_concurrent=max_concurrent)


def rate_limit_from_env(cli_value: str | None = None) -> RateLimit:
    """The CLI's value if given, else `$SWARM_LSP_MCP_RATE_LIMIT`, else the default."""
    return parse_rate_limit(cli_value if cli_value is not None else os.environ.get(RATE_LIMIT_ENV))


@dataclass
class _Bucket:
    tokens: float
    updated: float
    in_flight: int = 0


class ClientLimiter:
    """Token buckets and in-flight counts per client key. Not thread-safe: one event loop uses it."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.clock = limit, clock
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._evict()
            bucket = self._buckets[key] = _Bucket(float(self.limit.burst), now)
        elif self.limit.enabled:
            bucket.tokens = min(float(self.limit.burst), bucket.tokens + (now - bucket.updated) * self.limit.rate)
        bucket.updated = now
        return bucket

    def _evict(self) -> None:
        idle = sorted((key for key, b in self._buckets.items() if not b.in_flight),
                      key=lambda key: -self._buckets[key].tokens)
        for key in idle[: max(1, len(idle) // 2)]:
            del self._buckets[key]

    def acquire(self, key: str, *, counts_in_flight: bool) -> tuple[str, float] | None:
        """None if the request may go on (then `release` it if it counts in flight), else
        ("rate", seconds until a token is back) or ("concurrency", 0)."""
        bucket = self._bucket(key)
        if self.limit.enabled:
            if bucket.tokens < 1.0:
                return "rate", (1.0 - bucket.tokens) / self.limit.rate
        if counts_in_flight and self.limit.max_concurrent and bucket.in_flight >= self.limit.max_concurrent:
            return "concurrency", 0.0
        if self.limit.enabled:
            bucket.tokens -= 1.0
        if counts_in_flight:
            bucket.in_flight += 1
        return None

    def release(self, key: str) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None and bucket.in_flight > 0:
            bucket.in_flight -= 1


__all__ = ["DEFAULT_BURST", "DEFAULT_MAX_CONCURRENT", "DEFAULT_RATE", "RATE_LIMIT_ENV", "ClientLimiter",
           "RateLimit", "parse_rate_limit", "rate_limit_from_env"]
