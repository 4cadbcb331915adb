"""Ctrl-C on the command line (server/interrupt.py), with real signals sent to this process: the
first SIGINT or a SIGTERM cancels the job's token, a second SIGINT quits at once."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from swarm_lsp.server.interrupt import NOTICE, run_interruptible
from swarm_lsp.swarm.cancel import CancelToken


def send_soon(signum: int) -> None:
    asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signum)


def test_the_first_ctrl_c_cancels_the_token_and_the_job_ends_on_its_own():
    notices: list[str] = []

    async def job(cancel: CancelToken) -> str:
        send_soon(signal.SIGINT)
        await asyncio.wait_for(cancel.wait(), 30)
        return f"ended after {cancel.reason}"

    assert run_interruptible(job, notice=notices.append) == "ended after interrupted"
    assert notices == [NOTICE]


def test_sigterm_cancels_too():
    async def job(cancel: CancelToken) -> str:
        send_soon(signal.SIGTERM)
        await asyncio.wait_for(cancel.wait(), 30)
        return cancel.reason

    assert run_interruptible(job, notice=lambda _message: None) == "terminated"


def test_a_second_ctrl_c_quits_a_job_that_does_not_end():
    def again(_message: str) -> None:
        send_soon(signal.SIGINT)

    async def stuck(cancel: CancelToken) -> None:
        send_soon(signal.SIGINT)
        await asyncio.sleep(30)

    with pytest.raises(KeyboardInterrupt):
        run_interruptible(stuck, notice=again)


def test_handlers_are_removed_afterwards():
    async def job(cancel: CancelToken) -> bool:
        return cancel.cancelled

    before = signal.getsignal(signal.SIGINT)
    assert run_interruptible(job) is False
    assert signal.getsignal(signal.SIGINT) is before
