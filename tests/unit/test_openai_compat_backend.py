"""The OpenAI-compatible backend against replayed server behaviour: the streamed wire format of the
chat completions API, and the error shapes a real llama.cpp server does not produce on demand (429
with Retry-After, 5xx, a server that refuses `json_schema`). The end-to-end run against llama.cpp's
own server is tests/real/test_openai_server_real.py."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from types import SimpleNamespace

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from swarm_lsp.swarm.backends import create_backend
from swarm_lsp.swarm.backends.base import Backend, BackendError
from swarm_lsp.swarm.backends.openai_compat import OpenAICompatBackend, Retries
from swarm_lsp.swarm.cancel import CancelToken, Cancelled
from tests.unit.http_replay import sent

MODEL = "qwen2.5-coder-7b"
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
MESSAGES = [{"role": "system", "content": "You answer in JSON."}, {"role": "user", "content": "Is it ok?"}]
HANG_GUARD_S = 30  # only stops a broken backend from hanging the run; no test asserts a duration
FAST = Retries(attempts=2, backoff_base_s=0.0)


def base(server: HTTPServer) -> str:
    return f"http://{server.host}:{server.port}/v1"


def delta(text: str, finish: str | None = None) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": finish}]}


def usage(prompt: int, completion: int) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": MODEL, "choices": [],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}


def sse(*chunks: dict) -> Response:
    body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    return Response(body, content_type="text/event-stream")


def error(status: int, message: str, **headers: str) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": status}}
    return Response(json.dumps(body), status=status, content_type="application/json", headers=headers)


@pytest.fixture
async def make():
    made: list[OpenAICompatBackend] = []

    def build(*urls: str, **kwargs) -> OpenAICompatBackend:
        backend = OpenAICompatBackend(f"openai:{MODEL}", MODEL, list(urls), retries=kwargs.pop("retries", FAST),
                                      **kwargs)
        made.append(backend)
        return backend

    yield build
    for backend in made:
        await backend.aclose()


async def test_a_streamed_structured_reply_with_its_usage(httpserver, make):
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_response(
        sse(delta('{"ok":'), delta(" true}", "stop"), usage(42, 7)))
    backend = make(base(httpserver))
    assert isinstance(backend, Backend) and backend.is_cloud is False

    reply = await backend.chat(MESSAGES, schema=SCHEMA, max_tokens=64, temperature=0.3, seed=7, stop=["```"])

    assert (reply.text, reply.parsed, reply.finish_reason) == ('{"ok": true}', {"ok": True}, "stop")
    assert (reply.usage.prompt, reply.usage.completion) == (42, 7) and not reply.extra["usage_estimated"]
    body = sent(httpserver)
    assert body["model"] == MODEL and body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert (body["max_tokens"], body["temperature"], body["seed"], body["stop"]) == (64, 0.3, 7, ["```"])
    assert body["response_format"] == {"type": "json_schema",
                                       "json_schema": {"name": "reply", "schema": SCHEMA, "strict": True}}
    assert body["messages"] == MESSAGES


async def test_a_server_that_sends_no_usage_gets_an_estimate_marked_as_such(httpserver, make):
    httpserver.expect_request("/v1/chat/completions").respond_with_response(sse(delta("plain text", "stop")))
    reply = await make(base(httpserver)).chat(MESSAGES)
    assert reply.text == "plain text" and reply.parsed is None and "response_format" not in sent(httpserver)
    assert reply.extra["usage_estimated"] and reply.usage.prompt > 0 and reply.usage.completion > 0


@pytest.mark.parametrize("status", [422, 500])  # 500: llama-cpp-python's answer to a request it cannot validate
async def test_a_server_that_refuses_json_schema_is_asked_for_json_object_then_remembered(httpserver, make, status):
    def handler(request: Request) -> Response:
        if request.get_json().get("response_format", {}).get("type") == "json_schema":
            return error(status, "response_format: Input should be 'text' or 'json_object'")
        return sse(delta('{"ok": false}', "stop"), usage(5, 3))

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    backend = make(base(httpserver))
    assert (await backend.chat(MESSAGES, schema=SCHEMA)).parsed == {"ok": False}
    assert (await backend.chat(MESSAGES, schema=SCHEMA)).extra["response_format"] == "json_object"
    formats = [sent(httpserver, i)["response_format"]["type"] for i in range(len(httpserver.log))]
    assert formats == ["json_schema", "json_object", "json_object"]  # the second call went straight to it
    assert sent(httpserver, 1)["response_format"]["schema"] == SCHEMA


async def test_a_server_without_structured_output_gets_the_schema_in_the_instructions(httpserver, make):
    def handler(request: Request) -> Response:
        if "response_format" in request.get_json():
            return error(400, "unknown field response_format")
        return sse(delta('{"ok": true}', "stop"))

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    reply = await make(base(httpserver)).chat(MESSAGES, schema=SCHEMA)
    assert reply.parsed == {"ok": True} and reply.extra["response_format"] == "prompt"
    system = sent(httpserver, 2)["messages"][0]
    assert system["role"] == "system" and json.dumps(SCHEMA) in system["content"]


async def test_429_is_retried_after_the_wait_the_server_asks_for(httpserver, make):
    answers = iter([error(429, "slow down", **{"Retry-After": "0"}), sse(delta("done", "stop"), usage(1, 1))])
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(lambda _request: next(answers))
    reply = await make(base(httpserver), retries=Retries(attempts=2, backoff_base_s=60.0)).chat(MESSAGES)
    assert reply.text == "done" and len(httpserver.log) == 2  # Retry-After: 0 overrode the 60 s backoff


async def test_a_failing_server_is_retried_then_the_call_fails_over_and_it_cools_down(httpserver, second_server, make):
    httpserver.expect_request("/v1/chat/completions").respond_with_response(error(503, "overloaded"))
    second_server.expect_request("/v1/chat/completions").respond_with_response(sse(delta("from two", "stop")))
    backend = make(base(httpserver), base(second_server))
    replies = [await backend.chat(MESSAGES) for _ in range(3)]
    assert [r.extra["host"] for r in replies] == [base(second_server)] * 3
    assert len(httpserver.log) == FAST.attempts  # tried, retried, then cooled down: not asked again
    assert all(host.in_flight == 0 for host in backend._pool.hosts)


async def test_a_refused_connection_fails_over_and_all_down_is_one_clear_error(httpserver, make):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    httpserver.expect_request("/v1/chat/completions").respond_with_response(sse(delta("up", "stop")))
    assert (await make(closed, base(httpserver)).chat(MESSAGES)).text == "up"
    with pytest.raises(BackendError, match=r"no server could serve the request \(tried http://127\.0\.0\.1:\d+/v1"):
        await make(closed).chat(MESSAGES)


async def test_a_bad_request_is_not_retried_elsewhere(httpserver, second_server, make):
    httpserver.expect_request("/v1/chat/completions").respond_with_response(error(400, "max_tokens too large"))
    second_server.expect_request("/v1/chat/completions").respond_with_response(sse(delta("x", "stop")))
    backend = make(base(httpserver), base(second_server))
    backend._pool.candidates = lambda: list(backend._pool.hosts)  # the first server first, deterministically
    with pytest.raises(BackendError, match="HTTP 400.*max_tokens too large"):
        await backend.chat(MESSAGES)
    assert len(httpserver.log) == 1 and len(second_server.log) == 0


async def test_cancelling_mid_stream_closes_the_response(httpserver, make):
    stream = SimpleNamespace(first_sent=threading.Event(), finished=threading.Event(), closed=threading.Event())
    release = threading.Event()

    def handler(_request: Request) -> Response:
        def chunks():
            try:
                yield f"data: {json.dumps(delta('first'))}\n\n"
                stream.first_sent.set()
                while not release.wait(0.05):
                    yield f"data: {json.dumps(delta(' more'))}\n\n"
                stream.finished.set()
                yield "data: [DONE]\n\n"
            finally:  # also when the client hung up and the server could not write the next chunk
                stream.closed.set()

        return Response(chunks(), content_type="text/event-stream")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    backend, token = make(base(httpserver)), CancelToken()
    task = asyncio.create_task(backend.chat(MESSAGES, cancel=token))
    try:
        await until(stream.first_sent)
        token.cancel("user cancelled")
        with pytest.raises(Cancelled):
            await asyncio.wait_for(task, HANG_GUARD_S)
        await until(stream.closed)  # the connection was closed: the server stops generating
        assert not stream.finished.is_set()
        assert all(host.in_flight == 0 for host in backend._pool.hosts)
    finally:
        release.set()


async def until(event: threading.Event) -> None:
    async def poll() -> None:
        while not event.is_set():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), HANG_GUARD_S)


async def test_a_cloud_endpoint_gets_secrets_redacted_and_every_request_audited(httpserver, make, tmp_path):
    httpserver.expect_request("/v1/chat/completions").respond_with_response(sse(delta("ok", "stop"), usage(9, 1)))
    log = tmp_path / "cloud.jsonl"
    backend = make(base(httpserver), cloud=True, audit_log=log, extra_secrets=["hunter2-secret-value"])
    key = "AKIA" + "ABCDEFGHIJKLMNOP"
    await backend.chat([{"role": "user", "content": f"aws_key = '{key}'; pw = 'hunter2-secret-value'"}])
    text = sent(httpserver)["messages"][0]["content"]
    assert key not in text and "hunter2-secret-value" not in text
    [record] = [json.loads(line) for line in log.read_text().splitlines()]
    assert record["outcome"] == "ok" and record["redactions"]["count"] == 2 and record["usage"]["prompt"] == 9


@pytest.mark.parametrize("name, message", [
    ("openai:m", "no server: set OPENAI_BASE_URL"),
    ("openai:m?base_url=ftp://host/v1", "expected http:// or https://"),
    ("openai:m?base_url=http://user:pw@host/v1", "credentials do not go in the URL"),
    ("openai:m?base_url=http://h/v1&cloud=maybe", "expected true or false"),
    ("openai:m?base_url=http://h/v1&region=eu", "unknown option"),
])
def test_a_tier_without_a_usable_server_is_a_clear_error(monkeypatch, name, message):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(BackendError, match=message):
        create_backend(name)


def completion_with_logprobs(top: dict[str, float] | None) -> Response:
    logprobs = None if top is None else {"content": [{"token": max(top, key=top.get), "logprob": max(top.values()),
                                                      "bytes": None, "top_logprobs": [
        {"token": token, "logprob": value, "bytes": None} for token, value in top.items()]}]}
    body = {"id": "c2", "object": "chat.completion", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Yes"}, "finish_reason": "length",
                         "logprobs": logprobs}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 1, "total_tokens": 31}}
    return Response(json.dumps(body), content_type="application/json")


async def test_a_judgement_reads_the_first_tokens_log_probabilities(httpserver, make):
    import math

    httpserver.expect_request("/v1/chat/completions").respond_with_response(completion_with_logprobs(
        {"Yes": math.log(0.6), " yes": math.log(0.1), "No": math.log(0.2), "Maybe": math.log(0.05)}))
    judgement = await make(base(httpserver)).judge(MESSAGES)
    assert judgement.choice == "yes" and judgement.confidence == pytest.approx(0.7 / 0.9)
    assert judgement.probabilities == pytest.approx({"yes": 0.7, "no": 0.2}) and judgement.mass == pytest.approx(0.9)
    body = sent(httpserver)
    assert (body["max_tokens"], body["logprobs"], body["top_logprobs"], body.get("stream")) == (1, True, 20, None)


async def test_a_server_without_log_probabilities_gives_a_plain_judgement(httpserver, make):
    httpserver.expect_request("/v1/chat/completions").respond_with_response(completion_with_logprobs(None))
    judgement = await make(base(httpserver)).judge(MESSAGES)
    assert (judgement.choice, judgement.confidence) == ("yes", None)


async def test_a_stream_cut_off_without_a_finish_reason_is_not_taken_as_a_reply(httpserver, second_server, make):
    httpserver.expect_request("/v1/chat/completions").respond_with_response(sse(delta('{"ok":')))  # cut off
    second_server.expect_request("/v1/chat/completions").respond_with_response(sse(delta('{"ok": true}', "stop")))
    backend = make(base(httpserver), base(second_server))
    backend._pool.candidates = lambda: list(backend._pool.hosts)  # the cut-off server first
    reply = await backend.chat(MESSAGES, schema=SCHEMA)
    assert reply.parsed == {"ok": True} and reply.extra["host"] == base(second_server)
    with pytest.raises(BackendError, match="without a finish reason"):
        await make(base(httpserver)).chat(MESSAGES)
