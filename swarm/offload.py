"""Pure, CPU-bound analysis in a worker process. Python's parser and bandit hold the GIL for
hundreds of milliseconds on a big module, and a worker *thread* holding the GIL stalls the event
loop just the same (measured: ~300 ms pauses of `codeAction` while a 10,000-line audit ran on a
thread, bench/event_loop.py). One spawned process, started on first use and kept, takes that work.

Only module-level functions with picklable arguments and results go here. If the process cannot
be started or dies, the work runs in the calling thread instead: slower for the loop, never lost.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the parent has threads (the model's, the ledger writer) that a fork copies half-way
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _discard_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def in_worker_process(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` in the analysis process; called from a worker thread (it blocks until done)."""
    try:
        future = _get_pool().submit(fn, *args, **kwargs)
    except (OSError, RuntimeError) as exc:  # the process cannot start, or the pool is shut down
        return _inline(exc, fn, *args, **kwargs)
    try:
        return future.result()
    except BrokenProcessPool as exc:  # the process died (killed, out of memory)
        return _inline(exc, fn, *args, **kwargs)


def _inline(reason: BaseException, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    log.warning("analysis process unavailable (%s); running %s in this process", reason,
                getattr(fn, "__name__", fn))
    _discard_pool()
    return fn(*args, **kwargs)


async def in_worker_process_async(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`in_worker_process` for the event loop: awaits without blocking it."""
    return await asyncio.to_thread(in_worker_process, fn, *args, **kwargs)
