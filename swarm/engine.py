"""`Swarm.run`: the one entry point every front end (CLI, LSP, MCP) calls.

This is the walking-skeleton engine: tiers are tried in order, each with up to `candidates`
writer attempts; every reply goes through the action's deterministic gates, and the failed
gates' reasons are fed to the next attempt. The first candidate that passes every gate is
accepted. (Reviewer quorum and escalation policy arrive with issue #3.)
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from swarm_lsp.swarm.actions import get_action
from swarm_lsp.swarm.actions.base import Evaluation, Job
from swarm_lsp.swarm.backends.base import Backend, BackendError, Reply
from swarm_lsp.swarm.cancel import CancelToken, Cancelled
from swarm_lsp.swarm.events import Event, EventSink, emit
from swarm_lsp.swarm.ledger import ActionRecord, CallRecord, Ledger
from swarm_lsp.swarm.types import ActionRequest, ActionResult, Attempt, Edit

log = logging.getLogger(__name__)

BackendFactory = Callable[[str], Backend]


@dataclass(frozen=True)
class SwarmSettings:
    tiers: tuple[str, ...]
    candidates: int = 3
    max_tokens: int = 512
    temperature: float = 0.2
    seed: int = 0


class Swarm:
    def __init__(self, settings: SwarmSettings, backends: BackendFactory, ledger: Ledger | None = None):
        if not settings.tiers:
            raise ValueError("at least one tier is needed")
        self.settings = settings
        self._backend_factory = backends
        self._backends: dict[str, Backend] = {}
        self.ledger = ledger

    def backend(self, name: str) -> Backend:
        if name not in self._backends:
            self._backends[name] = self._backend_factory(name)
        return self._backends[name]

    async def run(
        self,
        request: ActionRequest,
        *,
        events: EventSink | None = None,
        cancel: CancelToken | None = None,
    ) -> ActionResult:
        """Run one action; input errors (bad symbol...) raise ActionInputError before any model call."""
        started = time.perf_counter()
        cancel = cancel or CancelToken()
        emit(events, Event("analyse", f"analysing {request.document.path}::{request.target}"))
        job = get_action(request.kind).prepare(request, request.options)
        result = ActionResult(action=request.kind, target=f"{request.document.path}::{job.target_label}", status="rejected")
        run = _Run(self, request, job, result, events, cancel, uuid.uuid4().hex)
        try:
            accepted = await run.tiers()
        except (Cancelled, asyncio.CancelledError):
            result.status, result.message = "cancelled", "cancelled by the user"
            accepted = None
        result.evidence = job.evidence(accepted)
        result.elapsed_s = round(time.perf_counter() - started, 3)
        if accepted is None and result.status != "cancelled":
            run.explain_rejection()
        emit(events, Event("done", result.message or result.status, tier=result.tier))
        self._record_action(request, result, run.action_id)
        return result

    def _record_action(self, request: ActionRequest, result: ActionResult, action_id: str) -> None:
        if self.ledger is None:
            return
        self.ledger.record_action(
            ActionRecord(
                action_id=action_id,
                workspace=request.workspace,
                action=request.kind,
                target=result.target,
                status=result.status,
                tier=result.tier,
                local_tokens=result.usage.local_tokens,
                cloud_tokens=result.usage.cloud_tokens,
                elapsed_s=result.elapsed_s,
            )
        )


class _Run:
    """The mutable state of one `Swarm.run` call."""

    def __init__(self, swarm, request, job: Job, result: ActionResult, events, cancel, action_id):
        self.swarm, self.request, self.job, self.result = swarm, request, job, result
        self.events, self.cancel, self.action_id = events, cancel, action_id
        self.feedback: list[str] = []

    async def tiers(self) -> Evaluation | None:
        settings = self.swarm.settings
        for tier in settings.tiers:
            for index in range(settings.candidates):
                self.cancel.raise_if_cancelled()
                evaluation = await self.candidate(tier, index)
                if evaluation is not None and evaluation.passed:
                    self.accept(tier, evaluation)
                    return evaluation
        return None

    async def candidate(self, tier: str, index: int) -> Evaluation | None:
        settings = self.swarm.settings
        attempt = Attempt(tier=tier, candidate=index)
        self.result.attempts.append(attempt)
        emit(self.events, Event("write", f"{tier}: writing candidate {index + 1}", tier, index))
        try:
            backend = self.swarm.backend(tier)
            reply = await backend.chat(
                self.job.messages(self.feedback),
                schema=self.job.schema,
                max_tokens=self.job.max_tokens or settings.max_tokens,
                # later candidates explore more: diversity is what makes k > 1 worth its tokens
                temperature=min(1.0, settings.temperature + 0.25 * index),
                seed=settings.seed + index,
                stop=self.job.stop or None,
                cancel=self.cancel,
            )
        except BackendError as exc:
            attempt.error = str(exc)
            self.record_call(tier, None, "error", str(exc))
            log.warning("%s candidate %d failed: %s", tier, index, exc)
            return None
        except (Cancelled, asyncio.CancelledError):
            self.record_call(tier, None, "cancelled", "")
            raise
        self.record_call(tier, reply, "ok", "")
        emit(self.events, Event("gates", f"{tier}: checking candidate {index + 1}", tier, index))
        evaluation = self.job.evaluate(reply)
        attempt.gates, attempt.output, attempt.passed = evaluation.gates, evaluation.output, evaluation.passed
        failed = [g.name for g in evaluation.gates if not g.passed]
        emit(
            self.events,
            Event("gates", f"{tier}: candidate {index + 1} " + (f"failed {', '.join(failed)}" if failed else "passed"),
                  tier, index, {"failed": failed}),
        )
        if not evaluation.passed:
            self.feedback = evaluation.feedback()
        return evaluation

    def accept(self, tier: str, evaluation: Evaluation) -> None:
        document = self.request.document
        assert evaluation.new_text is not None
        diff = "".join(
            difflib.unified_diff(
                document.text.splitlines(keepends=True),
                evaluation.new_text.splitlines(keepends=True),
                fromfile=f"a/{document.path}",
                tofile=f"b/{document.path}",
            )
        )
        self.result.edits.append(Edit(document.path, document.version, diff, evaluation.new_text))
        self.result.status, self.result.tier = "accepted", tier
        self.result.message = f"accepted from {tier}"

    def explain_rejection(self) -> None:
        attempts = self.result.attempts
        if attempts and all(a.error for a in attempts):
            self.result.status = "failed"
            self.result.message = f"every model call failed; last error: {attempts[-1].error}"
            return
        failed_gates = sorted({g.name for a in attempts for g in a.gates if not g.passed})
        self.result.message = (
            f"no candidate passed the gates after {len(attempts)} attempts (failed: {', '.join(failed_gates)})"
        )

    def record_call(self, tier: str, reply: Reply | None, outcome: str, error: str) -> None:
        backend = self.swarm._backends.get(tier)
        cloud = bool(getattr(backend, "is_cloud", False))
        usage = reply.usage if reply else None
        if usage:
            self.result.usage.add(tier, usage.prompt, usage.completion, cloud=cloud)
        if self.swarm.ledger is None:
            return
        self.swarm.ledger.record_call(
            CallRecord(
                workspace=self.request.workspace,
                action_id=self.action_id,
                action=self.request.kind,
                tier=tier,
                backend=tier,
                model=reply.model if reply else tier,
                cloud=cloud,
                prompt_tokens=usage.prompt if usage else 0,
                completion_tokens=usage.completion if usage else 0,
                cache_read_tokens=usage.cache_read if usage else 0,
                cache_write_tokens=usage.cache_write if usage else 0,
                latency_s=reply.latency_s if reply else 0.0,
                outcome=outcome,
                error=error or None,
            )
        )
