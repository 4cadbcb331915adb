"""Watching a sandboxed child that reports progress as JSON lines in a results file.

`Watchdog` is the cancel token `Sandbox.run` polls (about every 0.1 s): it passes the caller's
cancellation on and stops a child whose results stopped growing (a call stuck in C code, where
the child's own alarm cannot reach). `read_records` reads the lines a child wrote before it ended.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from swarm_lsp.swarm.cancel import CancelToken

START_SLACK_S = 2.0  # interpreter start-up, on top of the import and call limits


class Stalled(Exception):
    """A watched child made no progress for too long."""


class Watchdog(CancelToken):
    """Polled by `Sandbox.run` while the child runs (about every 0.1 s): passes the caller's
    cancellation on, and raises `Stalled` once the results file has not grown for `first_s`
    (before the first record: the import) or `then_s` (between records: one call), plus slack."""

    def __init__(self, cancel: CancelToken | None, path: Path, first_s: float, then_s: float) -> None:
        super().__init__()
        self.outer, self.path, self.first_s, self.then_s = cancel, path, first_s, then_s
        self.size, self.since = 0, time.monotonic()

    def raise_if_cancelled(self) -> None:
        if self.outer is not None:
            self.outer.raise_if_cancelled()
        try:
            size = self.path.stat().st_size
        except OSError:
            size = 0
        now = time.monotonic()
        if size != self.size:
            self.size, self.since = size, now
        if now - self.since > (self.then_s if size else self.first_s) + START_SLACK_S:
            raise Stalled()


def read_records(path: Path) -> list[dict[str, Any]]:
    """The child's JSON lines, up to the first that is incomplete (a child killed mid-write)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    records: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            break
        if not isinstance(record, dict):
            break
        records.append(record)
    return records
