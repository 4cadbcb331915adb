"""The embedded llama.cpp backend on the real 0.5B model: schema-constrained output, stop
sequences, token usage, cancellation between prompt chunks and between tokens, and one shared
worker per model."""

from __future__ import annotations

import asyncio
import threading

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
    return create_backend(MODEL, BackendSettings(n_ctx=2048, model_host="in-process"))  # this module tests llama.cpp in the process


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


class CancelAtCheck(CancelToken):
    """Cancels itself on the worker's `n`-th look at it and counts every look the worker takes, so a
    test can tell exactly how far the model went after the cancel (no clocks involved)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n, self.checks = n, 0

    @property
    def cancelled(self) -> bool:
        if threading.current_thread() is not threading.main_thread():
            self.checks += 1
            if self.checks == self.n:
                self.cancel("test")
        return self._event.is_set()


async def test_cancel_during_generation_stops_at_the_next_token(backend):
    await backend.chat(ASK, max_tokens=4)  # the model is loaded; LONG's prompt is one chunk
    token = CancelAtCheck(40)
    with pytest.raises(Cancelled) as caught:
        await backend.chat(LONG, max_tokens=2000, temperature=0.7, cancel=token)
    # It stopped at the look that saw the cancel; llama-cpp-python looks once more after its loop,
    # without sampling. The tokens generated until then still count.
    assert token.checks in (40, 41)
    partial = caught.value.partial
    assert 30 <= partial.usage.completion <= 40 and partial.usage.prompt > 0


async def test_cancel_during_prompt_evaluation_stops_between_prompt_chunks(backend):
    essay = [{"role": "user", "content": "Summarise this text.\n" + "The quick brown fox jumps over the lazy dog. " * 120}]
    token = CancelAtCheck(3)  # the third look comes after two chunks of the ~1,300-token prompt
    with pytest.raises(Cancelled) as caught:
        await backend.chat(essay, max_tokens=64, cancel=token)
    assert token.checks == 3
    partial = caught.value.partial
    assert partial.usage.completion == 0 and partial.finish_reason == "cancelled"
    assert 0 < partial.usage.prompt < 1000  # only the chunks read before the cancel
    again = await backend.chat(essay, max_tokens=4)  # the context is usable at once afterwards
    assert again.usage.prompt > 1000 and again.usage.completion > 0


async def test_asyncio_cancellation_also_stops_the_worker(backend):
    await backend.chat(ASK, max_tokens=4)
    counter = CancelAtCheck(n=10**9)  # never cancels; counts the worker's progress
    task = asyncio.create_task(backend.chat(LONG, max_tokens=2000, temperature=0.7, cancel=counter))
    while counter.checks < 20:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stopped_at = counter.checks
    # The single worker thread is free again: a marker queued behind the generation runs, and by
    # then the generation had stopped within a few tokens of the cancel instead of running to 2000.
    await asyncio.wrap_future(backend._worker.executor.submit(lambda: None))
    assert counter.checks == stopped_at or counter.checks < stopped_at + 50
    assert counter.checks < 200
    reply = await backend.chat(ASK, max_tokens=8, temperature=0.0)
    assert 0 < reply.usage.completion <= 8


async def test_backends_of_one_model_share_one_loaded_worker(backend):
    other = create_backend(MODEL, BackendSettings(n_ctx=2048, model_host="in-process"))
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


async def test_judge_reads_a_one_token_answer_from_the_next_token_distribution(backend):
    ask = [{"role": "user", "content": "Is 7 a prime number? Answer yes or no."}]
    judgement = await backend.judge(ask, ("yes", "no"))
    assert judgement.choice == max(judgement.probabilities, key=judgement.probabilities.get)
    assert set(judgement.probabilities) == {"yes", "no"}
    assert 0 < judgement.mass <= 1.0 + 1e-6 and judgement.mass == pytest.approx(sum(judgement.probabilities.values()))
    assert judgement.confidence == pytest.approx(judgement.probabilities[judgement.choice] / judgement.mass)
    assert judgement.reply.usage.completion == 1 and judgement.reply.usage.prompt > 10
    # nothing is sampled: the same question gives the same distribution, and a plain chat still works after it
    again = await backend.judge(ask, ("yes", "no"))
    assert again.probabilities == pytest.approx(judgement.probabilities, rel=1e-3)
    reply = await backend.chat(ASK, max_tokens=8, temperature=0.0)
    assert 0 < reply.usage.completion <= 8


async def test_judge_cancelled_during_the_prompt_raises_cancelled(backend):
    essay = [{"role": "user", "content": "Is this text about foxes? " + "The quick brown fox jumps over the lazy dog. " * 120}]
    token = CancelAtCheck(3)
    with pytest.raises(Cancelled):
        await backend.judge(essay, ("yes", "no"), cancel=token)
    assert token.checks == 3


async def test_a_schema_llama_cpp_cannot_compile_is_a_backend_error_not_a_crash(backend):
    # llama-cpp-python's converter writes an escaped dot into a GBNF literal, which llama.cpp cannot
    # parse; sampling with the missing grammar used to end the whole process with SIGSEGV.
    schema = {"type": "object", "properties": {"call": {"type": "string", "pattern": "^a\\.b$"}}, "required": ["call"]}
    with pytest.raises(BackendError, match="does not compile to a llama.cpp grammar"):
        await backend.chat(ASK, schema=schema, max_tokens=16)
    reply = await backend.chat(ASK, max_tokens=8, temperature=0.0)  # the model is still usable
    assert 0 < reply.usage.completion <= 8


@pytest.mark.parametrize("kind", ["function", "method"])
async def test_every_document_reply_schema_compiles_and_constrains(backend, kind):
    from swarm_lsp.swarm.actions.doc_prompt import doc_schema
    from swarm_lsp.swarm.codemods.content import DocFacts

    facts = DocFacts("truncate", kind, "python", params=("text", "width"), returns_value=True, raises=("ValueError",))
    ask = [{"role": "user", "content": "Document `truncate(text, width)`, which cuts text to width and raises "
                                       "ValueError when width is negative, as JSON with examples."}]
    reply = await backend.chat(ask, schema=doc_schema(facts, examples=True), max_tokens=400, temperature=0.0)
    assert isinstance(reply.parsed, dict), reply.text
    assert set(reply.parsed) == {"summary", "params", "returns", "raises", "examples", "raise_examples"}
    calls = reply.parsed["examples"] + list(reply.parsed["raise_examples"].values())
    assert calls and all(("." if kind == "method" else "") + "truncate(" in call for call in calls)
