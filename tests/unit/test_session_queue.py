"""The session's run queue: one run at a time, bounded, cancellable while waiting or running."""

from __future__ import annotations

import asyncio

import pytest

from swarm_lsp.server.session.queue import QueueFull, RunQueue
from swarm_lsp.swarm.cancel import Cancelled


async def test_jobs_run_one_at_a_time_and_the_queue_is_bounded():
    manager = RunQueue(max_queued=1)
    order: list[str] = []
    release = asyncio.Event()

    async def work(job):
        order.append(f"start {job.id}")
        await release.wait()
        order.append(f"end {job.id}")
        return job.id

    first = manager.new_run("document", "u::f")
    tasks = [asyncio.ensure_future(manager.run(first, work))]
    await asyncio.sleep(0.05)
    second = manager.new_run("document", "u::g")
    tasks.append(asyncio.ensure_future(manager.run(second, work)))
    await asyncio.sleep(0.05)
    assert manager.status()["running"][0]["id"] == first.id and manager.status()["queued"][0]["id"] == second.id
    with pytest.raises(QueueFull, match="limit 1"):
        manager.new_run("document", "u::h")
    release.set()
    assert await asyncio.gather(*tasks) == [first.id, second.id]
    assert order == [f"start {first.id}", f"end {first.id}", f"start {second.id}", f"end {second.id}"]
    assert manager.status()["running"] == [] and first.state == "done"


async def test_a_queue_of_zero_still_runs_a_job_when_idle_and_refuses_one_that_would_wait():
    manager = RunQueue(max_queued=0)
    release = asyncio.Event()

    async def work(job):
        await release.wait()
        return job.id

    first = manager.new_run("document", "u::f")  # nothing runs: it starts at once, nothing waits
    task = asyncio.ensure_future(manager.run(first, work))
    with pytest.raises(QueueFull, match="none may wait"):
        manager.new_run("document", "u::g")
    await asyncio.sleep(0.05)
    with pytest.raises(QueueFull, match=r"max_queued_jobs = 0"):
        manager.new_run("document", "u::g")
    release.set()
    assert await task == first.id
    second = manager.new_run("document", "u::h")  # idle again
    assert await manager.run(second, work) == second.id


async def test_a_queued_job_can_be_cancelled_without_waiting_for_the_running_one():
    manager = RunQueue()
    blocker = asyncio.Event()

    async def work(job):
        await blocker.wait()

    running, queued = manager.new_run("document", "u::f"), manager.new_run("document", "u::g")
    first = asyncio.ensure_future(manager.run(running, work))
    second = asyncio.ensure_future(manager.run(queued, work))
    await asyncio.sleep(0.05)
    assert manager.cancel(queued.id)
    with pytest.raises(Cancelled):
        await asyncio.wait_for(second, timeout=60)  # a hang guard: it would wait for `blocker` forever
    assert queued.state == "cancelled" and running.state == "running"
    blocker.set()
    await first
    assert not manager.cancel(running.id)  # already finished


async def test_asyncio_cancellation_sets_the_token():
    manager = RunQueue()
    job = manager.new_run("document", "u::f")
    task = asyncio.ensure_future(manager.run(job, lambda job: asyncio.sleep(10)))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert job.cancel.cancelled and job.state == "cancelled"
