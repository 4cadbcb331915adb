"""The embedded backend: llama.cpp through llama-cpp-python, on the checksummed embedded GGUFs.

A llama.cpp context is not thread-safe, so each loaded model is owned by one `_ModelWorker`
(llamacpp_worker.py) with a single worker thread; every backend object naming that model shares
it (one load per process).
Cancellation is checked between prompt chunks (swarm/backends/prefill.py) and between generated
tokens through `stopping_criteria`; a cancelled call ends within `CANCEL_GRACE_S` even while the
worker is still loading the model. `create_chat_completion` takes no stopping criteria, so the worker
applies the GGUF's own chat template itself (as llama-cpp-python's Jinja2 handler does) and calls
`create_completion`, which also keeps the exact token usage that a streamed reply would lose.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

from swarm_lsp.swarm import models
from swarm_lsp.swarm.backends.base import BackendError, Judgement, Message, Reply, TokenUsage
from swarm_lsp.swarm.backends.llamacpp_worker import (  # noqa: F401 - re-exported for tests and benches
    INSTALL_HINT,
    MODEL_THREAD_NICE,
    _ModelWorker,
    _worker_for,
    _workers,
    _workers_lock,
    preload_library,
)
from swarm_lsp.swarm.cancel import CancelToken, Cancelled, in_thread, race_cancel

T = TypeVar("T")

log = logging.getLogger(__name__)


class LlamaCppBackend:
    """`llamacpp:<embedded model name>`, e.g. `llamacpp:qwen2.5-coder-0.5b`."""

    is_cloud = False

    def __init__(
        self,
        model: str,
        *,
        n_ctx: int = 4096,
        threads: int | None = None,
        repeat_penalty: float = 1.1,
        models_dir: str | Path | None = None,
    ) -> None:
        self.model = models.get_model(model)
        self.name = f"llamacpp:{self.model.name}"
        self.n_ctx, self.threads, self.repeat_penalty = n_ctx, threads, repeat_penalty
        self.models_dir = Path(models_dir) if models_dir else None
        self._worker: _ModelWorker | None = None

    def _ensure_worker(self) -> _ModelWorker:
        if self._worker is None:
            try:
                path = models.ensure_verified(self.model, dest_dir=self.models_dir)
            except (models.MissingParts, models.ChecksumMismatch, FileNotFoundError) as exc:
                raise BackendError(str(exc)) from exc
            self._worker = _worker_for(path, self.n_ctx, self.threads)
        return self._worker

    async def chat(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.2,
        seed: int | None = None,
        stop: list[str] | None = None,
        cancel: CancelToken | None = None,
    ) -> Reply:
        def generate(worker: _ModelWorker, should_stop: Callable[[], bool]) -> dict[str, Any]:
            return worker.complete(
                messages,
                schema=schema,
                max_tokens=max_tokens,
                temperature=temperature,
                repeat_penalty=self.repeat_penalty,
                seed=seed,
                stop=stop or [],
                should_stop=should_stop,
            )

        result, seconds = await self._run_on_worker(generate, cancel)
        reply = _to_reply(result, self.name, seconds, schema is not None)
        if cancel is not None and cancel.cancelled:
            raise Cancelled(cancel.reason or "cancelled", partial=reply)  # the tokens spent still count
        return reply

    async def judge(
        self, messages: list[Message], options: tuple[str, ...] = ("yes", "no"), *, cancel: CancelToken | None = None
    ) -> Judgement:
        """The most probable option as the reply's first token, with its probability."""
        found, seconds = await self._run_on_worker(
            lambda worker, should_stop: worker.next_token_probabilities(messages, options, should_stop), cancel)
        if found is None or (cancel is not None and cancel.cancelled):
            raise Cancelled(cancel.reason if cancel is not None and cancel.reason else "cancelled")
        probabilities, prompt_tokens = found
        mass = sum(probabilities.values())
        choice = max(options, key=lambda option: probabilities[option])
        reply = Reply(text=choice, usage=TokenUsage(prompt=prompt_tokens, completion=1), model=self.name,
                      latency_s=seconds, finish_reason="stop")
        confidence = probabilities[choice] / mass if mass > 0 else None
        return Judgement(choice, confidence, reply, probabilities, mass)

    async def _run_on_worker(self, work: Callable[[_ModelWorker, Callable[[], bool]], T],
                             cancel: CancelToken | None) -> tuple[T, float]:
        """`work(worker, should_stop)` on the model's own thread, raced against `cancel`, and the
        seconds it took (the model's load not counted).

        Verifying the GGUF (a first hash of 1.1 GB) and loading it are not interruptible: a cancel
        ends the call on time while they finish on their thread for the next call. `should_stop`
        turns true once the call stops waiting (the token or asyncio cancellation), so the worker
        ends its token loop; llama.cpp's plain exceptions (ValueError, RuntimeError: e.g. a context
        overflow) become BackendError.
        """
        worker = await in_thread(cancel, self._ensure_worker)
        stop_flag = threading.Event()

        def should_stop() -> bool:
            return stop_flag.is_set() or (cancel is not None and cancel.cancelled)

        def run() -> T:
            if cancel is not None:
                cancel.raise_if_cancelled()
            return work(worker, should_stop)

        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            result = await race_cancel(loop.run_in_executor(worker.executor, run), cancel,
                                       on_abandon=lambda _future: stop_flag.set())
        except (Cancelled, BackendError):
            raise
        except Exception as exc:
            raise BackendError(f"{self.name}: {exc}") from exc
        return result, time.perf_counter() - started

    async def aclose(self) -> None:
        """Models stay loaded for the life of the process; they are shared between backends."""


def _to_reply(result: dict[str, Any], name: str, latency: float, structured: bool) -> Reply:
    choice = result["choices"][0]
    text = choice.get("text") or ""
    usage = result.get("usage") or {}
    parsed = None
    if structured:
        try:
            parsed = json.loads(text, strict=False)  # a raw newline inside a string is still an answer
        except json.JSONDecodeError:
            parsed = None  # truncated at max_tokens; callers treat a None parse as a failed candidate
    return Reply(
        text=text,
        parsed=parsed,
        usage=TokenUsage(prompt=usage.get("prompt_tokens", 0), completion=usage.get("completion_tokens", 0)),
        model=name,
        latency_s=latency,
        finish_reason=choice.get("finish_reason") or "",
    )
