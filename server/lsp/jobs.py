"""Model jobs of the language server: a bounded queue, one job running at a time per server
(the embedded model has one worker), cancellation that reaches the model call.

A job is an asyncio task; `$/cancelRequest` on the command that started it cancels the task, a
progress-token cancel or `swarm.cancel` sets its CancelToken; both end in a `cancelled` result.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from swarm_lsp.swarm.cancel import CancelToken

log = logging.getLogger(__name__)

QUEUE_POLL_S = 0.1  # how often a queued job looks at its cancel token


class QueueFull(RuntimeError):
    """More jobs are waiting than the configured limit allows."""


@dataclass
class Job:
    id: str
    action: str
    uri: str
    symbol: str
    state: str = "queued"  # queued | running | done | cancelled | failed
    stage: str = ""  # the latest progress message
    cancel: CancelToken = field(default_factory=CancelToken)
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None

    def describe(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "id": self.id, "action": self.action, "uri": self.uri, "symbol": self.symbol, "state": self.state,
            "stage": self.stage, "waited_s": round((self.started or now) - self.submitted, 3),
            "running_s": round(now - self.started, 3) if self.started else 0.0,
        }


class JobManager:
    def __init__(self, max_queued: int = 8, concurrency: int = 1) -> None:
        self.max_queued = max_queued
        self._slots = asyncio.Semaphore(concurrency)
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)

    def new_job(self, action: str, uri: str, symbol: str) -> Job:
        waiting = sum(1 for job in self._jobs.values() if job.state == "queued")
        if waiting >= self.max_queued:
            raise QueueFull(f"{waiting} swarm jobs are already waiting (limit {self.max_queued}); try again later")
        job = Job(id=f"job-{next(self._ids)}", action=action, uri=uri, symbol=symbol)
        self._jobs[job.id] = job
        return job

    async def run(self, job: Job, work: Callable[[Job], Awaitable[Any]]) -> Any:
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
            self._forget_finished()

    async def _acquire(self, job: Job) -> None:
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

    def active(self) -> list[Job]:
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
