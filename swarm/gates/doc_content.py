"""Gate on the writer's content before rendering: nothing cut off at a length limit, and every
description says something (a bare "-" or a repeated parameter name documents nothing)."""

from __future__ import annotations

import re

from swarm_lsp.swarm.codemods.content import DocContent, DocFacts
from swarm_lsp.swarm.types import GateResult

WORD = re.compile(r"[^\W\d_]{2,}")  # a run of two or more letters
# Decoding debris: braces, or a quoted key followed by a colon, e.g. `-}}},{'returns':`
STRUCTURE = re.compile(r"[{}]|[\'\"]\w+[\'\"]\s*:")


def _says_something(text: str, name: str = "") -> bool:
    if STRUCTURE.search(text):
        return False
    letters = sum(c.isalpha() or c.isspace() for c in text)
    if letters < 0.6 * len(text):  # mostly symbols or digits: not prose
        return False
    words = [w.lower() for w in WORD.findall(text)]
    return len(words) >= 2 or (len(words) == 1 and words[0] != name.lower() and len(words[0]) >= 4)


def content_gate(content: DocContent, facts: DocFacts, *, summary_max: int, field_max: int) -> GateResult:
    reasons: list[str] = []
    if len(content.summary) >= summary_max:
        reasons.append(f"the summary was cut off at {summary_max} characters: write a shorter one-sentence summary")
    elif not _says_something(content.summary, facts.name):
        reasons.append(f"the summary {content.summary!r} does not describe what `{facts.name}` does")
    described = [(f"parameter `{name}`", name, content.params.get(name, "")) for name in facts.params]
    described += [(f"exception `{name}`", name, content.raises.get(name, "")) for name in facts.raises]
    if facts.returns_value:
        described.append(("return value", "", content.returns))
    for label, name, text in described:
        if len(text) >= field_max:
            reasons.append(f"the description of the {label} was cut off: keep it under {field_max // 2} characters")
        elif not _says_something(text, name):
            reasons.append(f"the description of the {label} ({text!r}) says nothing: describe what it means")
    return GateResult("content", not reasons, reasons)
