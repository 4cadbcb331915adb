"""A documentation candidate split into atomic claims, each with how it was verified.

One claim per summary or description sentence, per parameter line, for the return value, per
raised exception and per example. The split is deterministic (no model), so the same candidate
always yields the same claims and the reviewers vote on exactly what the reader will see.

How a claim was verified, strongest first:
- executed: an example or a raise claim ran in the sandbox and did what the docstring says;
- checked: the code itself settles all it states (a return that restates the return annotation);
- voted: the reviewer quorum approved it (with the votes);
- unverified: nothing settled it (no reviewers, or it could not be checked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from swarm_lsp.swarm.codemods.content import DocContent, DocFacts

HOW = ("executed", "checked", "voted", "unverified")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(])")
# "e.g. X", "i.e. Y", "vs. Z" do not end a sentence
_NOT_AN_END = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf|approx)\.$", re.IGNORECASE)


@dataclass
class DocClaim:
    key: str  # stable within a candidate: "summary.1", "param.max_len", "returns", "raises.ValueError"
    section: str  # summary | description | param | returns | raises | example
    text: str  # what the reader sees, e.g. "max_len: the longest slug returned"
    optional: bool = False  # may be removed when rejected (a sentence that is not the summary's first)
    how: str = "unverified"
    detail: str = ""  # what settled it, e.g. "slugify('') raised ValueError"
    votes: list[dict[str, Any]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"claim": self.text, "section": self.section, "how": self.how}
        if self.detail:
            record["detail"] = self.detail
        if self.votes:
            record["votes"] = self.votes
        return record


def sentences(text: str) -> list[str]:
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(" ".join(text.split())):
        if pieces and _NOT_AN_END.search(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"
        elif piece:
            pieces.append(piece)
    return pieces


def split_claims(content: DocContent, facts: DocFacts) -> list[DocClaim]:
    """The candidate's atomic claims, in reading order; only what renders (facts' parameters)."""
    claims = [DocClaim(f"summary.{i + 1}", "summary", s, optional=i > 0)
              for i, s in enumerate(sentences(content.summary))]
    claims += [DocClaim(f"description.{i + 1}", "description", s, optional=True)
               for i, s in enumerate(sentences(content.description))]
    by_name = {key.lstrip("*").strip("`"): text for key, text in content.params.items()}
    claims += [DocClaim(f"param.{name}", "param", f"{name}: {by_name[name]}")
               for name in facts.params if by_name.get(name, "").strip()]
    if facts.returns_value and facts.kind != "class" and content.returns.strip():
        claims.append(DocClaim("returns", "returns", f"Returns {content.returns}"))
    claims += [DocClaim(f"raises.{name}", "raises", f"Raises {name}: {text}")
               for name, text in content.raises.items() if text.strip()]
    claims += [DocClaim(f"example.{i + 1}", "example", f">>> {call}\n{result}", how="executed",
                        detail="run in the sandbox as a doctest")
               for i, (call, result) in enumerate(content.examples)]
    return claims


def summary_line(claims: list[DocClaim]) -> str:
    """One line for people: "5 of 6 claims verified (3 executed, 2 voted)"."""
    if not claims:
        return "no claims"
    counts = {how: sum(c.how == how for c in claims) for how in HOW}
    verified = len(claims) - counts["unverified"]
    parts = [f"{counts[how]} {how}" for how in HOW[:3] if counts[how]]
    line = f"{verified} of {len(claims)} claim{'s' if len(claims) != 1 else ''} verified"
    return f"{line} ({', '.join(parts)})" if parts else line
