"""The Anthropic backend against a local server replaying the Messages API wire format."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import swarm_lsp.swarm.backends.anthropic as anthropic_backend
from swarm_lsp.swarm.backends.anthropic import AUDIT_ENV, AnthropicBackend
from swarm_lsp.swarm.backends.anthropic_wire import build_request, split_stable_prefix
from swarm_lsp.swarm.backends.base import BackendError, TokenUsage
from swarm_lsp.swarm.cancel import CancelToken, Cancelled
from swarm_lsp.swarm.redact import load_dotenv_values

MODEL = "claude-sonnet-4-6"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
    "additionalProperties": False,
}
CODE_PROMPT = (
    "Here is a Python function named `connect`:\n\n"
    "```python\n"
    f'AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n'
    "def connect():\n"
    '    return open_db("db.internal", "Sup3r-Secret-DB-pw")\n'
    "```\n\n"
    "Write its documentation as JSON."
)
MESSAGES = [{"role": "system", "content": "You document code."}, {"role": "user", "content": CODE_PROMPT}]
HANG_GUARD_S = 30  # only stops a broken backend from hanging the run; no test asserts a duration
USAGE = {"input_tokens": 120, "output_tokens": 30, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 0}


def message_json(content: list[dict], stop_reason: str = "tool_use", usage: dict = USAGE) -> dict:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "answer", "input": {"summary": "Open the DB."}}
TOOL_REPLY = message_json([TOOL_USE])
TEXT_REPLY = message_json([{"type": "text", "text": "Hello there."}], stop_reason="end_turn")


def error_response(status: int, kind: str, message: str, headers: dict | None = None) -> Response:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return Response(json.dumps(body), status=status, content_type="application/json", headers=headers or {})


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "cloud_calls.jsonl"


@pytest.fixture
def api(httpserver, monkeypatch, tmp_path, audit_path):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.config/anthropic profile to discover
    monkeypatch.setenv(AUDIT_ENV, str(audit_path))
    for name in (
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_CONFIG_DIR",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CUSTOM_HEADERS",
        "ANTHROPIC_FEDERATION_RULE_ID",
        "ANTHROPIC_ORGANIZATION_ID",
        "ANTHROPIC_IDENTITY_TOKEN",
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    return httpserver


@pytest.fixture
async def backend(api):
    made: list[AnthropicBackend] = []

    def make(**options) -> AnthropicBackend:
        made.append(AnthropicBackend(MODEL, **{"backoff_base_s": 0.01, **options}))
        return made[-1]

    yield make
    for item in made:
        await item.aclose()


@pytest.fixture(scope="module")
def _threaded_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)  # a held request must not block the next
    server.start()
    yield server
    server.stop()


@pytest.fixture
def held(api, monkeypatch, _threaded_server):
    """An API that holds every request until the test is over: `requests` lists the arrivals and
    `answered` is set just before a reply would go out, so a test can tell the call ended first."""
    server, release = _threaded_server, threading.Event()
    state = SimpleNamespace(requests=[], answered=threading.Event())
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url_for("").rstrip("/"))

    def hold(request: Request) -> Response:
        state.requests.append(request)
        release.wait(4 * HANG_GUARD_S)
        state.answered.set()
        return Response(json.dumps(TOOL_REPLY))

    server.expect_request("/v1/messages").respond_with_handler(hold)
    yield state
    release.set()
    deadline = time.monotonic() + HANG_GUARD_S  # the released handlers log late: clear after them
    while len(server.log) < len(state.requests) and time.monotonic() < deadline:
        time.sleep(0.01)
    server.clear()


class BackoffSpy:
    """Stands in for `asyncio` in the backend module: logs each backoff wait asked for in `events` (the
    handlers log requests there too); a wait returns at once, or with `hold` only ends by cancellation."""

    def __init__(self) -> None:
        self.events, self.hold, self.entered = [], False, asyncio.Event()

    def __getattr__(self, name: str):
        return getattr(asyncio, name)

    async def sleep(self, delay: float) -> None:
        self.events.append(("wait", delay))
        self.entered.set()
        try:
            await (asyncio.Event().wait() if self.hold else asyncio.sleep(0))  # the Event is never set
        except asyncio.CancelledError:
            self.events.append("wait interrupted")
            raise
        self.events.append("wait over")


@pytest.fixture
def waits(monkeypatch) -> BackoffSpy:
    spy = BackoffSpy()
    monkeypatch.setattr(anthropic_backend, "asyncio", spy)
    return spy


async def until(condition) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), HANG_GUARD_S)


def sent_key(request: Request) -> str | None:
    """The API key as sent: `x-api-key`, or `Authorization: Bearer` as anthropic 2.x sends it."""
    bearer = request.headers.get("authorization", "")
    if request.headers.get("x-api-key"):
        return request.headers["x-api-key"]
    return bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else None


def sent_bodies(httpserver) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def audit_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_request_wire_format_and_structured_reply(api, backend) -> None:
    api.expect_request("/v1/messages", method="POST").respond_with_json(TOOL_REPLY)
    reply = await backend().chat(MESSAGES, schema=SCHEMA, max_tokens=300, temperature=0.3, seed=7, stop=["</doc>"])

    (request, _), = api.log
    assert request.path == "/v1/messages"
    assert sent_key(request) == "test-key"
    assert request.headers["anthropic-version"]
    body = json.loads(request.get_data())
    assert body["model"] == MODEL
    assert body["max_tokens"] == 300
    assert body["stop_sequences"] == ["</doc>"]
    assert "seed" not in body and "temperature" not in body  # neither is in the SDK's API version
    assert body["system"] == [{"type": "text", "text": "You document code.", "cache_control": {"type": "ephemeral"}}]
    (turn,) = body["messages"]
    assert turn["role"] == "user"
    prefix, rest = turn["content"]
    assert prefix["cache_control"] == {"type": "ephemeral"}
    assert prefix["text"].startswith("Here is a Python function") and prefix["text"].endswith("```\n")
    assert rest == {"type": "text", "text": "\nWrite its documentation as JSON."}
    assert body["tools"] == [{"name": "answer", "description": body["tools"][0]["description"], "input_schema": SCHEMA}]
    assert body["tool_choice"] == {"type": "tool", "name": "answer"}

    assert reply.parsed == {"summary": "Open the DB."}
    assert json.loads(reply.text) == reply.parsed
    assert reply.model == f"anthropic:{MODEL}"
    assert reply.finish_reason == "stop"
    assert (reply.usage.prompt, reply.usage.completion) == (120, 30)
    assert (reply.usage.cache_read, reply.usage.cache_write) == (0, 100)


async def test_secrets_never_leave_and_the_audit_log_records_the_redaction(api, backend, tmp_path, audit_path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".env").write_text("DB_PASSWORD=Sup3r-Secret-DB-pw\n")
    api.expect_request("/v1/messages", method="POST").respond_with_json(TOOL_REPLY)
    await backend(extra_secrets=load_dotenv_values(workspace)).chat(MESSAGES, schema=SCHEMA)

    raw = api.log[0][0].get_data(as_text=True)
    assert AWS_SECRET not in raw and "Sup3r-Secret-DB-pw" not in raw
    assert "[REDACTED:aws_secret_key]" in raw and "[REDACTED:known_secret]" in raw
    (line,) = audit_lines(audit_path)
    assert line["redactions"] == {"count": 2, "kinds": {"aws_secret_key": 1, "known_secret": 1}}
    assert line["request"] == json.loads(raw)  # exactly what was sent
    assert line["model"] == MODEL and line["backend"] == f"anthropic:{MODEL}"
    assert line["outcome"] == "ok" and line["attempts"] == 1
    assert line["usage"] == {"prompt": 120, "completion": 30, "cache_read": 0, "cache_write": 100}
    assert "test-key" not in audit_path.read_text()
    assert AWS_SECRET not in audit_path.read_text()


async def test_plain_text_reply_without_schema(api, backend) -> None:
    usage = {"input_tokens": 50, "output_tokens": 5, "cache_creation_input_tokens": None, "cache_read_input_tokens": 40}
    api.expect_request("/v1/messages", method="POST").respond_with_json(
        message_json([{"type": "text", "text": "Hello there."}], stop_reason="end_turn", usage=usage)
    )
    reply = await backend().chat([{"role": "user", "content": "Say hello."}])
    body = sent_bodies(api)[0]
    assert "tools" not in body and "tool_choice" not in body and "system" not in body
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Say hello.", "cache_control": {"type": "ephemeral"}}]}
    ]
    assert reply.text == "Hello there." and reply.parsed is None and reply.finish_reason == "stop"
    assert reply.usage == TokenUsage(prompt=50, completion=5, cache_read=40, cache_write=0)


async def test_temperature_is_sent_only_when_asked(api, backend) -> None:
    api.expect_request("/v1/messages").respond_with_json(TEXT_REPLY)
    await backend(send_temperature=True).chat(MESSAGES, temperature=0.3)
    await backend(send_temperature=True).chat(MESSAGES, temperature=1.6)
    assert [body["temperature"] for body in sent_bodies(api)] == [0.3, 1.0]


async def test_max_tokens_stop_is_length(api, backend) -> None:
    api.expect_request("/v1/messages").respond_with_json(
        message_json([{"type": "text", "text": "Hel"}], stop_reason="max_tokens")
    )
    reply = await backend().chat([{"role": "user", "content": "Say hello."}], max_tokens=1)
    assert reply.finish_reason == "length"


async def test_overloaded_twice_then_success(api, backend) -> None:
    answers = [error_response(529, "overloaded_error", "Overloaded")] * 2 + [Response(json.dumps(TOOL_REPLY), 200)]
    api.expect_request("/v1/messages").respond_with_handler(lambda request: answers.pop(0))
    reply = await backend().chat(MESSAGES, schema=SCHEMA)
    assert len(api.log) == 3
    assert reply.parsed == {"summary": "Open the DB."}
    assert reply.extra["attempts"] == 3


async def test_rate_limited_forever_gives_up_after_the_configured_attempts(api, backend, audit_path) -> None:
    api.expect_request("/v1/messages").respond_with_handler(
        lambda request: error_response(429, "rate_limit_error", "Number of requests has exceeded your rate limit")
    )
    with pytest.raises(BackendError, match="429.*rate limit"):
        await backend(max_attempts=3).chat(MESSAGES)
    assert len(api.log) == 3
    (line,) = audit_lines(audit_path)
    assert line["outcome"] == "error" and line["attempts"] == 3 and "429" in line["error"]


async def test_retry_after_header_sets_the_wait_before_the_retry(api, backend, waits) -> None:
    answers = [
        error_response(429, "rate_limit_error", "slow down", {"retry-after": "0.4"}),
        Response(json.dumps(TOOL_REPLY)),
    ]

    def answer(request: Request) -> Response:
        waits.events.append("request")
        return answers.pop(0)

    api.expect_request("/v1/messages").respond_with_handler(answer)
    await backend().chat(MESSAGES, schema=SCHEMA)
    # The fixture's backoff base is 0.01 s: a 0.4 s wait can only come from the header.
    assert waits.events == ["request", ("wait", pytest.approx(0.4)), "wait over", "request"]
    assert len(api.log) == 2


async def test_client_errors_are_not_retried(api, backend) -> None:
    api.expect_request("/v1/messages").respond_with_handler(
        lambda request: error_response(400, "invalid_request_error", "max_tokens: must be positive")
    )
    with pytest.raises(BackendError, match="HTTP 400: max_tokens: must be positive"):
        await backend().chat(MESSAGES)
    assert len(api.log) == 1


async def test_auth_error_names_the_key_variable(api, backend) -> None:
    api.expect_request("/v1/messages").respond_with_handler(
        lambda request: error_response(401, "authentication_error", "invalid x-api-key")
    )
    with pytest.raises(BackendError, match="ANTHROPIC_API_KEY"):
        await backend().chat(MESSAGES)
    assert len(api.log) == 1


async def test_missing_key_fails_without_a_request(api, backend, monkeypatch, audit_path) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(BackendError, match="ANTHROPIC_API_KEY is not set"):
        await backend().chat(MESSAGES)
    assert api.log == []
    assert not audit_path.exists()


async def test_per_request_timeout_is_retried_then_reported(held, backend, audit_path) -> None:
    with pytest.raises(BackendError, match=r"(?i)(timeout|timed out).*after 2 attempt"):
        await asyncio.wait_for(backend(timeout_s=0.2, max_attempts=2).chat(MESSAGES), HANG_GUARD_S)
    assert not held.answered.is_set()  # the server never answered: the error is the client's timeout
    (line,) = audit_lines(audit_path)
    assert line["outcome"] == "error" and line["attempts"] == 2
    await until(lambda: len(held.requests) >= 2)  # the second attempt may reach the server after the error
    assert len(held.requests) == 2


async def test_cancel_token_stops_a_call_in_flight(held, backend, audit_path) -> None:
    cancel = CancelToken()
    task = asyncio.create_task(backend().chat(MESSAGES, schema=SCHEMA, cancel=cancel))
    await until(lambda: held.requests)
    cancel.cancel("user cancelled")
    with pytest.raises(Cancelled, match="user cancelled"):
        await asyncio.wait_for(task, HANG_GUARD_S)
    assert not held.answered.is_set()  # the call ended while the server still held the request
    assert len(held.requests) == 1
    (line,) = audit_lines(audit_path)
    assert line["outcome"] == "cancelled" and line["attempts"] == 1


async def test_cancel_token_interrupts_the_backoff_wait(api, backend, waits, audit_path) -> None:
    def overloaded(request: Request) -> Response:
        waits.events.append("request")
        return error_response(529, "overloaded_error", "Overloaded", {"retry-after": "30"})

    api.expect_request("/v1/messages").respond_with_handler(overloaded)
    waits.hold = True
    cancel = CancelToken()
    task = asyncio.create_task(backend().chat(MESSAGES, cancel=cancel))
    await asyncio.wait_for(waits.entered.wait(), HANG_GUARD_S)
    cancel.cancel()
    with pytest.raises(Cancelled):
        await asyncio.wait_for(task, HANG_GUARD_S)
    # The 30 s wait was entered and the call ended by interrupting it, with no second request.
    assert waits.events == ["request", ("wait", 30.0), "wait interrupted"]
    assert len(api.log) == 1
    (line,) = audit_lines(audit_path)
    assert line["outcome"] == "cancelled" and line["attempts"] == 1


async def test_already_cancelled_token_sends_nothing(api, backend) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        await backend().chat(MESSAGES, cancel=cancel)
    assert api.log == []


async def test_asyncio_cancellation_propagates(held, backend) -> None:
    task = asyncio.create_task(backend().chat(MESSAGES, cancel=CancelToken()))
    await until(lambda: held.requests)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, HANG_GUARD_S)
    assert not held.answered.is_set()  # it ended while the server still held the request


async def test_probe_reports_configuration_without_a_request(api, backend, monkeypatch, audit_path) -> None:
    info = await backend().probe()
    assert info["ok"] is True and info["api_key_set"] is True and info["auth"] == "api_key"
    assert info["base_url"].startswith(api.url_for("").rstrip("/"))
    assert info["audit_log"] == str(audit_path)
    assert "test-key" not in json.dumps(info)
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    missing = await backend().probe()
    assert missing["ok"] is False and missing["api_key_set"] is False
    assert "ANTHROPIC_API_KEY" in missing["error"]
    assert api.log == []


def test_audit_log_location(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(AUDIT_ENV, str(tmp_path / "env.jsonl"))
    assert AnthropicBackend(MODEL).audit_log == tmp_path / "env.jsonl"
    assert AnthropicBackend(MODEL, audit_log=tmp_path / "arg.jsonl").audit_log == tmp_path / "arg.jsonl"
    monkeypatch.delenv(AUDIT_ENV)
    assert AnthropicBackend(MODEL).audit_log.name == "cloud_calls.jsonl"


def test_build_request_merges_turns_wraps_schemas_and_clamps_temperature() -> None:
    messages = [
        {"role": "system", "content": "a"},
        {"role": "user", "content": "first"},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": "   "},
    ]
    array = {"type": "array", "items": {"type": "string"}}
    params, wrapped = build_request(MODEL, messages, schema=array, max_tokens=10, temperature=1.7, stop=None)
    assert wrapped is True
    assert params["temperature"] == 1.0
    plain, _ = build_request(MODEL, messages, schema=None, max_tokens=1, temperature=None, stop=None)
    assert "temperature" not in plain and "tools" not in plain
    assert [turn["role"] for turn in params["messages"]] == ["user", "assistant"]
    assert [block["text"] for block in params["messages"][0]["content"]] == ["first", "second"]
    assert params["tools"][0]["input_schema"]["properties"]["value"] == array
    with pytest.raises(BackendError, match="user message first"):
        build_request(MODEL, [{"role": "assistant", "content": "x"}], schema=None, max_tokens=1, temperature=0, stop=[])


def test_split_stable_prefix() -> None:
    assert split_stable_prefix("Code:\n````py\n```\n````\nTask") == ["Code:\n````py\n```\n````\n", "Task"]
    assert split_stable_prefix("no fence here") == ["no fence here"]
    assert split_stable_prefix("```\ncode\n```\n  \n") == ["```\ncode\n```\n  \n"]
    assert split_stable_prefix("```\nunclosed") == ["```\nunclosed"]
