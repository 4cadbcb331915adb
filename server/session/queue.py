"""The session's one run queue: bounded, one run at a time (the embedded model has one worker and
uses every core), shared by every front end, with cancellation that reaches the model call.

A run is awaited by the front end that submitted it; cancelling that await (`$/cancelRequest`, an
MCP `notifications/cancelled`) or setting the run's CancelToken (`swarm.cancel`, a progress-token
cancel, Ctrl-C) ends it as `cancelled`, whether it is still waiting or already running.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypeVar

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.errors import Busy

log = logging.getLogger(__name__)

T = TypeVar("T")

QUEUE_POLL_S = 0.1  # how often a queued job looks at its cancel token


class QueueFull(Busy):
    """More runs are waiting than the configured limit allows."""


@dataclass
class QueuedRun:
    """One action submitted to the session: what it is, who sent it, where it stands."""

    id: str
    action: str
    target: str  # what the user named: a URI or path and a symbol
    origin: str = "lsp"  # the front end that submitted it: lsp | mcp | cli
    state: str = "queued"  # queued | running | done | cancelled | failed
    stage: str = ""  # the latest progress message
    cancel: CancelToken = field(default_factory=CancelToken)
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None

    def describe(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "id": self.id, "action": self.action, "target": self.target, "origin": self.origin, "state": self.state,
            "stage": self.stage, "waited_s": round((self.started or now) - self.submitted, 3),
            "running_s": round(now - self.started, 3) if self.started else 0.0,
        }


class RunQueue:
    def __init__(self, max_queued: int = 8, concurrency: int = 1) -> None:
        self.max_queued = max_queued
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._jobs: dict[str, QueuedRun] = {}
        self._ids = itertools.count(1)
        self.finished = 0

    def new_run(self, action: str, target: str, origin: str = "lsp", cancel: CancelToken | None = None) -> QueuedRun:
        waiting = sum(1 for job in self._jobs.values() if job.state == "queued")
        running = sum(1 for job in self._jobs.values() if job.state == "running")
        must_wait = waiting > 0 or running >= self.concurrency
        if must_wait and waiting >= self.max_queued:  # a job that can start at once is never refused
            if self.max_queued == 0:
                raise QueueFull("a swarm job is running and none may wait (max_queued_jobs = 0); try again later")
            raise QueueFull(f"{waiting} swarm jobs are already waiting (limit {self.max_queued}); try again later")
        job = QueuedRun(id=f"job-{next(self._ids)}", action=action, target=target, origin=origin,
                        cancel=cancel or CancelToken())
        self._jobs[job.id] = job
        return job

    async def run(self, job: QueuedRun, work: Callable[[QueuedRun], Awaitable[T]]) -> T:
        """Wait for a free slot, then run `work(job)`; asyncio cancellation also sets the job's token.
        A job cancelled while it waits in the queue leaves it at once (raising Cancelled)."""
        try:
            await self._acquire(job)
            try:
                job.state, job.started = "running", time.monotonic()
                result = await work(job)
                job.state = "cancelled" if job.cancel.cancelled else "done"
                return result
            finally:
                self._slots.release()
        except asyncio.CancelledError:
            job.cancel.cancel("request cancelled")
            job.state = "cancelled"
            raise
        except BaseException:
            job.state = "cancelled" if job.cancel.cancelled else "failed"
            raise
        finally:
            self.finished += 1
            self._forget_finished()

    async def _acquire(self, job: QueuedRun) -> None:
        acquiring = asyncio.ensure_future(self._slots.acquire())
        try:
            while not acquiring.done():
                await asyncio.wait({acquiring}, timeout=QUEUE_POLL_S)
                if job.cancel.cancelled and not acquiring.done():
                    acquiring.cancel()
        except asyncio.CancelledError:
            if acquiring.done() and not acquiring.cancelled():
                self._slots.release()  # acquired just as the request was cancelled
            acquiring.cancel()
            raise
        if acquiring.cancelled():
            job.cancel.raise_if_cancelled()
        if job.cancel.cancelled:
            self._slots.release()
            job.cancel.raise_if_cancelled()

    def cancel(self, job_id: str) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.state not in ("queued", "running"):
            return False
        job.cancel.cancel("cancelled by the user")
        return True

    def active(self) -> list[QueuedRun]:
        return [job for job in self._jobs.values() if job.state in ("queued", "running")]

    def status(self) -> dict[str, Any]:
        active = self.active()
        return {
            "running": [j.describe() for j in active if j.state == "running"],
            "queued": [j.describe() for j in active if j.state == "queued"],
            "queue_limit": self.max_queued,
        }

    def _forget_finished(self, keep: int = 50) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.state not in ("queued", "running")]
        for job_id in finished[:-keep]:
            del self._jobs[job_id]
