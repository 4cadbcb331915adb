"""The audit action: security findings for a file or one symbol, as an ActionResult (issue 7).

Bandit and the flow pass (`audit.taint`: request input that reaches an operation unmitigated) are
the deterministic first pass (Python). Swarm auditors then read each function or method
(the code fenced as data, never as instructions) for the CWE classes in `audit_prompt`; one
writer call per function, so the job is incremental: `complete` once every function was read.
Every finding, bandit's included, passes the location gate, then (Python) the mitigation gate
(`audit.mitigations`: the flagged operation is in a recognisably fixed form) and, when reviewers
are configured, their vote: one yes/no token per finding (agents/claim_review.py). A finding
dropped by either is listed with why. No edit.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from swarm_lsp.swarm.actions.audit_prompt import (
    CLAIM_SYSTEM, CWE_CLASSES, MESSAGE_MAX, REVIEW_QUESTIONS, audit_schema, auditor_messages, finding_claim_material,
    findings_from, numbered,
)
from swarm_lsp.swarm.actions.base import Action, ActionInputError, ActionJob, Evaluation, document_symbols, target_symbol
from swarm_lsp.swarm.analysis.languages import LANGUAGES
from swarm_lsp.swarm.audit.findings import SEVERITIES, Finding
from swarm_lsp.swarm.audit.flow_index import Source
from swarm_lsp.swarm.audit.mitigations import without_mitigated
from swarm_lsp.swarm.audit.pipeline import deterministic_pass
from swarm_lsp.swarm.audit.suppress import Suppressions
from swarm_lsp.swarm.backends.base import Message, Reply
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.offload import in_worker_process
from swarm_lsp.swarm.types import ActionRequest, ActionResult, GateResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    label: str  # qualname, or "<module>" for a file without functions
    first_line: int  # 1-based, inclusive
    last_line: int


class AuditAction(Action):
    kind = "audit"
    languages = LANGUAGES

    def prepare(self, request: ActionRequest) -> "AuditJob":
        document = request.document
        language, symbols = document_symbols(document)
        if request.target:
            symbol = target_symbol(document, symbols, request.target)
            chunks = [Chunk(symbol.qualname, symbol.span.start_line + 1, symbol.span.end_line + 1)]
        else:
            chunks = [Chunk(s.qualname, s.span.start_line + 1, s.span.end_line + 1)
                      for s in symbols if s.kind != "class"]
            chunks = chunks or [Chunk("<module>", 1, max(1, len(document.text.splitlines())))]
        bandit: list[Finding] = []
        dropped: list[dict[str, Any]] = []
        if language == "python":
            within = (chunks[0].first_line, chunks[0].last_line) if request.target else None
            # In the analysis process: bandit and Python's parser would hold the GIL, and so stall the
            # event loop, for hundreds of milliseconds on a big module.
            first_pass = in_worker_process(deterministic_pass, document.path, document.text, within=within)
            bandit, dropped = first_pass.kept, first_pass.dropped
        try:
            suppressions = Suppressions.from_options(skip=request.options.audit_skip)
        except (TypeError, ValueError) as exc:
            raise ActionInputError(f"audit_skip: {exc}") from exc
        return AuditJob(document.path, document.text, chunks, bandit, chunks[0].label if request.target else "",
                        python=language == "python", dropped=dropped, suppressions=suppressions)


@dataclass
class AuditJob(ActionJob):
    path: str
    text: str
    chunks: list[Chunk]
    bandit: list[Finding]
    target_label: str  # "" for a whole file
    python: bool = False  # the mitigation gate reads Python only
    dropped: list[dict[str, Any]] = field(default_factory=list)  # findings not reported, and why
    suppressions: Suppressions = field(default_factory=Suppressions)
    stop: list[str] = field(default_factory=list)
    max_tokens: int = 720  # six operations with their named inputs, the schema's maximum, fit
    review_whole: bool = False  # reviewers vote on each finding (questions), not on the whole answer
    question_style: str = "claim"  # one yes/no token per finding, its probability the confidence
    claim_system: str = CLAIM_SYSTEM
    review_focuses: list[str] = field(default_factory=lambda: list(REVIEW_QUESTIONS))

    def __post_init__(self) -> None:
        self.schema = audit_schema()
        self.source = Source(self.text)  # split and parsed once for every function's findings
        self.next = 0
        self.findings: list[Finding] = []
        self.votes: dict[str, list[dict[str, Any]]] = {}  # "source:rule:line" of a kept finding -> its votes

    def calls_per_tier(self, candidates: int) -> int:
        return len(self.chunks) + candidates - 1  # one auditor call per function, plus the retries

    def _chunk(self) -> Chunk:
        return self.chunks[min(self.next, len(self.chunks) - 1)]

    def _code(self, chunk: Chunk) -> str:
        return numbered(self.source.lines, chunk.first_line, chunk.last_line)

    def messages(self, feedback: list[str]) -> list[Message]:
        chunk = self._chunk()
        return auditor_messages(self.path, chunk.label, self._code(chunk), feedback)

    def review_material(self, evaluation: Evaluation) -> str:
        return f"Audit of {self._chunk().label}: " + "; ".join(f.message for f in evaluation.state or [])

    def evaluate(self, reply: Reply, cancel: CancelToken | None = None) -> Evaluation:
        chunk = self._chunk()
        data = reply.parsed
        if not isinstance(data, dict) or not isinstance(data.get("operations"), list):
            reason = "the answer was not a JSON object with an operations list"
            if reply.finish_reason == "length":
                reason += " (it was cut off at the token limit: list only the security-relevant operations)"
            return Evaluation([GateResult("json", False, [reason])], output=reply.text)
        findings, notes = [], []
        for item in findings_from(data):
            finding, problem = self._finding(item, chunk)
            if finding is None:
                notes.append(problem)
                self.dropped.append({"chunk": chunk.label, "reason": problem})
            else:
                findings.append(finding)
        if self.python:
            findings, mitigated = without_mitigated(findings, self.source)
            self.dropped += [{"chunk": chunk.label, **item} for item in mitigated]
            notes += [f"line {item['finding']['start_line']}: {item['reason']}" for item in mitigated]
        if self.next == 0:  # bandit's findings are voted on with the first function's
            findings = self.bandit + findings
        evaluation = Evaluation([GateResult("json", True), GateResult("located", True)], output=reply.text,
                                notes=notes, state=findings)
        evaluation.questions = {
            _key(f): finding_claim_material(self.path, self._code(self._chunk_of(f)), f.start_line, f.cwe,
                                            f.message, f.source)
            for f in findings
        }
        return self._finish(evaluation)

    def _finding(self, item: Any, chunk: Chunk) -> tuple[Finding | None, str]:
        if not isinstance(item, dict):
            return None, "a finding was not an object"
        line, cwe = item.get("line"), item.get("cwe")
        if not isinstance(line, int) or not chunk.first_line <= line <= chunk.last_line:
            return None, f"line {line} is not inside {chunk.label} (lines {chunk.first_line}-{chunk.last_line})"
        if cwe not in CWE_CLASSES:
            return None, f"CWE {cwe} is not one of the audited classes"
        text_line = self.source.lines[line - 1] if line <= len(self.source.lines) else ""
        if not text_line.strip():
            return None, f"line {line} is empty"
        severity = item["severity"] if item.get("severity") in SEVERITIES else "medium"
        confidence = item.get("confidence")
        confidence = "high" if isinstance(confidence, (int, float)) and confidence >= 0.8 else (
            "low" if isinstance(confidence, (int, float)) and confidence < 0.5 else "medium")
        message = str(item.get("message") or CWE_CLASSES[cwe]).strip()[:MESSAGE_MAX]
        indent = len(text_line) - len(text_line.lstrip())
        return Finding(self.path, line, indent + 1, line, len(text_line) + 1, cwe, severity, confidence, message,
                       text_line, "swarm", f"swarm-cwe-{cwe}", CWE_CLASSES[cwe],
                       input=str(item.get("input") or "").strip()[:MESSAGE_MAX]), ""

    def _chunk_of(self, finding: Finding) -> Chunk:
        return next((c for c in self.chunks if c.first_line <= finding.start_line <= c.last_line), self._chunk())

    def _finish(self, evaluation: Evaluation) -> Evaluation:
        evaluation.complete = self.next + 1 >= len(self.chunks)
        done = self.next + 1
        evaluation.summary = f"{done} of {len(self.chunks)} function(s) audited"
        return evaluation

    def settle(self, evaluation: Evaluation, kept: list[str] | None) -> Evaluation:
        """Without reviewers (kept is None) every located finding stands, the swarm's marked low
        confidence (unverified model claims: see the corpus benchmark); with them, the voted ones."""
        if kept is None:
            evaluation.state = [dataclasses.replace(f, confidence="low") if f.source == "swarm" else f
                                for f in evaluation.state]
        else:
            for finding in list(evaluation.state):
                votes = evaluation.votes.get(_key(finding), [])
                if _key(finding) not in kept:
                    evaluation.state.remove(finding)
                    self.dropped.append({"finding": finding.to_dict(), "reason": "rejected by the reviewers",
                                         "votes": votes})
                elif votes:
                    self.votes[_key(finding)] = votes
        evaluation.questions = {}
        return evaluation

    def commit(self, evaluation: Evaluation) -> None:
        self.findings = _without_duplicates(self.findings + list(evaluation.state or []))
        self.next += 1

    def evidence(self, accepted: Evaluation | None) -> dict[str, Any]:
        findings = sorted(self.findings if self.findings or accepted else self.bandit,
                          key=lambda f: (f.start_line, f.start_column, f.rule_id))
        findings, suppressed = self.suppressions.split(findings, self.text)
        return {
            "findings": [f.to_dict() for f in findings],
            "suppressed": [{"finding": f.to_dict(), "reason": why} for f, why in suppressed],
            "by_severity": {s: sum(f.severity == s for f in findings) for s in SEVERITIES},
            "by_source": {s: sum(f.source == s for f in findings) for s in ("bandit", "flow", "swarm")},
            "functions_audited": min(self.next, len(self.chunks)), "functions": len(self.chunks),
            "dropped": self.dropped,
            "votes": {key: votes for key, votes in self.votes.items()
                      if any(_key(f) == key for f in findings)},
        }


def _key(finding: Finding) -> str:
    return f"{finding.source}:{finding.rule_id}:{finding.start_line}"


def _without_duplicates(findings: list[Finding]) -> list[Finding]:
    """One finding per (line, CWE): the first pass's wins over the swarm's for the same flaw."""
    seen: set[tuple[int, int]] = set()
    unique = []
    for finding in findings:
        if (finding.start_line, finding.cwe) in seen:
            continue
        seen.add((finding.start_line, finding.cwe))
        unique.append(finding)
    return unique
