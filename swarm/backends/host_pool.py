"""Several servers behind one backend (Ollama hosts, OpenAI-compatible base URLs): each call goes to
the host with the fewest requests in flight (ties in turn), and a host that fails in a way another
host may not (connection refused, 5xx, a missing model, a malformed reply) is cooled down for
`cooldown_s` while the call fails over to the next one. Hosts cooling down are still tried last, so
a single flaky host never makes the backend refuse work outright."""

from __future__ import annotations

import email.utils
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Generic, Literal, TypeVar

log = logging.getLogger(__name__)

C = TypeVar("C")
T = TypeVar("T")
# What a failure on one host means: try the next host ("failover"), the same on any host ("fatal":
# re-raised), or the model is missing there ("missing": failover, and the caller hints at a pull).
Verdict = Literal["failover", "fatal", "missing"]


@dataclass(eq=False)
class Host(Generic[C]):
    url: str
    client: C
    in_flight: int = 0
    down_until: float = 0.0  # time.monotonic() before which the host is cooling down
    state: dict[str, Any] = field(default_factory=dict)  # the backend's own per-host facts


class RefusedOnHost(Exception):
    """A failure judged "fatal" on `url`: another host would refuse the request the same way."""

    def __init__(self, url: str, error: BaseException) -> None:
        super().__init__(f"{url}: {error}")
        self.url, self.error = url, error


class NoHostServed(Exception):
    """Every host failed over: `failures` says how, `missing` whether one lacked the model."""

    def __init__(self, failures: list[str], missing: bool) -> None:
        super().__init__("; ".join(failures))
        self.failures, self.missing = failures, missing


class HostPool(Generic[C]):
    def __init__(self, label: str, hosts: list[Host[C]], cooldown_s: float) -> None:
        if not hosts:
            raise ValueError(f"{label}: no host to send requests to")
        self.label, self.hosts, self.cooldown_s = label, hosts, cooldown_s
        self._turn = itertools.count()

    @property
    def urls(self) -> list[str]:
        return [host.url for host in self.hosts]

    def candidates(self) -> list[Host[C]]:
        """Healthy hosts, least busy first (ties in round-robin order), then cooling ones, soonest back first."""
        now = time.monotonic()
        start = next(self._turn) % len(self.hosts)
        rotated = self.hosts[start:] + self.hosts[:start]
        healthy = sorted((host for host in rotated if host.down_until <= now), key=lambda host: host.in_flight)
        cooling = sorted((host for host in rotated if host.down_until > now), key=lambda host: host.down_until)
        return healthy + cooling

    async def run(self, call: Callable[[Host[C]], Awaitable[T]],
                  judge: Callable[[BaseException], Verdict | None], describe: Callable[[BaseException], str]) -> T:
        """`call` on the best host, failing over to the next on what `judge` calls host-specific.
        Raises RefusedOnHost for a "fatal" failure, NoHostServed when no host served; an exception
        judged None (a cancellation...) propagates as is."""
        failures: list[str] = []
        missing = False
        for host in self.candidates():
            host.in_flight += 1
            try:
                result = await call(host)
            except Exception as exc:
                verdict = judge(exc)
                if verdict is None:
                    raise
                if verdict == "fatal":
                    raise RefusedOnHost(host.url, exc) from exc
                missing = missing or verdict == "missing"
                self.cool_down(host, describe(exc), failures)
            else:
                host.down_until = 0.0
                return result
            finally:
                host.in_flight -= 1
        raise NoHostServed(failures, missing)

    def cool_down(self, host: Host[C], reason: str, failures: list[str]) -> None:
        host.down_until = time.monotonic() + self.cooldown_s
        failures.append(f"{host.url}: {reason}")
        log.warning("%s: %s failed (%s); cooling it down for %.0fs", self.label, host.url, reason, self.cooldown_s)


def retry_after(headers: Any) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, else `retry-after` (seconds or a date)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers.get(name)) * scale
        except (TypeError, ValueError):
            pass
    date = email.utils.parsedate_tz(headers.get("retry-after") or "")
    return None if date is None else float(email.utils.mktime_tz(date) - time.time())
