"""Ctrl-C for the command line: the first SIGINT (or a SIGTERM) cancels the running job through its
cancel token, exactly as an editor's cancel does, so the model stops at its next prompt chunk or
token, the job ends as `cancelled`, nothing is applied and the tokens already spent reach the
ledger. A second Ctrl-C quits at once."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from swarm_lsp.swarm.cancel import CancelToken

T = TypeVar("T")

NOTICE = "swarm-lsp: cancelling (press Ctrl-C again to quit at once)"


def run_interruptible(main: Callable[[CancelToken], Awaitable[T]], notice: Callable[[str], None] | None = None) -> T:
    """`asyncio.run(main(token))` with SIGINT/SIGTERM wired to `token`; raises KeyboardInterrupt on a
    second SIGINT."""

    async def runner() -> T:
        token = CancelToken()
        loop = asyncio.get_running_loop()

        def interrupted(signum: int) -> None:
            if token.cancelled and signum == signal.SIGINT:
                raise KeyboardInterrupt  # propagates out of the loop: the caller exits now
            (notice or _print)(NOTICE)
            token.cancel("interrupted" if signum == signal.SIGINT else "terminated")

        installed = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, interrupted, signum)
                installed.append(signum)
            except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
                pass
        try:
            return await main(token)
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)

    return asyncio.run(runner())


def _print(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
