"""The analysis process: pure CPU-bound work runs in another process (the GIL stays free for the
event loop), and when that process dies the work still gets done in this one."""

from __future__ import annotations

import os
import signal

from swarm_lsp.swarm import offload


def test_work_runs_in_another_process_which_is_kept():
    first = offload.in_worker_process(os.getpid)
    assert first != os.getpid()
    assert offload.in_worker_process(os.getpid) == first  # one process, started once


def test_exceptions_of_the_work_reach_the_caller():
    try:
        offload.in_worker_process(int, "not a number")
    except ValueError as exc:
        assert "not a number" in str(exc)
    else:
        raise AssertionError("the ValueError was lost")


async def test_a_dead_analysis_process_falls_back_to_this_process_and_is_replaced():
    pid = offload.in_worker_process(os.getpid)
    os.kill(pid, signal.SIGKILL)
    assert await offload.in_worker_process_async(os.getpid) == os.getpid()  # done here, not lost
    fresh = await offload.in_worker_process_async(os.getpid)
    assert fresh not in (pid, os.getpid())  # a new analysis process took over
    assert await offload.in_worker_process_async(os.getpid) == fresh
