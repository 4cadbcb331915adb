"""The contract between the engine and an action (document today; tests, refactor, audit later).

`Action.prepare` does the deterministic analysis once per request and returns a `Job`; the engine
then asks the job for writer messages, sends them to a tier's backend, and lets the job judge each
reply with its gates. The engine owns tiers, candidates, usage, the ledger and cancellation; the
job owns prompts, schemas, gates and edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from swarm_lsp.swarm.backends.base import Message, Reply
from swarm_lsp.swarm.types import ActionRequest, GateResult


class ActionInputError(ValueError):
    """The request cannot be served (unknown symbol, unsupported language...): a usage error."""


@dataclass
class Evaluation:
    gates: list[GateResult]
    new_text: str | None = None  # the whole new file when every gate passed
    output: str = ""  # the rendered candidate (docstring, comment...) the gates judged
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.gates) and all(g.passed for g in self.gates)

    def feedback(self) -> list[str]:
        return [reason for gate in self.gates if not gate.passed for reason in gate.reasons]


class Job(Protocol):
    target_label: str  # "Qualified.name" of the resolved symbol
    schema: dict[str, Any] | None  # JSON schema for the writer's reply, if structured
    stop: list[str]
    max_tokens: int
    review_focuses: list[str]  # one instruction per reviewer persona; cycled over the reviewers

    def messages(self, feedback: list[str]) -> list[Message]: ...

    def review_material(self, evaluation: Evaluation) -> str:
        """What every reviewer sees first (code, candidate, gate evidence): the shared prompt prefix."""
        ...

    def evaluate(self, reply: Reply) -> Evaluation: ...

    def evidence(self, accepted: Evaluation | None) -> dict[str, Any]: ...


class Action(Protocol):
    kind: str

    def prepare(self, request: ActionRequest, options: dict[str, Any]) -> Job: ...
