"""Prompt evaluation for the embedded backend in chunks that a cancel can fall between.

llama.cpp cannot be interrupted inside one `llama_decode`, and llama-cpp-python decodes a prompt in
batches of up to 512 tokens: about 5 s (0.5B) and 9 s (1.5B) each on 2 idle cores, several times that
on busy ones, all of it before a cancel could be seen. So the worker evaluates the prompt (all but its
last token) itself, in chunks sized from the measured prompt speed to take about `SLICE_S` each,
checking `should_stop` between them; `create_completion` then finds that prefix in the KV cache and
evaluates only the last token before it samples. The alternative, llama.cpp's abort callback, runs a
Python callback for every graph node, each needing the GIL the event loop holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

SLICE_S = 0.5  # per chunk, like the grace a cancelled call waits; costs 6% (0.5B) to 20% (1.5B) of prompt speed
FIRST_CHUNK = 8  # before any measurement: the 1.5B reads ~40 tokens/s on 2 idle cores, ~15 on busy ones
MIN_CHUNK, MAX_CHUNK = 4, 256  # bigger batches read no faster on 2 cores (docs/benchmarks.md)


@dataclass(frozen=True)
class PrefillResult:
    reused: int  # tokens already in the KV cache from an earlier call with the same prefix
    evaluated: int  # tokens decoded by this call
    stopped: bool  # should_stop() asked to stop before the prompt was read

    @property
    def read(self) -> int:
        return self.reused + self.evaluated


class Prefill:
    """One per loaded model (it learns that model's prompt speed); used on its worker thread only."""

    def __init__(self, slice_s: float = SLICE_S) -> None:
        self.slice_s = slice_s
        self.tokens_per_s: float | None = None

    def chunk_size(self) -> int:
        if self.tokens_per_s is None:
            return FIRST_CHUNK
        return max(MIN_CHUNK, min(MAX_CHUNK, int(self.tokens_per_s * self.slice_s)))

    def _observe(self, tokens: int, seconds: float) -> None:
        if seconds <= 0:
            return
        rate = tokens / seconds
        # Weighted towards the latest chunk: another process taking a core should shrink chunks at once.
        self.tokens_per_s = rate if self.tokens_per_s is None else 0.3 * self.tokens_per_s + 0.7 * rate

    def run(self, llama: Any, prompt: Sequence[int], should_stop: Callable[[], bool]) -> PrefillResult:
        """Evaluate `prompt[:-1]` into `llama`'s context, keeping any prefix it already holds."""
        body = list(prompt[:-1])
        reused = _common_prefix(list(llama.input_ids[: llama.n_tokens]), body)
        llama.n_tokens = reused  # `eval` drops the KV cache from n_tokens on before it decodes
        position = reused
        while position < len(body):
            if should_stop():
                return PrefillResult(reused, position - reused, stopped=True)
            chunk = body[position: position + self.chunk_size()]
            started = time.perf_counter()
            llama.eval(chunk)
            self._observe(len(chunk), time.perf_counter() - started)
            position += len(chunk)
        return PrefillResult(reused, position - reused, stopped=should_stop())


def _common_prefix(cached: Sequence[int], tokens: Sequence[int]) -> int:
    count = 0
    for old, new in zip(cached, tokens):
        if old != new:
            break
        count += 1
    return count


def cancelled_completion(read_tokens: int) -> dict[str, Any]:
    """What `create_completion` would have returned had it been stopped before its first token."""
    return {"choices": [{"text": "", "finish_reason": "cancelled"}],
            "usage": {"prompt_tokens": read_tokens, "completion_tokens": 0}}
