"""Chunked prompt evaluation (swarm/backends/prefill.py) against a recording stand-in for
llama-cpp-python's `Llama` (its `input_ids`, `n_tokens` and `eval` contract, no model). The real
model is exercised in tests/real/test_llamacpp_backend.py."""

from __future__ import annotations

from swarm_lsp.swarm.backends.prefill import FIRST_CHUNK, MAX_CHUNK, MIN_CHUNK, Prefill, cancelled_completion


class RecordingLlama:
    """Keeps what `Llama.eval` keeps: the evaluated ids and their count; records each batch."""

    def __init__(self, cached: list[int] | None = None) -> None:
        self.input_ids = list(cached or []) + [0] * 1000
        self.n_tokens = len(cached or [])
        self.batches: list[list[int]] = []

    def eval(self, tokens: list[int]) -> None:
        start = self.n_tokens  # llama-cpp-python drops the KV cache from n_tokens on, then decodes
        self.input_ids[start: start + len(tokens)] = tokens
        self.n_tokens += len(tokens)
        self.batches.append(list(tokens))


def test_the_prompt_but_its_last_token_is_evaluated_in_small_chunks():
    llama, prompt = RecordingLlama(), list(range(1, 101))
    result = Prefill().run(llama, prompt, should_stop=lambda: False)
    assert len(llama.batches[0]) == FIRST_CHUNK  # later chunks follow the measured speed
    assert sum(llama.batches, []) == prompt[:-1]  # the last token is left for create_completion
    assert llama.n_tokens == 99 and result.evaluated == 99 and result.reused == 0 and not result.stopped


def test_a_stop_request_is_seen_between_chunks():
    llama, checks = RecordingLlama(), []

    def should_stop() -> bool:
        checks.append(len(llama.batches))
        return len(llama.batches) == 2

    prefill = Prefill()
    prefill.tokens_per_s = 60.0  # 30-token chunks at the default 0.5 s slice
    result = prefill.run(llama, list(range(500)), should_stop)
    assert len(llama.batches) == 2 and checks == [0, 1, 2]
    assert result.stopped and result.evaluated == sum(map(len, llama.batches)) == result.read
    assert llama.n_tokens == result.read  # what was read stays in the cache for the next call


def test_a_cached_prefix_is_reused_and_a_diverging_tail_re_evaluated():
    llama = RecordingLlama(cached=[1, 2, 3, 4, 9, 9])
    result = Prefill().run(llama, [1, 2, 3, 4, 5, 6, 7], should_stop=lambda: False)
    assert result.reused == 4 and result.evaluated == 2
    assert llama.batches == [[5, 6]] and llama.input_ids[:6] == [1, 2, 3, 4, 5, 6]


def test_chunks_follow_the_measured_prompt_speed_within_bounds():
    prefill = Prefill(slice_s=0.2)
    assert prefill.chunk_size() == FIRST_CHUNK
    prefill.tokens_per_s = 400.0
    assert prefill.chunk_size() == 80
    prefill.tokens_per_s = 1.0  # a machine so loaded that a chunk would be one token
    assert prefill.chunk_size() == MIN_CHUNK
    prefill.tokens_per_s = 1e6
    assert prefill.chunk_size() == MAX_CHUNK


def test_the_speed_estimate_follows_the_latest_chunk_most():
    prefill = Prefill()
    prefill._observe(100, 1.0)
    assert prefill.tokens_per_s == 100.0
    prefill._observe(100, 0.5)  # the other process stopped: 200 tokens/s now
    assert prefill.tokens_per_s == 0.3 * 100 + 0.7 * 200


def test_a_cancelled_prefill_reports_the_tokens_read():
    completion = cancelled_completion(64)
    assert completion["usage"] == {"prompt_tokens": 64, "completion_tokens": 0}
    assert completion["choices"][0]["finish_reason"] == "cancelled"
