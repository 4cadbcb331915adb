"""The contract between the engine and an action (document today; tests, refactor, audit later).

`Action.prepare` does the deterministic analysis once per request and returns an `ActionJob`; the engine
then asks the job for writer messages, sends them to a tier's backend, and lets the job judge each
reply with its gates. The engine owns tiers, candidates, usage, the ledger and cancellation; the
job owns prompts, schemas, gates and edits.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from swarm_lsp.swarm.analysis.languages import UnsupportedLanguage, language_for_path
from swarm_lsp.swarm.analysis.symbols import SymbolNotFound, index_symbols, resolve_symbol
from swarm_lsp.swarm.backends.base import Message, Reply
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.errors import InputError
from swarm_lsp.swarm.types import ActionKind, ActionRequest, ActionResult, DocumentSnapshot, GateResult, Symbol


class ActionInputError(InputError):
    """The request cannot be served (unknown symbol, unsupported language...): a usage error."""


def document_symbols(document: DocumentSnapshot) -> tuple[str, list[Symbol]]:
    """The document's language and its functions, methods and classes; an unsupported language
    is an input error."""
    try:
        language = language_for_path(document.path)
    except UnsupportedLanguage as exc:
        raise ActionInputError(str(exc)) from exc
    return language, index_symbols(document.text, language, tsx=document.path.endswith(".tsx"))


def target_symbol(document: DocumentSnapshot, symbols: list[Symbol], target: str) -> Symbol:
    """The symbol `target` names in `document`; an unknown one is an input error with suggestions.
    A name shared by `@overload` stubs and their implementation means the implementation."""
    if not target.strip().isdigit():
        symbols = _without_overload_stubs(document.text, symbols)
    try:
        return resolve_symbol(symbols, target)
    except SymbolNotFound as exc:
        raise ActionInputError(f"{document.path}: {exc}") from exc


_OVERLOAD = re.compile(r"@\s*(?:typing\.|typing_extensions\.|t\.)?overload\b")


def _without_overload_stubs(text: str, symbols: list[Symbol]) -> list[Symbol]:
    counts = Counter(s.qualname for s in symbols)
    if all(count == 1 for count in counts.values()):
        return symbols
    data = text.encode("utf-8")

    def stub(symbol: Symbol) -> bool:
        head = data[symbol.span.start_byte:symbol.name_span.start_byte].decode("utf-8", errors="replace")
        return symbol.language == "python" and _OVERLOAD.search(head) is not None

    return [s for s in symbols if counts[s.qualname] == 1 or not stub(s)]


@dataclass
class Evaluation:
    gates: list[GateResult]
    new_text: str | None = None  # the whole new file when every gate passed
    output: str = ""  # the rendered candidate (docstring, comment...) the gates judged
    evidence: dict[str, Any] = field(default_factory=dict)
    # An incremental job (tests) may pass its gates without being done: the engine commits it and
    # asks for more candidates, and accepts the last committed one if attempts run out.
    complete: bool = True
    notes: list[str] = field(default_factory=list)  # feedback for the next candidate even when passed
    summary: str = ""  # one line for people, e.g. what an incomplete result still lacks
    # Items the gates cannot decide alone (name -> what reviewers see); see `Job.settle`.
    questions: dict[str, str] = field(default_factory=dict)
    votes: dict[str, list[dict]] = field(default_factory=dict)  # question -> the reviewers' verdict records
    # The edit's file when it is not the request's document (a test module), and that file now.
    path: str | None = None
    original_text: str | None = None
    version: int | None = None  # the edited file's version (mtime_ns; 0: the file is created)
    state: Any = None  # the job's own proposal, applied by `Job.commit`

    @property
    def passed(self) -> bool:
        return bool(self.gates) and all(g.passed for g in self.gates)

    def feedback(self) -> list[str]:
        return [reason for gate in self.gates if not gate.passed for reason in gate.reasons] + self.notes


@dataclass(frozen=True)
class Probe:
    """A short model call a job makes before a tier's first candidate (ActionJob.probe)."""

    messages: list[Message]
    schema: dict[str, Any]
    max_tokens: int


class ActionJob:
    """One prepared action: the engine asks it for writer messages, sends them to a tier's backend
    and lets it judge each reply with its gates. The optional capabilities are declared here with
    their defaults; an action overrides only what it uses."""

    target_label: str  # "Qualified.name" of the resolved symbol ("" for a whole file)
    schema: dict[str, Any] | None  # JSON schema for the writer's reply, if structured
    stop: list[str]
    max_tokens: int  # 0: the engine's configured max_tokens
    review_focuses: list[str]  # one instruction per reviewer persona; cycled over the reviewers
    # Whether reviewers vote on each whole gate-passing candidate; False when the job asks its
    # reviewers about the single items of an answer instead (`Evaluation.questions`).
    review_whole: bool = True
    # How reviewers answer `Evaluation.questions`: "verdict" (a JSON verdict with its reason) or
    # "claim" (one yes/no token on one atomic claim, agents/claim_review.py).
    question_style: str = "verdict"
    # The system prompt of "claim" questions ("" for the documentation checker's, CLAIM_SYSTEM there).
    claim_system: str = ""
    # Reviewers the job asks when the settings configure none (`reviewers` = 0): how many, and the
    # backends measured good enough to be asked by default (only those among the plan's tiers).
    default_reviewers: tuple[int, tuple[str, ...]] = (0, ())

    def messages(self, feedback: list[str]) -> list[Message]:
        raise NotImplementedError

    def probe(self) -> Probe | None:
        """A call to make on a local tier before its first candidate, whose reply `observe` takes
        in to inform the writer (the document action: calls to run in the sandbox); None: none."""
        return None

    def observe(self, reply: Reply, cancel: CancelToken) -> None:
        """Take in the probe's reply; on a worker thread (it may run code)."""

    def review_material(self, evaluation: Evaluation) -> str:
        """What every reviewer sees first (code, candidate, gate evidence): the shared prompt prefix."""
        raise NotImplementedError

    def evaluate(self, reply: Reply, cancel: CancelToken) -> Evaluation:
        """Run the gates; called on a worker thread (gates may run tests for seconds)."""
        raise NotImplementedError

    def evidence(self, accepted: Evaluation | None) -> dict[str, Any]:
        raise NotImplementedError

    def wants_tier(self, cloud: bool) -> bool:
        """Whether the job, as it stands, goes on to a tier (checked before each tier)."""
        return True

    def calls_per_tier(self, candidates: int) -> int:
        """Writer calls a tier may get. A job that walks units (the audit: one call per function)
        needs one per unit on top of the retries."""
        return candidates

    def prerequisite(self, cancel: CancelToken) -> ActionRequest | None:
        """An action to run first (on a worker thread), e.g. characterization tests; None: none."""
        return None

    def adopt(self, result: ActionResult, cancel: CancelToken) -> str | None:
        """Take in the prerequisite's result; a reason when the job cannot go on without it."""
        return None

    def settle(self, evaluation: Evaluation, kept: list[str] | None) -> Evaluation:
        """The evaluation with the `questions` the reviewers kept (`kept`) taken in; `kept` is
        None when no reviewers are configured (the job decides what that means)."""
        return evaluation

    def rejection_is_final(self, question: str) -> bool:
        """Whether the reviewers' rejection of `question` rejects the whole candidate (the rest of
        its questions are then not asked)."""
        return False

    def commit(self, evaluation: Evaluation) -> None:
        """Make a gate- and review-passing evaluation the job's new state (incremental jobs)."""

    def finalize(self, accepted: Evaluation | None, cancel: CancelToken) -> bool:
        """Expensive measurements of the final result (mutation score), on a worker thread; True
        when it changed the accepted evaluation's `new_text` (the edit is then made again)."""
        return False

    def close(self) -> None:
        """Release what the job holds (a sandbox); called once, whatever happened."""


class Action:
    """An action kind: what it serves and how a request becomes a job."""

    kind: ActionKind
    languages: tuple[str, ...]  # the languages it serves (analysis.languages names)
    # Options of `ActionOptions` only this action reads (per request, e.g. the refactor's instruction).
    option_keys: tuple[str, ...] = ()
    # Named ready-made option sets an editor offers as separate code actions (title suffix, options).
    variants: tuple[tuple[str | None, dict[str, Any]], ...] = ((None, {}),)

    def prepare(self, request: ActionRequest) -> ActionJob:
        """Analyse the request once (on a worker thread); an ActionInputError when it cannot be served."""
        raise NotImplementedError
