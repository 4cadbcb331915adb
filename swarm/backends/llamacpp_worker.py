"""The loaded model behind the embedded backend: one llama.cpp context and the single thread
allowed to touch it (a context is not thread-safe), shared by every backend naming that model.

It applies the GGUF's own chat template, reads prompts in cancellable chunks (prefill.py), checks
each reply schema's grammar once, and either generates (`complete`) or reads the next-token
distribution (`next_token_probabilities`, for one-token answers).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from swarm_lsp.swarm import heap
from swarm_lsp.swarm.backends.base import BackendError, Message
from swarm_lsp.swarm.backends.prefill import Prefill, cancelled_completion

log = logging.getLogger(__name__)

INSTALL_HINT = 'the embedded backend needs llama-cpp-python: pip install "swarm-lsp[embedded]"'
# The model's thread, and the compute threads llama.cpp starts from it (they inherit it), run at a
# lower priority: the event loop that answers the editor (or the MCP client) keeps a core when it
# needs one, and the model still gets every idle cycle (measured in bench/event_loop.py).
MODEL_THREAD_NICE = 5
GRAMMAR_CACHE = 64  # checked grammars kept per model (one per distinct reply schema)


def _lower_thread_priority() -> None:
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, MODEL_THREAD_NICE))
    except (AttributeError, OSError) as exc:  # not Linux, or not permitted: keep the default priority
        log.debug("model thread priority unchanged: %s", exc)


def preload_library() -> None:
    """Import llama-cpp-python now (a server calls this on a thread as it starts): loading the
    shared library holds the GIL for ~0.3 s, which is better spent before the user's first job."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        log.debug("llama-cpp-python is not installed; the embedded backend will say so when used")


class _ModelWorker:
    """One loaded model and the single thread allowed to touch it."""

    def __init__(self, path: Path, n_ctx: int, threads: int | None) -> None:
        self.path, self.n_ctx, self.threads = path, n_ctx, threads
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{path.stem}",
                                           initializer=_lower_thread_priority)
        self._llama: Any = None
        self._chat_formatter: Any = None
        self.prefill = Prefill()
        self._grammars: dict[str, Any] = {}

    def llama(self) -> Any:  # called on the worker thread only
        if self._llama is None:
            self._llama = load_llama(self.path, n_ctx=self.n_ctx, threads=self.threads)
        return self._llama

    def _formatter(self, llama: Any) -> Any:
        if self._chat_formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise BackendError(f"{self.path.name} has no chat template in its metadata")
            token_text = llama._model.token_get_text
            self._chat_formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=token_text(llama.token_eos()),
                bos_token=token_text(llama.token_bos()) if llama.token_bos() >= 0 else "",
                stop_token_ids=[llama.token_eos()],
            )
        return self._chat_formatter

    def _grammar(self, llama: Any, schema: dict[str, Any]) -> Any:
        """The schema's grammar, checked once: llama.cpp crashes the process when sampling with a
        grammar it failed to parse, so a bad one is a BackendError here instead."""
        import llama_cpp
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
            sampler = llama_cpp.llama_sampler_init_grammar(
                llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))
            if not sampler:
                raise BackendError(f"{self.path.name}: the reply schema does not compile to a llama.cpp grammar")
            llama_cpp.llama_sampler_free(sampler)
            if len(self._grammars) >= GRAMMAR_CACHE:
                self._grammars.clear()
            self._grammars[key] = grammar
        return self._grammars[key]

    def _prompt_tokens(self, llama: Any, messages: list[Message], reply_tokens: int) -> tuple[Any, list[int]]:
        formatted = self._formatter(llama)(messages=messages)
        prompt = llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)
        if len(prompt) + reply_tokens > self.n_ctx:
            raise BackendError(
                f"prompt of {len(prompt)} tokens + {reply_tokens} for the reply exceeds the context of {self.n_ctx} "
                "(raise n_ctx or shorten the input)"
            )
        return formatted, prompt

    def next_token_probabilities(
        self, messages: list[Message], options: tuple[str, ...], should_stop: Callable[[], bool]
    ) -> tuple[dict[str, float], int] | None:
        """P(first token of the reply spells option) for each option (any capitalisation, with or
        without a leading space), and the prompt's token count; None when stopped. One forward pass:
        nothing is sampled, so the answer is exact and costs no reply tokens."""
        import numpy as np

        llama = self.llama()
        _formatted, prompt = self._prompt_tokens(llama, messages, 1)
        if self.prefill.run(llama, prompt, should_stop).stopped:
            return None
        llama.eval(prompt[-1:])
        logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),)).astype(np.float64)
        top = logits.max()
        log_total = top + np.log(np.exp(logits - top).sum())
        probabilities = {}
        for option in options:
            spellings = {option, option.capitalize(), option.upper(), " " + option, " " + option.capitalize()}
            ids = {llama.tokenize(s.encode("utf-8"), add_bos=False, special=False)[0] for s in spellings}
            probabilities[option] = float(sum(np.exp(logits[i] - log_total) for i in ids))
        return probabilities, len(prompt)

    def complete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        repeat_penalty: float,
        seed: int | None,
        stop: list[str],
        should_stop: Callable[[], bool],
    ) -> dict[str, Any]:
        """One chat completion; runs on the worker thread only."""
        from llama_cpp import StoppingCriteriaList

        llama = self.llama()
        formatted, prompt = self._prompt_tokens(llama, messages, max_tokens)
        read = self.prefill.run(llama, prompt, should_stop)
        if read.stopped:
            return cancelled_completion(read.read)
        criteria = [lambda _ids, _logits: should_stop()]
        if formatted.stopping_criteria is not None:
            criteria.extend(formatted.stopping_criteria)
        extra_stop = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop] if formatted.stop else []
        grammar = self._grammar(llama, schema) if schema else None
        return llama.create_completion(
            prompt=prompt,
            max_tokens=max_tokens,
            temperature=temperature,
            repeat_penalty=repeat_penalty,
            seed=seed,
            stop=stop + extra_stop,
            stopping_criteria=StoppingCriteriaList(criteria),
            grammar=grammar,
        )


    def close(self) -> None:
        self.executor.shutdown(wait=True)
        if self._llama is not None:
            self._llama.close()
            self._llama = None


_workers: dict[tuple[str, int, int | None], _ModelWorker] = {}
_workers_lock = threading.Lock()


@atexit.register
def _close_workers() -> None:
    # Free models before interpreter teardown; llama-cpp-python's __del__ fails once modules are gone.
    with _workers_lock:
        for worker in _workers.values():
            worker.close()
        _workers.clear()


def _worker_for(path: Path, n_ctx: int, threads: int | None) -> _ModelWorker:
    key = (str(path), n_ctx, threads)
    with _workers_lock:
        if key not in _workers:
            _workers[key] = _ModelWorker(path, n_ctx, threads)
        return _workers[key]


def load_llama(path: Path, *, n_ctx: int, threads: int | None, **options: Any) -> Any:
    """A llama.cpp model loaded without touching stdout (on which the LSP and MCP speak)."""
    try:
        import llama_cpp.llama as llama_module
        from llama_cpp import Llama
        from llama_cpp._logger import set_verbose
    except ImportError as exc:
        raise BackendError(INSTALL_HINT) from exc
    # verbose=False makes llama-cpp-python dup2 fds 1 and 2 onto /dev/null while it loads,
    # which swallows every LSP/MCP message written to stdout meanwhile. So load with
    # verbose=True (no fd juggling) and keep llama.cpp's own log at error level instead.
    llama_module.set_verbose = lambda verbose: set_verbose(False)
    started = time.perf_counter()
    chatter = io.StringIO()  # verbose=True also prints metadata with print(); keep it for debug logs
    with contextlib.redirect_stderr(chatter):
        llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads or os.cpu_count() or 1, verbose=True,
                      **options)
    log.debug("llama.cpp load output:\n%s", chatter.getvalue())
    llama.verbose = False  # after the load: no per-call prints (prefix reuse, timings)
    heap.settle()
    log.info("loaded %s in %.1fs", path.name, time.perf_counter() - started)
    return llama
