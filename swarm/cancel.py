"""A cancel token shared by the async engine and the model worker threads.

It is a `threading.Event` underneath because the embedded model generates on a worker thread
and checks the token between tokens; asyncio code only ever sets or reads it.
"""

from __future__ import annotations

import threading
from typing import Any


class Cancelled(Exception):
    """Raised inside a job when its cancel token was set. A model call that was cut short carries
    what it produced so far as `partial` (a backend Reply), so its tokens still reach the ledger."""

    def __init__(self, reason: str = "cancelled", partial: Any = None) -> None:
        super().__init__(reason)
        self.partial = partial


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled(self.reason or "cancelled")
