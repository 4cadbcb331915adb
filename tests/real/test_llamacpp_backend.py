"""The embedded llama.cpp backend on the real 0.5B model: schema-constrained output, stop
sequences, token usage, cancellation between tokens and one shared worker per model."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from swarm_lsp.swarm.backends import BackendSettings, create_backend
from swarm_lsp.swarm.backends.base import BackendError
from swarm_lsp.swarm.backends.llamacpp import LlamaCppBackend
from swarm_lsp.swarm.cancel import CancelToken, Cancelled

pytestmark = pytest.mark.real

MODEL = "llamacpp:qwen2.5-coder-0.5b"
ASK = [{"role": "user", "content": "List three colours of the rainbow."}]
LONG = [{"role": "user", "content": "Write a long essay about the history of computing, in detail."}]


@pytest.fixture(scope="module")
def backend():
    return create_backend(MODEL, BackendSettings(n_ctx=2048))


async def test_schema_constrains_the_reply(backend):
    schema = {
        "type": "object",
        "properties": {"colours": {"type": "array", "items": {"type": "string", "enum": ["red", "green", "blue"]},
                                   "minItems": 3, "maxItems": 3}},
        "required": ["colours"],
        "additionalProperties": False,
    }
    reply = await backend.chat(ASK, schema=schema, max_tokens=64, temperature=0.0, seed=1)
    assert isinstance(reply.parsed, dict)
    assert set(reply.parsed) == {"colours"}
    assert len(reply.parsed["colours"]) == 3 and set(reply.parsed["colours"]) <= {"red", "green", "blue"}
    assert reply.model == MODEL
    assert reply.usage.prompt > 5 and 0 < reply.usage.completion <= 64
    assert reply.latency_s > 0


async def test_stop_sequence_and_token_limit(backend):
    counted = [{"role": "user", "content": "Count from 1 to 20, separated by commas."}]
    stopped = await backend.chat(counted, max_tokens=100, temperature=0.0, stop=["5"])
    assert "5" not in stopped.text and "4" in stopped.text
    assert stopped.finish_reason == "stop"
    limited = await backend.chat(LONG, max_tokens=8, temperature=0.0)
    assert limited.usage.completion == 8 and limited.finish_reason == "length"


async def test_cancel_stops_generation_within_a_second(backend):
    await backend.chat(ASK, max_tokens=4)  # load the model outside the measured window
    token = CancelToken()
    started = time.perf_counter()
    threading.Timer(0.5, token.cancel).start()
    with pytest.raises(Cancelled):
        await backend.chat(LONG, max_tokens=2000, temperature=0.7, cancel=token)
    elapsed = time.perf_counter() - started
    # 2000 tokens would take over a minute at ~27 tokens/s; cancelled, it ends within about a second.
    assert elapsed < 2.5, elapsed


async def test_asyncio_cancellation_also_stops_the_worker(backend):
    task = asyncio.create_task(backend.chat(LONG, max_tokens=2000, temperature=0.7))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    started = time.perf_counter()
    # The single worker thread must be free again almost at once, not after 2000 tokens.
    reply = await backend.chat(ASK, max_tokens=8, temperature=0.0)
    assert reply.usage.completion <= 8
    assert time.perf_counter() - started < 5


async def test_backends_of_one_model_share_one_loaded_worker(backend):
    other = create_backend(MODEL, BackendSettings(n_ctx=2048))
    replies = await asyncio.gather(backend.chat(ASK, max_tokens=8), other.chat(ASK, max_tokens=8))
    assert all(r.usage.completion > 0 for r in replies)
    assert isinstance(other, LlamaCppBackend) and other._worker is backend._worker


async def test_prompt_larger_than_the_context_is_a_clear_error(backend):
    huge = [{"role": "user", "content": "word " * 3000}]
    with pytest.raises(BackendError, match="exceeds the context"):
        await backend.chat(huge, max_tokens=16)


def test_unknown_model_and_unavailable_kind_are_clear_errors():
    with pytest.raises(BackendError, match="qwen2.5-coder-0.5b"):
        create_backend("llamacpp:llama-70b")
    with pytest.raises(BackendError, match="KIND:MODEL"):
        create_backend("qwen")
