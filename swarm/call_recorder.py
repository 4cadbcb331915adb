"""Every model call of one action, counted in its result and written to the ledger off the event
loop: rows go to one writer thread in the order they were made, and `drain()` waits for them, so
a finished action's rows are in the ledger when `Swarm.run` returns.

A ledger fault (locked past the busy timeout, disk full, damaged: a `LedgerError`) never fails the
action: it is logged as a warning (stderr) and named in the result's `evidence["ledger"]`.
Other exceptions are bugs and still raise."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from swarm_lsp.swarm.backends.base import Reply
from swarm_lsp.swarm.ledger import ActionRecord, CallRecord, Ledger, LedgerError
from swarm_lsp.swarm.tiers import is_cloud
from swarm_lsp.swarm.types import ActionResult

# One thread for every ledger in the process: SQLite serialises writers anyway, and one thread
# keeps the rows of a job in the order its calls were made.
_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="swarm-ledger")

log = logging.getLogger(__name__)


@dataclass
class CallRecorder:
    ledger: Ledger | None
    result: ActionResult
    workspace: str
    action_id: str
    language: str | None = None  # the target's, once known (adaptive routing groups by them)
    target_lines: int = 0
    _pending: list[asyncio.Future] = field(default_factory=list)

    def call(self, tier: str, backend_name: str, reply: Reply | None, outcome: str, error: str = "") -> None:
        cloud = is_cloud(backend_name)
        usage = reply.usage if reply else None
        if usage:
            self.result.usage.add(backend_name, usage.prompt, usage.completion, cloud=cloud,
                                  cache_read=usage.cache_read, cache_write=usage.cache_write)
        self._write(self.ledger.record_call if self.ledger else None, CallRecord(
            workspace=self.workspace, action_id=self.action_id, action=self.result.action,
            tier=tier, backend=backend_name, model=reply.model if reply else backend_name, cloud=cloud,
            prompt_tokens=usage.prompt if usage else 0, completion_tokens=usage.completion if usage else 0,
            cache_read_tokens=usage.cache_read if usage else 0, cache_write_tokens=usage.cache_write if usage else 0,
            latency_s=reply.latency_s if reply else 0.0, outcome=outcome, error=error or None,
            usage_estimated=bool(reply and usage and reply.extra.get("usage_estimated")),
        ))

    def action(self) -> None:
        result = self.result
        self._write(self.ledger.record_action if self.ledger else None, ActionRecord(
            action_id=self.action_id, workspace=self.workspace, action=result.action, target=result.target,
            status=result.status, tier=result.tier, local_tokens=result.usage.local_tokens,
            cloud_tokens=result.usage.cloud_tokens, elapsed_s=result.elapsed_s,
            language=self.language, target_lines=self.target_lines,
        ))

    def _write(self, write, record) -> None:
        if write is not None:
            self._pending.append(asyncio.get_running_loop().run_in_executor(_WRITER, write, record))

    async def drain(self) -> None:
        """Wait until every row written so far is in the ledger (even when the caller is cancelled)."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        outcomes = await asyncio.shield(asyncio.gather(*pending, return_exceptions=True))
        faults = [str(o) for o in outcomes if isinstance(o, LedgerError)]
        if faults:
            note = f"{len(faults)} of {len(outcomes)} ledger rows not written: {faults[-1]}"
            log.warning("action %s (%s): %s", self.action_id, self.result.action, note)
            self.result.evidence["ledger"] = note
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, LedgerError):
                raise outcome
