"""The Ollama backend against a replay of the wire format in Ollama's API reference (no Ollama server here)."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import threading
import time
from types import SimpleNamespace

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from swarm_lsp.swarm.backends.base import Backend, BackendError
from swarm_lsp.swarm.backends.ollama import DEFAULT_HOST, OllamaBackend, context_size
from swarm_lsp.swarm.cancel import CancelToken, Cancelled
from tests.unit.http_replay import sent

MODEL = "qwen2.5-coder:7b"
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
MESSAGES = [{"role": "system", "content": "You answer in JSON."}, {"role": "user", "content": "Is it ok?"}]
HANG_GUARD_S = 30  # only stops a broken backend from hanging the run; no test asserts a duration


def url(server: HTTPServer) -> str:
    return f"http://{server.host}:{server.port}"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def chunk(content: str, **fields) -> dict:
    message = {"role": "assistant", "content": content}
    return {"model": MODEL, "created_at": "2025-01-01T00:00:00Z", "message": message, "done": False, **fields}


def final_chunk(done_reason: str = "stop", prompt_eval_count: int = 42, eval_count: int = 7) -> dict:
    durations = {"total_duration": 1_000_000, "load_duration": 1000, "prompt_eval_duration": 1000, "eval_duration": 1000}
    counts = {"prompt_eval_count": prompt_eval_count, "eval_count": eval_count}
    return chunk("", done=True, done_reason=done_reason, **durations, **counts)


def ndjson(*parts: dict) -> Response:
    return Response("".join(json.dumps(part) + "\n" for part in parts), content_type="application/x-ndjson")


def replies(server: HTTPServer, *parts: str, **final) -> None:
    server.expect_request("/api/chat", method="POST").respond_with_response(
        ndjson(*(chunk(part) for part in parts), final_chunk(**final))
    )


@pytest.fixture
async def make_backend():
    made: list[OllamaBackend] = []

    def make(hosts, **kwargs) -> OllamaBackend:
        backend = OllamaBackend(MODEL, hosts=hosts, **kwargs)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        await backend.aclose()


async def test_structured_chat_sends_the_documented_request_and_maps_the_reply(httpserver, make_backend):
    replies(httpserver, '{"ok":', " true}", prompt_eval_count=42, eval_count=7)
    backend = make_backend([url(httpserver)])
    assert isinstance(backend, Backend) and backend.name == f"ollama:{MODEL}" and backend.is_cloud is False

    reply = await backend.chat(MESSAGES, schema=SCHEMA, max_tokens=64, temperature=0.3, seed=7, stop=["```"])

    assert reply.text == '{"ok": true}' and reply.parsed == {"ok": True}
    assert (reply.usage.prompt, reply.usage.completion) == (42, 7)
    assert reply.finish_reason == "stop" and reply.model == f"ollama:{MODEL}" and reply.latency_s > 0
    assert reply.extra["host"] == url(httpserver)
    request, _ = httpserver.log[0]
    assert request.path == "/api/chat"
    body = request.get_json()
    assert body["model"] == MODEL and body["stream"] is True
    assert body["messages"] == MESSAGES
    assert body["format"] == SCHEMA
    assert body["keep_alive"] == "10m"
    options = body["options"]
    assert options["num_predict"] == 64 and options["temperature"] == 0.3
    assert options["seed"] == 7 and options["stop"] == ["```"]
    prompt_chars = sum(len(m["content"]) for m in MESSAGES)
    assert options["num_ctx"] >= math.ceil(prompt_chars / 3) + 64
    assert options["num_ctx"] == reply.extra["num_ctx"]


async def test_plain_chat_leaves_out_format_seed_and_stop(httpserver, make_backend):
    replies(httpserver, "hello")
    backend = make_backend([url(httpserver)], keep_alive="1h", options={"repeat_penalty": 1.1})

    reply = await backend.chat(MESSAGES)

    assert reply.text == "hello" and reply.parsed is None
    body = sent(httpserver)
    assert "format" not in body and body["keep_alive"] == "1h"
    assert "seed" not in body["options"] and "stop" not in body["options"]
    assert body["options"]["repeat_penalty"] == 1.1


async def test_num_ctx_is_sized_to_the_prompt_and_never_shrinks_on_a_host(httpserver, make_backend):
    replies(httpserver, "ok")
    backend = make_backend([url(httpserver)])
    long_messages = [{"role": "user", "content": "x = 1\n" * 5000}]

    await backend.chat(MESSAGES, max_tokens=256)
    await backend.chat(long_messages, max_tokens=256)
    await backend.chat(MESSAGES, max_tokens=256)

    short_ctx, long_ctx, after_ctx = (sent(httpserver, i)["options"]["num_ctx"] for i in range(3))
    assert short_ctx >= math.ceil(sum(len(m["content"]) for m in MESSAGES) / 3) + 256
    assert long_ctx > short_ctx and long_ctx >= math.ceil(30000 / 3) + 256
    assert after_ctx == long_ctx  # Ollama reloads the model whenever num_ctx changes


def test_context_size_rounds_to_powers_of_two_within_bounds():
    assert context_size([{"role": "user", "content": "hi"}], 100) == 2048
    assert context_size([{"role": "user", "content": "a" * 9000}], 512) == 4096
    assert context_size([{"role": "user", "content": "a" * 600_000}], 512) == 32768
    assert context_size([{"role": "user", "content": "a" * 600_000}], 512, max_ctx=8192) == 8192


async def test_length_finish_with_truncated_json_gives_no_parse(httpserver, make_backend):
    replies(httpserver, '{"ok": tr', done_reason="length", eval_count=64)
    backend = make_backend([url(httpserver)])

    reply = await backend.chat(MESSAGES, schema=SCHEMA, max_tokens=64)

    assert reply.finish_reason == "length" and reply.parsed is None and reply.usage.completion == 64


async def test_missing_model_tells_the_user_to_pull_it(httpserver, make_backend):
    httpserver.expect_request("/api/chat", method="POST").respond_with_json(
        {"error": f'model "{MODEL}" not found, try pulling it first'}, status=404
    )
    backend = make_backend([url(httpserver)])

    with pytest.raises(BackendError, match=f"ollama pull {MODEL}"):
        await backend.chat(MESSAGES)


async def test_bad_request_is_not_retried_on_other_hosts(httpserver, second_server, make_backend):
    httpserver.expect_request("/api/chat").respond_with_json({"error": "invalid format schema"}, status=400)
    replies(second_server, "never")
    backend = make_backend([url(httpserver), url(second_server)])

    with pytest.raises(BackendError, match="invalid format schema"):
        await backend.chat(MESSAGES, schema=SCHEMA)
    assert second_server.log == []


async def test_fails_over_from_a_host_that_is_down(httpserver, make_backend):
    replies(httpserver, "served")
    down = closed_port_url()
    backend = make_backend([down, url(httpserver)])

    reply = await backend.chat(MESSAGES)

    assert reply.text == "served" and reply.extra["host"] == url(httpserver)


async def test_a_failing_host_cools_down_instead_of_being_retried(httpserver, second_server, make_backend):
    httpserver.expect_request("/api/chat").respond_with_json({"error": "runner crashed"}, status=503)
    replies(second_server, "served")
    backend = make_backend([url(httpserver), url(second_server)])

    for _ in range(3):
        assert (await backend.chat(MESSAGES)).extra["host"] == url(second_server)
    assert len(httpserver.log) == 1 and len(second_server.log) == 3


async def test_all_hosts_down_names_every_host(make_backend):
    hosts = [closed_port_url(), closed_port_url()]
    backend = make_backend(hosts)

    with pytest.raises(BackendError) as error:
        await backend.chat(MESSAGES)
    assert all(host in str(error.value) for host in hosts)


def test_hosts_come_from_a_comma_separated_ollama_host(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "http://gpu-1:11434, gpu-2:11434,")
    assert OllamaBackend(MODEL).hosts == ["http://gpu-1:11434", "gpu-2:11434"]
    monkeypatch.delenv("OLLAMA_HOST")
    assert OllamaBackend(MODEL).hosts == [DEFAULT_HOST]
    assert OllamaBackend(MODEL, hosts="a:1,b:2").hosts == ["a:1", "b:2"]


def slow_chat(delay: float, started: threading.Event | None = None):
    def handler(_request: Request) -> Response:
        if started is not None:
            started.set()
        time.sleep(delay)
        return ndjson(chunk("done"), final_chunk())

    return handler


async def test_two_concurrent_calls_go_to_two_hosts(httpserver, second_server, make_backend):
    for server in (httpserver, second_server):
        server.expect_request("/api/chat").respond_with_handler(slow_chat(0.2))
    backend = make_backend([url(httpserver), url(second_server)])

    first, second = await asyncio.gather(backend.chat(MESSAGES), backend.chat(MESSAGES))

    assert {first.extra["host"], second.extra["host"]} == {url(httpserver), url(second_server)}
    assert len(httpserver.log) == 1 and len(second_server.log) == 1


async def test_calls_avoid_the_busy_host(httpserver, second_server, make_backend):
    busy_started = threading.Event()
    httpserver.expect_request("/api/chat").respond_with_handler(slow_chat(0.3, busy_started))
    replies(second_server, "quick")
    backend = make_backend([url(httpserver), url(second_server)])

    slow = asyncio.create_task(backend.chat(MESSAGES))
    while not busy_started.is_set():
        await asyncio.sleep(0.01)
    # Plain round robin would send the second of these to the busy host.
    quick = [await backend.chat(MESSAGES) for _ in range(2)]

    assert [reply.extra["host"] for reply in quick] == [url(second_server)] * 2
    assert (await slow).extra["host"] == url(httpserver)


@pytest.fixture
def dripping_server(httpserver):
    """A chat stream that sends a chunk, then another every 50 ms until the test is over, then the final
    chunk: `first_sent` is set once chunk one is out, `finished` just before the final chunk."""
    stream = SimpleNamespace(first_sent=threading.Event(), finished=threading.Event(), closed=threading.Event())
    release = threading.Event()

    def handler(_request: Request) -> Response:
        def chunks():
            try:
                yield json.dumps(chunk("first")) + "\n"
                stream.first_sent.set()
                while not release.wait(0.05):
                    yield json.dumps(chunk(" more")) + "\n"
                stream.finished.set()
                yield json.dumps(final_chunk()) + "\n"
            finally:  # also when the client hung up and the server could not write the next chunk
                stream.closed.set()

        return Response(chunks(), content_type="application/x-ndjson")

    httpserver.expect_request("/api/chat").respond_with_handler(handler)
    yield stream
    release.set()


@pytest.fixture
def silent_server(httpserver):
    """A chat endpoint that holds the request until the test is over: `arrived` is set when the request
    is in, `answered` just before the reply goes out."""
    server, release = SimpleNamespace(arrived=threading.Event(), answered=threading.Event()), threading.Event()

    def silent(_request: Request) -> Response:
        server.arrived.set()
        release.wait(4 * HANG_GUARD_S)
        server.answered.set()
        return ndjson(final_chunk())

    httpserver.expect_request("/api/chat").respond_with_handler(silent)
    yield server
    release.set()
    deadline = time.monotonic() + HANG_GUARD_S  # the released handler logs late: let it, before the next test
    while server.arrived.is_set() and not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.01)


async def until(event: threading.Event) -> None:
    async def poll() -> None:
        while not event.is_set():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), HANG_GUARD_S)


@pytest.mark.parametrize("how", ["token", "asyncio"])
async def test_cancelling_mid_stream_ends_the_call_before_the_stream(how, httpserver, dripping_server, make_backend):
    backend = make_backend([url(httpserver)])
    token = CancelToken()
    task = asyncio.create_task(backend.chat(MESSAGES, cancel=token))
    await until(dripping_server.first_sent)

    token.cancel("user cancelled") if how == "token" else task.cancel()
    with pytest.raises(Cancelled if how == "token" else asyncio.CancelledError):
        await asyncio.wait_for(task, HANG_GUARD_S)
    assert not dripping_server.finished.is_set()  # the call ended while the server was still streaming
    await until(dripping_server.closed)  # and the connection was closed: Ollama stops generating
    assert not dripping_server.finished.is_set()
    assert all(host.in_flight == 0 for host in backend._hosts)
    assert len(httpserver.log) == 1


async def test_cancel_token_works_while_the_server_is_still_silent(httpserver, silent_server, make_backend):
    backend = make_backend([url(httpserver)])
    token = CancelToken()
    task = asyncio.create_task(backend.chat(MESSAGES, cancel=token))
    await until(silent_server.arrived)

    token.cancel()
    with pytest.raises(Cancelled):
        await asyncio.wait_for(task, HANG_GUARD_S)
    assert not silent_server.answered.is_set()  # the call ended while the server still held the request
    assert all(host.in_flight == 0 for host in backend._hosts)


async def test_already_cancelled_token_sends_nothing(httpserver, make_backend):
    backend = make_backend([url(httpserver)])
    token = CancelToken()
    token.cancel()

    with pytest.raises(Cancelled):
        await backend.chat(MESSAGES, cancel=token)
    assert httpserver.log == []


async def test_embed_posts_the_texts_and_returns_one_vector_each(httpserver, make_backend):
    httpserver.expect_request("/api/embed", method="POST").respond_with_json(
        {"model": MODEL, "embeddings": [[0.1, 0.2], [0.3, 0.4]], "total_duration": 1, "prompt_eval_count": 4}
    )
    backend = make_backend([url(httpserver)])

    assert await backend.embed(["a", "b"]) == [[0.1, 0.2], [0.3, 0.4]]
    assert await backend.embed([]) == []
    request, _ = httpserver.log[0]
    assert request.path == "/api/embed" and len(httpserver.log) == 1
    assert request.get_json() == {"model": MODEL, "input": ["a", "b"], "keep_alive": "10m"}


def tags(*names: str) -> dict:
    details = {"format": "gguf", "family": "qwen2", "parameter_size": "7.6B", "quantization_level": "Q4_K_M"}
    return {
        "models": [
            {"name": name, "model": name, "modified_at": "2025-01-01T00:00:00Z", "size": 4_683_087_332,
             "digest": "a" * 64, "details": details}
            for name in names
        ]
    }


async def test_probe_reports_each_host_without_raising(httpserver, make_backend):
    httpserver.expect_request("/api/version").respond_with_json({"version": "0.6.5"})
    httpserver.expect_request("/api/tags").respond_with_json(tags("llama3:latest", MODEL))
    down = closed_port_url()
    backend = make_backend([url(httpserver), down])

    report = await backend.probe()

    assert report["backend"] == f"ollama:{MODEL}" and report["ok"] is True
    up_host, down_host = report["hosts"]
    assert up_host == {
        "host": url(httpserver), "reachable": True, "version": "0.6.5", "model_present": True, "error": None
    }
    assert down_host["host"] == down and down_host["reachable"] is False and down_host["model_present"] is False
    assert down_host["error"]


async def test_probe_says_when_the_model_is_not_pulled(httpserver, make_backend):
    httpserver.expect_request("/api/version").respond_with_json({"version": "0.6.5"})
    httpserver.expect_request("/api/tags").respond_with_json(tags("llama3:latest"))
    backend = make_backend([url(httpserver)])
    untagged = OllamaBackend("llama3", hosts=[url(httpserver)])

    report = await backend.probe()
    untagged_report = await untagged.probe()
    await untagged.aclose()

    assert report["ok"] is False and report["hosts"][0]["reachable"] is True
    assert f"ollama pull {MODEL}" in report["hosts"][0]["error"]
    assert untagged_report["ok"] is True  # `llama3` means `llama3:latest`


def cut_off(*parts: dict, tail: str = "") -> Response:
    """A stream that ends (the connection closes) before Ollama's final chunk: a host that died mid-reply."""
    return Response("".join(json.dumps(part) + "\n" for part in parts) + tail, content_type="application/x-ndjson")


@pytest.mark.parametrize("tail", ["", '{"model": "qwen", "message": {"role": "assis'], ids=["clean-cut", "mid-line"])
async def test_a_host_dying_mid_stream_fails_over_to_the_next(httpserver, second_server, make_backend, tail):
    httpserver.expect_request("/api/chat").respond_with_response(cut_off(chunk('{"ok":'), tail=tail))
    replies(second_server, '{"ok": true}')
    backend = make_backend([url(httpserver), url(second_server)])
    backend._pool.candidates = lambda: list(backend._pool.hosts)  # the dying host first

    reply = await backend.chat(MESSAGES, schema=SCHEMA)

    assert reply.parsed == {"ok": True} and reply.extra["host"] == url(second_server)


async def test_a_host_dying_mid_stream_alone_is_a_clear_error(httpserver, make_backend):
    httpserver.expect_request("/api/chat").respond_with_response(cut_off(chunk("half a repl")))
    with pytest.raises(BackendError, match="ended without a final chunk"):
        await make_backend([url(httpserver)]).chat(MESSAGES)
