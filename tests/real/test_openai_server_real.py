"""The OpenAI-compatible backend against a real server: llama-cpp-python's own (`python -m
llama_cpp.server`, the `server` extra) on the embedded 0.5B GGUF on a loopback port. The document
action runs through it end to end; a streaming call is cancelled mid-way; a tier with one server
down fails over to the one that is up."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from swarm_lsp.server.config import load_config
from swarm_lsp.server.session.build import build_swarm
from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.backends import create_backend
from swarm_lsp.swarm.cancel import CancelToken, Cancelled
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.models import ensure_verified, get_model
from swarm_lsp.swarm.settings import ActionOptions
from swarm_lsp.swarm.types import ActionRequest

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[2]
START_GUARD_S = 240  # only stops a server that never comes up from hanging the run; no duration is asserted


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """llama.cpp's OpenAI-compatible server on the 0.5B, its base URL."""
    gguf = ensure_verified(get_model("qwen2.5-coder-0.5b"))
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "qwen2.5-coder-0.5b",
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + START_GUARD_S
    while True:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    yield url
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


async def test_the_document_action_runs_through_the_server_and_counts_as_local(server, tmp_path):
    shutil.copy(REPO / "examples" / "textutils.py", tmp_path / "textutils.py")
    tier = f"openai:qwen2.5-coder-0.5b?base_url={server}"
    (tmp_path / "pyproject.toml").write_text(f'[tool.swarm-lsp]\ntiers = ["{tier}"]\ncandidates = 3\n')
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    request = ActionRequest("document", read_snapshot(tmp_path / "textutils.py"), "Truncator.truncate",
                            workspace=str(tmp_path), options=ActionOptions())
    result = await build_swarm(load_config(tmp_path), ledger=ledger).run(request)

    assert result.status == "accepted", result.message
    assert result.tier == tier and result.usage.local_tokens > 0 and result.usage.cloud_tokens == 0
    assert '"""' in result.edits[0].new_text
    rows = ledger.totals()
    ledger.close()
    assert rows["cloud_tokens"] == 0 and rows["local_tokens"] == result.usage.local_tokens
    assert rows["estimated_tokens"] == rows["local_tokens"]  # llama-cpp-python's stream reports no usage


async def test_structured_output_falls_back_to_the_servers_json_object_form(server):
    backend = create_backend(f"openai:qwen2.5-coder-0.5b?base_url={server}")
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    try:
        reply = await backend.chat([{"role": "user", "content": "What is 2 + 3? Answer in JSON."}], schema=schema,
                                   max_tokens=32, temperature=0.0)
    finally:
        await backend.aclose()
    assert isinstance(reply.parsed, dict) and isinstance(reply.parsed.get("answer"), int)
    assert reply.extra["response_format"] == "json_object"  # llama-cpp-python refuses json_schema
    # llama-cpp-python's stream carries no usage (vLLM's does, with stream_options): estimated, and marked so
    assert reply.extra["usage_estimated"] and reply.usage.prompt > 0 and reply.usage.completion > 0


async def test_a_streaming_call_cancelled_mid_way_ends_and_the_server_serves_the_next(server):
    backend = create_backend(f"openai:qwen2.5-coder-0.5b?base_url={server}")
    token = CancelToken()
    long = [{"role": "user", "content": "Write a long essay about the history of compilers."}]
    task = asyncio.create_task(backend.chat(long, max_tokens=2000, cancel=token))
    try:
        while not task.done() and not any(host.in_flight for host in backend._pool.hosts):
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # a trigger point inside the generation, not a measured duration
        token.cancel("user cancelled")
        with pytest.raises(Cancelled):
            await task
        assert all(host.in_flight == 0 for host in backend._pool.hosts)
        after = await backend.chat([{"role": "user", "content": "Say hi."}], max_tokens=8)
    finally:
        await backend.aclose()
    assert after.text and after.usage.completion > 0


async def test_a_tier_with_one_server_down_fails_over_to_the_other(server):
    down = f"http://127.0.0.1:{free_port()}/v1"
    backend = create_backend(f"openai:qwen2.5-coder-0.5b?base_url={down},{server}")
    try:
        replies = [await backend.chat([{"role": "user", "content": "Say hi."}], max_tokens=8) for _ in range(2)]
    finally:
        await backend.aclose()
    assert [r.extra["host"] for r in replies] == [server, server]
    down_host = next(h for h in backend._pool.hosts if h.url == down)
    assert down_host.down_until > 0  # cooled down after the refused connection


async def test_doctor_finds_the_server_and_its_model_and_names_the_tier_local(server, tmp_path):
    from swarm_lsp.server.cli_doctor import doctor_report

    tier = f"openai:qwen2.5-coder-0.5b?base_url={server}"
    (tmp_path / "pyproject.toml").write_text(f'[tool.swarm-lsp]\ntiers = ["{tier}"]\n')
    report = await doctor_report(load_config(tmp_path))
    [entry] = [b for b in report["backends"] if b["backend"] == tier]
    assert entry["ok"] and entry["cloud"] is False and entry["kind"] == "openai"
    assert entry["hosts"] == [{"host": server, "reachable": True, "model_present": True, "error": None}]
    assert report["ok"] and report["tiers"] == [tier]


async def test_a_judgement_through_the_server_has_the_first_tokens_probabilities(server):
    backend = create_backend(f"openai:qwen2.5-coder-0.5b?base_url={server}")
    question = [{"role": "user", "content": "Is 2 + 2 equal to 4? Answer yes or no."}]
    try:
        judgement = await backend.judge(question)
    finally:
        await backend.aclose()
    assert judgement.choice == "yes" and judgement.confidence is not None and judgement.confidence > 0.5
    assert 0 < judgement.mass <= 1.0 and set(judgement.probabilities) == {"yes", "no"}
