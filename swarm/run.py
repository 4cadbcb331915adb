"""One action's run: tiers in order, writer candidates, gates, reviewer quorum, feedback, usage.

Rules (DESIGN.md §2): a failed gate is final for that candidate and no vote can override it; the
quorum only chooses among gate-passing candidates; gate errors and reviewer reasons feed the next
candidate; a cloud call that would cross a token budget is never made.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from swarm_lsp.swarm.actions.base import ActionJob, Evaluation, Probe
from swarm_lsp.swarm.agents.claim_review import ask_claim
from swarm_lsp.swarm.agents.reviewers import Reviewer, ask_reviewer, build_reviewers
from swarm_lsp.swarm.backends.base import Backend, BackendError, Message, Reply
from swarm_lsp.swarm.call_recorder import CallRecorder
from swarm_lsp.swarm.cancel import CancelToken, Cancelled, Lingering, in_thread, race_cancel
from swarm_lsp.swarm.consensus import QuorumOutcome, QuorumRule, Verdict, run_quorum
from swarm_lsp.swarm.events import Event, EventSink, emit
from swarm_lsp.swarm.gates.prompt_echo import instructions_echoed
from swarm_lsp.swarm.memory.context import with_context
from swarm_lsp.swarm.settings import SwarmSettings
from swarm_lsp.swarm.tiers import CloudBudget, TierSpec, estimate_tokens, is_cloud, reviewer_backends
from swarm_lsp.swarm.types import ActionRequest, ActionResult, Attempt, Edit, workspace_relative

log = logging.getLogger(__name__)

BackendFactory = Callable[[str], Backend]
T = TypeVar("T")


@dataclass(frozen=True)
class RunContext:
    """What one action's run is given by the engine: its settings, the backends by tier name, the
    cloud budget, the recorder its calls go to, and what to release once abandoned threads end."""

    settings: SwarmSettings
    backend: BackendFactory
    budget: CloudBudget
    calls: CallRecorder
    lingering: Lingering


class ActionRun:
    """The mutable state of one `Swarm.run` call."""

    def __init__(self, context: RunContext, request: ActionRequest, job: ActionJob, result: ActionResult,
                 events: EventSink | None, cancel: CancelToken):
        self.request, self.job, self.result = request, job, result
        self.events, self.cancel = events, cancel
        self.backend, self.calls, self.lingering = context.backend, context.calls, context.lingering
        self.settings = context.settings
        self.feedback: list[str] = []
        self.budget = context.budget
        self.budget_refusal: str | None = None
        self.best: tuple[str, Evaluation] | None = None  # last committed incomplete evaluation
        self.context_text = ""  # related code from the project's memory, shown to every writer

    async def tiers(self, plan: list[TierSpec]) -> Evaluation | None:
        reviewers = self._reviewers(plan)
        for spec in plan:
            tier = spec.name
            if not self.job.wants_tier(is_cloud(tier)):
                emit(self.events, Event("progress", f"{tier}: skipped, the job needs no more of it", tier))
                continue
            if not is_cloud(tier) and (probe := self.job.probe()) is not None:
                await self.run_probe(spec, probe)
            for index in range(self.job.calls_per_tier(spec.candidates or self.settings.candidates)):
                self.cancel.raise_if_cancelled()
                messages = with_context(self.job.messages(self.feedback), self.context_text)
                if is_cloud(tier) and self._refused_by_budget(spec, index, messages):
                    break
                evaluation = await self.candidate(spec, index, messages)
                if evaluation is None or not evaluation.passed:
                    continue
                if reviewers and self.job.review_whole and not await self.review(tier, index, evaluation, reviewers):
                    continue
                if evaluation.questions:
                    evaluation = await self.settle(tier, index, evaluation, reviewers)
                    if not evaluation.passed:  # a required item the reviewers rejected: back to the writer
                        self.result.attempts[-1].passed = False
                        self.feedback = evaluation.feedback()
                        continue
                self.job.commit(evaluation)
                if evaluation.complete:
                    self.accept(tier, evaluation)
                    return evaluation
                self.best = (tier, evaluation)
                self.feedback = evaluation.notes
                emit(self.events, Event("progress", f"{tier}: candidate {index + 1} kept; asking for more", tier, index))
            emit(self.events, Event("escalate", f"{tier}: no accepted candidate", tier))
        if self.best is not None:  # attempts ran out: the last committed, incomplete result stands
            tier, evaluation = self.best
            self.accept(tier, evaluation)
            return evaluation
        return None

    async def settle(self, tier: str, index: int, evaluation: Evaluation, reviewers: list[Reviewer]) -> Evaluation:
        """Let the reviewers decide the evaluation's open questions (`None` to the job: no reviewers)."""
        if not reviewers:
            return self.job.settle(evaluation, None)
        kept: list[str] = []
        for name, material in evaluation.questions.items():
            self.cancel.raise_if_cancelled()
            emit(self.events, Event("review", f"{tier}: reviewers consider {name}", tier, index))
            outcome = await self.quorum(tier, material, reviewers, claim=self.job.question_style == "claim")
            evaluation.votes[name] = [verdict_record(v) for v in outcome.verdicts]
            if outcome.accepted:
                kept.append(name)
            elif self.job.rejection_is_final(name):  # the candidate goes back: the rest need no votes
                break
        return self.job.settle(evaluation, kept)

    def _reviewers(self, plan: list[TierSpec]) -> list[Reviewer]:
        backends = reviewer_backends(self.settings.reviewer_tiers, [spec.name for spec in plan])
        if self.settings.reviewers == 0 and not self.settings.reviewer_tiers:
            count, trusted = self.job.default_reviewers
            measured = tuple(b for b in backends if b in trusted)[-1:]
            return build_reviewers(count, measured, self.job.review_focuses) if measured else []
        return build_reviewers(self.settings.reviewers, backends, self.job.review_focuses)

    def _max_tokens(self, spec: TierSpec) -> int:
        return spec.max_tokens or self.job.max_tokens or self.settings.max_tokens

    def _refused_by_budget(self, spec: TierSpec, index: int, messages: Sequence[Message]) -> bool:
        tier = spec.name
        refusal = self.budget.refusal(self.result.usage.cloud_tokens, estimate_tokens(messages, self._max_tokens(spec)))
        if refusal is None:
            return False
        self.budget_refusal = refusal
        self.result.attempts.append(Attempt(tier=tier, candidate=index, error=refusal))
        emit(self.events, Event("budget", refusal, tier, index))
        log.warning("%s: %s", tier, refusal)
        return True

    async def candidate(self, spec: TierSpec, index: int, messages: list[Message]) -> Evaluation | None:
        tier = spec.name
        base_temperature = self.settings.temperature if spec.temperature is None else spec.temperature
        attempt = Attempt(tier=tier, candidate=index)
        self.result.attempts.append(attempt)
        emit(self.events, Event("write", f"{tier}: writing candidate {index + 1}", tier, index))
        # later candidates explore more: diversity is what makes k > 1 worth its tokens
        reply, attempt.error = await self.write(tier, messages, self.job.schema, self._max_tokens(spec),
                                                min(1.0, base_temperature + 0.25 * index), self.settings.seed + index,
                                                f"candidate {index}")
        if reply is None:
            return None
        emit(self.events, Event("gates", f"{tier}: checking candidate {index + 1}", tier, index))
        evaluation = await self.off_loop(self.job.evaluate, reply)
        if (echo := instructions_echoed(messages, reply.text)) is not None:
            evaluation.gates.append(echo)  # final, as every failed gate
        attempt.gates, attempt.output, attempt.passed = evaluation.gates, evaluation.output, evaluation.passed
        failed = [g.name for g in evaluation.gates if not g.passed]
        message = f"{tier}: candidate {index + 1} " + (f"failed {', '.join(failed)}" if failed else "passed the gates")
        emit(self.events, Event("gates", message, tier, index, {"failed": failed}))
        if not evaluation.passed:
            self.feedback = evaluation.feedback()
        return evaluation

    async def write(self, tier: str, messages: list[Message], schema: dict | None, max_tokens: int,
                    temperature: float, seed: int, what: str) -> tuple[Reply | None, str | None]:
        """One writer call on `tier`, in the ledger: its reply, or None and the backend's error."""
        try:
            # A backend that does not honour the token itself is stopped after the grace period.
            reply = await race_cancel(self.backend(tier).chat(
                messages, schema=schema, max_tokens=max_tokens, temperature=temperature, seed=seed,
                stop=self.job.stop or None, cancel=self.cancel,
            ), self.cancel)
        except BackendError as exc:
            self.calls.call(tier, tier, None, "error", str(exc))
            log.warning("%s %s failed: %s", tier, what, exc)
            return None, str(exc)
        except (Cancelled, asyncio.CancelledError) as exc:
            self.calls.call(tier, tier, getattr(exc, "partial", None), "cancelled", "")
            raise
        self.calls.call(tier, tier, reply, "ok", "")
        return reply, None

    async def run_probe(self, spec: TierSpec, probe: Probe) -> None:
        """The job's probe on a local tier; a failed one only leaves the writer without what it
        would have shown."""
        tier = spec.name
        emit(self.events, Event("write", f"{tier}: proposing calls to run before writing", tier, 0))
        reply, _ = await self.write(tier, probe.messages, probe.schema, probe.max_tokens, 0.0, self.settings.seed,
                                    "probe")
        if reply is not None:
            await self.off_loop(self.job.observe, reply)

    async def off_loop(self, work: Callable[[Reply, CancelToken], T], reply: Reply) -> T:
        """`work(reply, cancel)` of the job on a worker thread (gates run code and tests)."""
        try:
            return await in_thread(self.cancel, work, reply, self.cancel, on_abandon=self.lingering.add)
        except asyncio.CancelledError:
            self.cancel.cancel("cancelled")  # the worker thread stops at its next check
            raise

    async def review(self, tier: str, index: int, evaluation: Evaluation, reviewers: list[Reviewer]) -> bool:
        attempt = self.result.attempts[-1]

        def on_verdict(verdict: Verdict, rule: QuorumRule) -> None:
            attempt.votes.append(verdict_record(verdict))
            approvals = sum(v["vote"] == "approve" for v in attempt.votes)
            emit(self.events, Event("review", f"{tier}: {verdict.reviewer} votes {verdict.vote} "
                                    f"({approvals}/{rule.needed} approvals needed)", tier, index,
                                    {"vote": verdict.vote, "approvals": approvals, "needed": rule.needed}))

        outcome = await self.quorum(tier, self.job.review_material(evaluation), reviewers, on_verdict)
        attempt.quorum = outcome.record()
        attempt.passed = outcome.accepted
        if not outcome.accepted:
            reasons = outcome.rejection_reasons() or ["the reviewers did not approve this candidate"]
            self.feedback = [f"reviewer: {reason}" for reason in reasons]
        return outcome.accepted

    async def quorum(self, tier: str, material: str, reviewers: list[Reviewer],
                     on_verdict: Callable[[Verdict, QuorumRule], None] | None = None, *,
                     claim: bool = False) -> QuorumOutcome:
        """The reviewers' vote on `material` (`claim`: one yes/no token on an atomic claim); every
        reviewer call lands in the ledger."""

        def on_reply(reviewer: Reviewer, reply: Reply | None, error: str | None) -> None:
            outcome = "cancelled" if error == "cancelled" else ("ok" if reply else "error")
            self.calls.call(tier, reviewer.backend, reply, outcome, "" if outcome != "error" else (error or ""))

        async def ask(reviewer: Reviewer) -> Verdict:
            backend = self.backend(reviewer.backend)
            if claim:
                return await ask_claim(reviewer, backend, material, seed=self.settings.seed, cancel=self.cancel,
                                       on_reply=on_reply, system=self.job.claim_system)
            return await ask_reviewer(reviewer, backend, material, seed=self.settings.seed, cancel=self.cancel,
                                      on_reply=on_reply)

        remote = all(r.backend.partition(":")[0] != "llamacpp" for r in reviewers)
        return await run_quorum(reviewers, ask, parallel=len(reviewers) if remote else 1, on_verdict=on_verdict)

    def accept(self, tier: str, evaluation: Evaluation) -> None:
        self.result.status, self.result.tier = "accepted", tier
        self._add_edit(evaluation)
        self._say_accepted(evaluation)

    def replace_edit(self, evaluation: Evaluation) -> None:
        """After `finalize` changed the accepted evaluation (pinning tests added)."""
        self.result.edits.clear()
        self._add_edit(evaluation)
        self._say_accepted(evaluation)

    def _say_accepted(self, evaluation: Evaluation) -> None:
        self.result.message = f"accepted from {self.result.tier}"
        if not evaluation.complete:  # attempts ran out: the last committed, incomplete result stands
            self.result.message += f", incomplete after every attempt: {evaluation.summary or 'no summary'}"

    def _add_edit(self, evaluation: Evaluation) -> None:
        if evaluation.new_text is None:  # a result without an edit (the audit's findings)
            return
        document = self.request.document
        own_file = evaluation.path is None
        path = document.path if own_file else workspace_relative(evaluation.path or "", self.request.workspace)
        original = document.text if own_file else evaluation.original_text or ""
        version = document.version if own_file else evaluation.version or 0
        created = not own_file and version == 0
        diff = "".join(
            difflib.unified_diff(
                original.splitlines(keepends=True),
                evaluation.new_text.splitlines(keepends=True),
                fromfile="/dev/null" if created else f"a/{path}",
                tofile=f"b/{path}",
            )
        )
        kind = document.version_kind if own_file else ("new" if created else "mtime")
        self.result.edits.append(Edit(path, version, diff, evaluation.new_text, created=created, version_kind=kind))

    def explain_rejection(self) -> None:
        attempts = self.result.attempts
        if self.budget_refusal:
            self.result.message = f"not accepted, and the cloud was not called: {self.budget_refusal}"
            self.result.evidence["budget"] = self.budget_refusal
            return
        if attempts and all(a.error for a in attempts):
            self.result.status = "failed"
            self.result.message = f"every model call failed; last error: {attempts[-1].error}"
            return
        failed_gates = sorted({g.name for a in attempts for g in a.gates if not g.passed})
        vetoed = sum(1 for a in attempts if a.quorum and a.quorum["outcome"] == "rejected")
        parts = [f"failed gates: {', '.join(failed_gates)}"] if failed_gates else []
        if vetoed:
            parts.append(f"{vetoed} gate-passing candidate(s) rejected by the reviewers")
        self.result.message = f"no candidate accepted after {len(attempts)} attempts ({'; '.join(parts)})"


def verdict_record(verdict: Verdict) -> dict:
    return {"reviewer": verdict.reviewer, "vote": verdict.vote, "confidence": verdict.confidence,
            "reasons": verdict.reasons, "error": verdict.error}
