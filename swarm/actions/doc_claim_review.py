"""The document action's claims, put to the reviewers one at a time (issue 15, step 4).

After the gates pass, the candidate is split into atomic claims (doc_claim_list.py); what the
sandbox did not settle (an executed example or raise call) becomes one reviewer question each, with
the code and what running the examples showed as its shared prefix (evidence, not opinions). The
quorum decides per claim: a rejected optional claim (a sentence after the summary's first) is
removed from the docstring; a rejected required one (a parameter, the return value, an exception,
the summary) sends the candidate back to the writer with the claim quoted, and then to the next tier.
Without reviewers the unsettled claims stay "unverified", and the result says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from swarm_lsp.swarm.actions.base import Evaluation
from swarm_lsp.swarm.actions.doc_claim_list import DocClaim, sentences, split_claims, summary_line
from swarm_lsp.swarm.agents.claim_review import claim_material
from swarm_lsp.swarm.codemods.content import DocContent, DocFacts
from swarm_lsp.swarm.types import GateResult

GATE_NAME = "claims_voted"


@dataclass
class ClaimState:
    """A candidate's content and claims (`Evaluation.state` of a document candidate)."""

    content: DocContent
    claims: list[DocClaim]
    removed: list[DocClaim] = field(default_factory=list)  # optional sentences the reviewers rejected


class ClaimReview:
    def __init__(self, facts: DocFacts, code_block: str) -> None:
        self.facts = facts
        self.code_block = code_block  # the fenced source: the first, shared part of every question
        self.observed: list[str] = []  # what calls run before writing did ("`f(1)` returned 2")

    def subject(self, claim: DocClaim) -> str:
        name = f"`{self.facts.name}`"
        item = claim.key.split(".", 1)[-1]
        return {
            "param": f"the parameter `{item}` of {name}",
            "returns": f"what {name} returns",
            "raises": f"when {name} raises {item}",
        }.get(claim.section, f"the {self.facts.kind} {name}")

    def ask_about(self, evaluation: Evaluation, content: DocContent, executed_raises: dict[str, str],
                  checked: dict[str, str] | None = None) -> None:
        """Split a gate-passing candidate into claims; the unsettled ones become questions.
        `checked`: claim keys that checks against the code settled, with what settled them."""
        if not evaluation.passed:
            return
        claims = split_claims(content, self.facts)
        for claim in claims:
            if claim.section == "raises" and (detail := executed_raises.get(claim.key.split(".", 1)[1])):
                claim.how, claim.detail = "executed", detail
            elif detail := (checked or {}).get(claim.key):
                claim.how, claim.detail = "checked", detail
        evaluation.state = ClaimState(content, claims)
        ran = [f"`{call}` returned {result}" for call, result in content.examples] + list(executed_raises.values())
        ran += [line for line in self.observed if line not in ran]
        shown = self.code_block + ("\n\nWhat running it in a sandbox showed:\n" + "\n".join(f"- {r}" for r in ran)
                                   if ran else "")
        evaluation.questions = {c.key: claim_material(shown, self.subject(c), c.text)
                                for c in claims if c.how == "unverified"}

    @staticmethod
    def is_required(key: str) -> bool:
        """A claim whose rejection sends the candidate back (only later sentences are optional)."""
        section, _, item = key.partition(".")
        return not (section == "description" or section == "summary" and item != "1")

    def settle(self, evaluation: Evaluation, kept: list[str] | None,
               rerender: Callable[[DocContent], Evaluation]) -> Evaluation:
        state: ClaimState = evaluation.state
        content, claims = state.content, state.claims
        asked, evaluation.questions = evaluation.questions, {}
        if kept is None:  # no reviewers configured: what the sandbox did not settle stays unverified
            return evaluation
        rejected = []
        voted = set(evaluation.votes)  # polling stopped at the first rejected required claim
        for claim in claims:
            if claim.key in asked and claim.key in voted:
                claim.votes = evaluation.votes.get(claim.key, [])
                if claim.key in kept:
                    claim.how = "voted"
                else:
                    rejected.append(claim)
        required = [c for c in rejected if not c.optional]
        if required:
            reasons = [f"the reviewers judged this statement false: {c.text!r}; say what the code really does"
                       for c in required]
            evaluation.gates.append(GateResult(GATE_NAME, False, reasons))
            return evaluation
        if rejected:
            evaluation = self._without(evaluation, content, claims, rejected, rerender)
        evaluation.gates.append(GateResult(GATE_NAME, True))
        return evaluation

    def _without(self, evaluation: Evaluation, content: DocContent, claims: list[DocClaim],
                 rejected: list[DocClaim], rerender: Callable[[DocContent], Evaluation]) -> Evaluation:
        """The candidate with the rejected optional sentences removed, re-rendered and re-gated."""
        drop = {c.key for c in rejected}

        def keep(section: str, text: str) -> str:
            return " ".join(s for i, s in enumerate(sentences(text)) if f"{section}.{i + 1}" not in drop)

        trimmed = replace(content, summary=keep("summary", content.summary),
                          description=keep("description", content.description))
        redone = rerender(trimmed)
        names = {g.name for g in redone.gates}
        redone.gates = [g for g in evaluation.gates if g.name not in names] + redone.gates
        redone.state = ClaimState(trimmed, [c for c in claims if c.key not in drop], rejected)
        redone.votes, redone.notes = evaluation.votes, evaluation.notes
        return redone

    def evidence(self, accepted: Evaluation) -> dict[str, Any]:
        state = accepted.state
        if not isinstance(state, ClaimState):
            return {}
        evidence: dict[str, Any] = {"claims": [c.record() for c in state.claims], "summary": summary_line(state.claims)}
        if state.removed:
            evidence["claims_removed"] = [{**c.record(), "how": "removed"} for c in state.removed]
        return evidence
