"""Per-client limits of the MCP HTTP transport (limits.py): against the real transport (uvicorn on a
loopback port) a burst over a tiny configured limit gets 429 with Retry-After before any tool runs,
and requests under it pass; the token bucket and the in-flight cap on a fake clock; the parsing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from swarm_lsp.server.cli import main
from swarm_lsp.server.mcp.app import create_mcp_server
from swarm_lsp.server.mcp.http import secured_app
from swarm_lsp.server.mcp.limits import (DEFAULT_BURST, DEFAULT_RATE, RATE_LIMIT_ENV, ClientLimiter, RateLimit,
                                         parse_rate_limit)

from .conftest import GOOD, scripted_factory
from .test_http import INIT, MCP_HEADERS, TOKEN, serving

SLOW = 0.001  # one token per 1000 s: nothing refills during a test, so no timing enters the assertions


@contextmanager
def serving_mcp(app) -> Iterator[str]:
    with serving(app) as base:
        yield base + "/mcp"


def rpc(url: str, body: dict, session: str | None = None, token: str = TOKEN) -> httpx.Response:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}", "MCP-Protocol-Version": "2025-06-18"}
    if session:
        headers["mcp-session-id"] = session
    return httpx.post(url, json=body, headers=headers, timeout=30)


def test_a_tool_call_over_the_limit_gets_429_and_never_runs(root):
    calls: list[object] = []

    def reply(messages):
        calls.append(messages)
        return GOOD

    server = create_mcp_server(root, swarm_factory=scripted_factory(reply))
    with serving_mcp(secured_app(server, TOKEN, limit=RateLimit(rate=SLOW, burst=2))) as url:
        init = rpc(url, INIT)  # 1st request: under the limit
        assert init.status_code == 200, init.text
        session = init.headers["mcp-session-id"]
        initialized = rpc(url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
        assert initialized.status_code == 202  # 2nd: under the limit
        call = rpc(url, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                         "params": {"name": "document", "arguments": {"path": "pkg/scale.py", "symbol": "scale"}}},
                   session)
        wrong_token = rpc(url, INIT, token="guess")  # guesses are limited too, before the token check
    assert call.status_code == 429 and wrong_token.status_code == 429
    assert int(call.headers["retry-after"]) >= 1
    body = call.json()
    assert body["error"]["data"]["reason"] == "too_many_requests" and "rate limit exceeded" in body["error"]["message"]
    assert calls == []  # the tool never ran
    assert server.swarm_state.loaded is False


def test_a_burst_passes_up_to_the_limit_then_gets_429(root):
    app = secured_app(create_mcp_server(root, swarm_factory=scripted_factory()), TOKEN,
                      limit=RateLimit(rate=SLOW, burst=5))
    with serving_mcp(app) as url:
        statuses = [rpc(url, INIT).status_code for _ in range(8)]
    assert statuses == [200] * 5 + [429] * 3


def test_limit_off_lets_a_burst_through(root):
    app = secured_app(create_mcp_server(root, swarm_factory=scripted_factory()), TOKEN, limit=parse_rate_limit("0"))
    with serving_mcp(app) as url:
        statuses = {rpc(url, INIT).status_code for _ in range(12)}
    assert statuses == {200}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_per_client():
    clock = FakeClock()
    limiter = ClientLimiter(RateLimit(rate=2.0, burst=3, max_concurrent=0), clock)
    assert [limiter.acquire("a", counts_in_flight=False) for _ in range(3)] == [None] * 3
    refused = limiter.acquire("a", counts_in_flight=False)
    assert refused is not None and refused[0] == "rate" and refused[1] == pytest.approx(0.5)
    assert limiter.acquire("b", counts_in_flight=False) is None  # another client has its own bucket
    clock.now += 0.5  # one token back at 2/s
    assert limiter.acquire("a", counts_in_flight=False) is None
    assert limiter.acquire("a", counts_in_flight=False) is not None
    clock.now += 100  # refills up to the burst, not beyond
    assert [limiter.acquire("a", counts_in_flight=False) for _ in range(4)][-1] is not None


def test_requests_in_flight_are_capped_per_client_and_released():
    limiter = ClientLimiter(RateLimit(rate=1000.0, burst=1000, max_concurrent=2), FakeClock())
    assert limiter.acquire("a", counts_in_flight=True) is None
    assert limiter.acquire("a", counts_in_flight=True) is None
    assert limiter.acquire("a", counts_in_flight=True) == ("concurrency", 0.0)
    assert limiter.acquire("a", counts_in_flight=False) is None  # a GET stream or DELETE is not a call
    assert limiter.acquire("b", counts_in_flight=True) is None
    limiter.release("a")
    assert limiter.acquire("a", counts_in_flight=True) is None


@pytest.mark.parametrize("spec, rate, burst", [
    (None, DEFAULT_RATE, DEFAULT_BURST), ("", DEFAULT_RATE, DEFAULT_BURST), ("20/s", 20.0, 40),
    ("5/s:7", 5.0, 7), ("600/min", 10.0, 20), ("0", 0.0, 0), ("off", 0.0, 0), ("0.5/s", 0.5, 1),
])
def test_parse_rate_limit(spec, rate, burst):
    limit = parse_rate_limit(spec)
    assert (limit.rate, limit.burst) == (rate, burst)
    assert limit.enabled == (rate > 0)


@pytest.mark.parametrize("spec", ["fast", "20", "20/h", "-1/s", "20/s:0", "20/s:x"])
def test_bad_rate_limits_are_refused(spec):
    with pytest.raises(ValueError, match="20/s"):
        parse_rate_limit(spec)


def test_cli_refuses_a_bad_rate_limit_before_serving(root, monkeypatch, capsys):
    monkeypatch.setenv(RATE_LIMIT_ENV, "lots")
    assert main(["mcp", "--root", str(root), "--http", "127.0.0.1:8765"]) == 2
    assert "--rate-limit" in capsys.readouterr().err
