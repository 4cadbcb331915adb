"""A cancel token shared by the async engine and the worker threads, and the one way blocking work
is awaited so that a cancelled job ends on time whatever its thread is doing.

The token is a `threading.Event` underneath because the embedded model and the gates run on worker
threads and check it at their own safe points (between prompt chunks and tokens, between sandbox
polls); asyncio code sets it, reads it, or awaits it with `wait()`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from swarm_lsp.swarm.errors import SwarmLspError

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long a cancelled job waits for its worker thread to reach its next cancel check before it ends
# without it. Well-behaved work stops sooner (a prompt chunk, one token, a 0.1 s sandbox poll).
CANCEL_GRACE_S = 0.5


class Cancelled(SwarmLspError):
    """Raised inside a job when its cancel token was set. A model call that was cut short carries
    what it produced so far as `partial` (a backend Reply), so its tokens still reach the ledger."""

    def __init__(self, reason: str = "cancelled", partial: Any = None) -> None:
        super().__init__(reason)
        self.partial = partial


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        with self._lock:
            if self._event.is_set():
                return
            self.reason = reason
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a waiter whose loop is gone must not stop the others
                log.debug("cancel callback failed", exc_info=True)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled(self.reason or "cancelled")

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` (from the cancelling thread) when the token is cancelled, at once if it
        already is. Returns a function that unregisters it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._discard(callback)
        callback()
        return lambda: None

    def _discard(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    async def wait(self) -> None:
        """Return once the token is cancelled (from any thread)."""
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def wake() -> None:
            def resolve() -> None:
                if not woken.done():
                    woken.set_result(None)
            try:
                loop.call_soon_threadsafe(resolve)
            except RuntimeError:  # the loop closed meanwhile: nobody is waiting any more
                pass

        remove = self.on_cancel(wake)
        try:
            await woken
        finally:
            remove()


async def race_cancel(work: Awaitable[T], cancel: CancelToken | None, *, grace_s: float = CANCEL_GRACE_S,
                      on_abandon: Callable[[asyncio.Future], None] | None = None) -> T:
    """Await `work`. If `cancel` fires first, `work` gets `grace_s` to notice and finish (and to
    raise its own `Cancelled` with what it produced); then `Cancelled` is raised without it. A
    coroutine is run as a task and that task is cancelled; a future (a worker thread's) is left to
    finish, and `on_abandon` receives it so the caller can release what it uses once it is done."""
    owned = asyncio.iscoroutine(work)
    future = asyncio.ensure_future(work)
    # `asyncio.wait`, not `await future`: an asyncio cancellation of the caller must not mark a
    # thread's future done while the thread still runs (it is abandoned instead, token or not).
    waiter = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    try:
        await asyncio.wait({future} if waiter is None else {future, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if not future.done():
            await asyncio.wait({future}, timeout=grace_s)
    except asyncio.CancelledError:
        _abandon(future, owned, on_abandon)
        raise
    finally:
        if waiter is not None:
            waiter.cancel()
    if future.done():
        return future.result()
    _abandon(future, owned, on_abandon)
    # Only a fired token leaves `future` unfinished: without one, the wait above ends with it.
    raise Cancelled((cancel.reason if cancel is not None else None) or "cancelled")


def _abandon(future: asyncio.Future, owned: bool, on_abandon: Callable[[asyncio.Future], None] | None) -> None:
    if future.done():
        return
    if owned:  # our own task: stop it (a thread's future cannot be stopped, only left)
        future.cancel()

    def retrieve(done: asyncio.Future) -> None:  # nobody awaits it any more: keep its error out of the logs
        if not done.cancelled() and done.exception() is not None:
            log.debug("abandoned work ended with %r", done.exception())

    future.add_done_callback(retrieve)
    if on_abandon is not None:
        on_abandon(future)


async def in_thread(cancel: CancelToken | None, fn: Callable[..., T], *args: Any,
                    grace_s: float = CANCEL_GRACE_S, on_abandon: Callable[[asyncio.Future], None] | None = None) -> T:
    """`fn(*args)` on a worker thread, ended early (see `race_cancel`) when `cancel` fires. A plain
    executor future, not a task: the loop's shutdown must not mark it done while its thread still runs."""
    future = asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))
    return await race_cancel(future, cancel, grace_s=grace_s, on_abandon=on_abandon)


class Lingering:
    """Worker-thread futures a cancelled job stopped waiting for; `then` runs the job's clean-up only
    once they have all ended, so nothing is torn down under a thread that still uses it."""

    def __init__(self) -> None:
        self._pending: set[asyncio.Future] = set()

    def add(self, future: asyncio.Future) -> None:
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def then(self, cleanup: Callable[[], None]) -> None:
        pending = [future for future in self._pending if not future.done()]
        if not pending:
            cleanup()
            return
        remaining = len(pending)

        def one_ended(_future: asyncio.Future) -> None:
            nonlocal remaining
            remaining -= 1
            if remaining == 0:
                try:
                    cleanup()
                except Exception:
                    log.exception("clean-up after a cancelled job failed")

        for future in pending:
            future.add_done_callback(one_ended)
