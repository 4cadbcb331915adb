"""The embedded model's thread runs below the event loop's priority, so the language server keeps
answering while a model generates; the threads llama.cpp starts from it inherit that (Linux)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from swarm_lsp.swarm.backends.llamacpp import MODEL_THREAD_NICE, _ModelWorker


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are a Linux feature")
def test_the_model_thread_and_the_threads_it_starts_are_nicer_than_the_caller(tmp_path: Path) -> None:
    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def nice_of_a_thread_started_here() -> int:
        seen: list[int] = []
        child = threading.Thread(target=lambda: seen.append(nice()))
        child.start()
        child.join()
        return seen[0]

    worker = _ModelWorker(tmp_path / "model.gguf", n_ctx=512, threads=1)
    try:
        on_worker = worker.executor.submit(nice).result(timeout=60)
        started_there = worker.executor.submit(nice_of_a_thread_started_here).result(timeout=60)
    finally:
        worker.executor.shutdown()
    assert on_worker >= MODEL_THREAD_NICE and started_there >= MODEL_THREAD_NICE
    assert nice() < MODEL_THREAD_NICE  # the calling thread (the event loop's) is untouched
