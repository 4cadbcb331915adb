"""`Swarm.run`: the one entry point every front end (CLI, LSP, MCP) calls.

The swarm owns the backends (one object per tier name, models loaded once), the ledger and the
settings; each call to `run` analyses the request through the action registry and hands the rest
to an `ActionRun` (swarm/run.py): tiers in escalation order, writers, gates, reviewer quorum.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from swarm_lsp.swarm.actions import get_action
from swarm_lsp.swarm.analysis.languages import language_for_path
from swarm_lsp.swarm.analysis.symbols import target_source
from swarm_lsp.swarm.actions.base import ActionInputError, ActionJob
from swarm_lsp.swarm.backends.base import Backend
from swarm_lsp.swarm.call_recorder import CallRecorder
from swarm_lsp.swarm.cancel import CancelToken, Cancelled, Lingering, in_thread
from swarm_lsp.swarm.events import Event, EventSink, emit
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.memory.context import RelatedContext, context_for
from swarm_lsp.swarm.run import ActionRun, BackendFactory, RunContext
from swarm_lsp.swarm.settings import SwarmSettings
from swarm_lsp.swarm.routing import TierOutcome, route
from swarm_lsp.swarm.tiers import CloudBudget, TierSpec, parse_tier, plan_tiers, start_of_today
from swarm_lsp.swarm.types import ActionRequest, ActionResult

if TYPE_CHECKING:
    from swarm_lsp.swarm.memory.index import MemoryIndex

log = logging.getLogger(__name__)

__all__ = ["Swarm", "SwarmSettings", "BackendFactory", "MemoryProvider"]

MemoryProvider = Callable[[str], "MemoryIndex | None"]  # workspace -> its memory (None: off)


class Swarm:
    """The loaded backends (one object per tier name, shared by every run) and the ledger, with
    default settings that a run may replace (a session's per-job overrides)."""

    def __init__(self, settings: SwarmSettings, backends: BackendFactory, ledger: Ledger | None = None,
                 memory: MemoryProvider | None = None):
        if not settings.tiers:
            raise ValueError("at least one tier is needed")
        self.settings = settings
        self.memory = memory  # the workspace's memory, for the writer's related code (context_tokens)
        self._backend_factory = backends
        self._backends: dict[str, Backend] = {}
        self.ledger = ledger

    def backend(self, name: str) -> Backend:
        if name not in self._backends:
            self._backends[name] = self._backend_factory(name)
        return self._backends[name]

    def cloud_budget(self, settings: SwarmSettings) -> CloudBudget:
        def spent_today() -> int:
            if self.ledger is None:
                return 0
            totals = self.ledger.totals(since=start_of_today())  # local calls never have cache tokens
            return int(totals["cloud_tokens"] + totals["cache_read_tokens"] + totals["cache_write_tokens"])

        return CloudBudget(settings.cloud_budget_action, settings.cloud_budget_day, spent_today)

    async def run(
        self,
        request: ActionRequest,
        *,
        events: EventSink | None = None,
        cancel: CancelToken | None = None,
        settings: SwarmSettings | None = None,
    ) -> ActionResult:
        """Run one action with `settings` (default: the swarm's); input errors (bad symbol,
        impossible escalation) raise ActionInputError before any model call."""
        started = time.perf_counter()
        cancel = cancel or CancelToken()
        settings = settings or self.settings
        try:
            plan = [parse_tier(spec) for spec in plan_tiers(settings.tiers, settings.escalation)]
        except ValueError as exc:
            raise ActionInputError(str(exc)) from exc
        where = f"{request.document.path}::{request.target}" if request.target else request.document.path
        emit(events, Event("analyse", f"analysing {where}"))
        result = ActionResult(action=request.kind, status="rejected", target=where)
        lingering = Lingering()
        recorder = CallRecorder(self.ledger, result, request.workspace, uuid.uuid4().hex)
        context = RunContext(settings, self.backend, self.cloud_budget(settings), recorder, lingering)
        job: ActionJob | None = None
        run: ActionRun | None = None
        related: RelatedContext | str | None = None
        routed: list[TierOutcome] = []
        accepted = None
        blocked = False
        try:
            # Off the event loop, and dropped at once on cancel (it never looks at the token, and
            # holds nothing to release): an audit's bandit pass over a big module takes seconds.
            job = await in_thread(cancel, get_action(request.kind).prepare, request, grace_s=0)
            if job.target_label:
                result.target = f"{request.document.path}::{job.target_label}"
            plan, routed = await self._route(plan, request, job, recorder, settings, events, cancel)
            run = ActionRun(context, request, job, result, events, cancel)
            related = await self._related(request, job, settings, events, cancel)
            run.context_text = related.text if isinstance(related, RelatedContext) else ""
            blocked = await self._prerequisite(job, result, events, cancel, lingering, settings)
            accepted = None if blocked else await run.tiers(plan)
            if accepted is not None:
                emit(events, Event("verify", f"measuring the accepted {request.kind} result"))
                if await in_thread(cancel, job.finalize, accepted, cancel, on_abandon=lingering.add):
                    run.replace_edit(accepted)
        except (Cancelled, asyncio.CancelledError):
            cancel.cancel("cancelled")
            result.status, result.message = "cancelled", "cancelled by the user"
            result.edits.clear()
            accepted = None
        finally:
            if job is not None:
                lingering.then(job.close)  # never under a gate thread that is still finishing
        result.evidence = job.evidence(accepted) if job is not None else {}
        if routed:
            result.evidence["routing"] = [outcome.to_dict() for outcome in routed]
        if related is not None:
            result.evidence["context"] = related.evidence() if isinstance(related, RelatedContext) else {"error": related}
        result.elapsed_s = round(time.perf_counter() - started, 3)
        if accepted is None and result.status != "cancelled" and not blocked and run is not None:
            run.explain_rejection()
        if job is not None and isinstance(related, RelatedContext) and result.status == "accepted" and result.edits:
            await self._remember(request, job, result)
        emit(events, Event("done", result.message or result.status, tier=result.tier))
        recorder.action()
        await recorder.drain()
        return result

    async def _route(self, plan: list[TierSpec], request: ActionRequest, job: ActionJob, recorder: CallRecorder,
                     settings: SwarmSettings, events: EventSink | None,
                     cancel: CancelToken) -> tuple[list[TierSpec], list[TierOutcome]]:
        """Note the target's language and size for the ledger; with adaptive routing, drop the tiers
        its history says fail on this kind of work (swarm/routing.py)."""
        def extent() -> int:  # a parse: off the event loop
            return target_source(request.document.text, request.document.path, job.target_label)[0].count("\n") + 1

        recorder.language = language_for_path(request.document.path)
        recorder.target_lines = await in_thread(cancel, extent, grace_s=0)
        if settings.routing != "adaptive" or self.ledger is None:
            return plan, []
        kept, decided = await in_thread(cancel, lambda: route(
            plan, self.ledger, action=request.kind, language=recorder.language, lines=recorder.target_lines,
            workspace=request.workspace))
        for outcome in decided:
            if outcome.skipped:
                emit(events, Event("progress", outcome.message(), outcome.tier))
        return kept, decided

    async def _related(self, request: ActionRequest, job: ActionJob, settings: SwarmSettings,
                       events: EventSink | None, cancel: CancelToken) -> RelatedContext | str | None:
        """The related code for the writer (None: none asked for; a string: why there is none). A
        memory that fails never fails the action."""
        if settings.context_tokens <= 0 or self.memory is None:
            return None
        emit(events, Event("analyse", "looking up related code in the project's memory"))
        try:
            memory = await in_thread(cancel, self.memory, request.workspace, grace_s=0)
            if memory is None:
                return "the memory is off or unavailable"
            return await in_thread(cancel, context_for, memory, request.document.path, request.document.text,
                                   job.target_label, settings.context_tokens, request.kind, grace_s=0)
        except (Cancelled, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - the action goes on without context
            log.warning("no related code for %s: %s", request.document.path, exc)
            return f"no related code: {exc}"

    async def _remember(self, request: ActionRequest, job: ActionJob, result: ActionResult) -> None:
        """Keep the accepted output in the memory as an example for later actions of its kind."""
        output = "\n".join(edit.diff for edit in result.edits)

        def keep() -> None:
            memory = self.memory(request.workspace) if self.memory else None
            if memory is not None:
                code, symbol = target_source(request.document.text, request.document.path, job.target_label)
                memory.remember(request.kind, request.document.path, symbol, code, output)

        try:
            await asyncio.to_thread(keep)
        except Exception as exc:  # noqa: BLE001 - the action is done; the example is only lost
            log.warning("accepted %s output not kept in the memory: %s", request.kind, exc)

    async def _prerequisite(self, job: ActionJob, result: ActionResult, events: EventSink | None,
                            cancel: CancelToken, lingering: Lingering, settings: SwarmSettings) -> bool:
        """Run the action the job needs first (e.g. characterization tests before a refactor);
        True when the job cannot go on, with the reason in `result.message`."""
        request = await in_thread(cancel, job.prerequisite, cancel, on_abandon=lingering.add)
        if request is None:
            return False
        emit(events, Event("analyse", f"{job.target_label}: running `{request.kind}` first"))
        sub = await self.run(request, events=events, cancel=cancel, settings=settings)
        result.usage.merge(sub.usage)
        if sub.status == "cancelled":
            raise Cancelled("cancelled")
        problem = await in_thread(cancel, job.adopt, sub, cancel, on_abandon=lingering.add)
        if problem:
            result.message = problem
        return problem is not None
