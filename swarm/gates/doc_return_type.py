"""The kind of value a docstring says a function returns, against what running it returned.

"Returns: a string ..." is a claim the sandbox can settle: the calls run before writing and the
examples each returned a value of some type. When the described return starts with a plain type
word (a string, a list, True if ..., an integer, None) and a call returned a value of a type that
word cannot mean, the description is false whatever the rest of it says. A description that is only
that type ("A string.") and agrees with every returned value is settled: "checked".

Conservative by design: a description that names alternatives ("a list or a string"), starts with
anything else ("The value ..."), or names a type these words do not cover, is not judged here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from swarm_lsp.swarm.types import GateResult
from swarm_lsp.swarm.verify.doc_examples import CallOutcome

GATE_NAME = "returns_match_results"
# A leading type word -> class names (in the returned value's MRO) it can mean.
_TYPE_WORDS: list[tuple[str, frozenset[str]]] = [
    (r"(?:true|false|bool|boolean)\b", frozenset({"bool"})),
    (r"(?:byte|binary) ?strings?\b|bytes\b|bytestrings?\b", frozenset({"bytes", "bytearray"})),
    (r"(?:unicode |text )?strings?\b|str\b", frozenset({"str"})),
    (r"integers?\b|int\b", frozenset({"int"})),
    (r"float(?:ing[- ]point (?:number|value))?s?\b", frozenset({"float", "int"})),
    (r"lists?\b", frozenset({"list"})),
    (r"tuples?\b|pairs?\b", frozenset({"tuple"})),
    (r"dict(?:ionary|ionaries)?\b", frozenset({"dict"})),
    (r"sets?\b", frozenset({"set", "frozenset"})),
    (r"generators?\b", frozenset({"generator"})),
    (r"none\b", frozenset({"NoneType"})),
]
_LEAD = re.compile(r"^(?:returns?:?\s+)?(?:(?:a|an|the)\s+)?(?:(?:new|single|plain)\s+)?", re.IGNORECASE)
_ALTERNATIVES = re.compile(r"\bor\b(?!\s+none\b)|\beither\b|\bdepending\b", re.IGNORECASE)
_PURE = re.compile(r"^\s*(?:object|value|instance)?\s*\.?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class StatedType:
    words: str  # the type words as written, e.g. "string"
    allowed: frozenset[str]  # class names a returned value's MRO must include one of
    pure: bool  # the description is only the type ("A string.")


def stated_type(description: str) -> StatedType | None:
    """The type a return description starts with, or None when it does not start with one."""
    text = re.sub(r":class:|`", "", description).strip()
    lead = _LEAD.match(text)
    rest = text[lead.end():] if lead else text
    for pattern, allowed in _TYPE_WORDS:
        match = re.match(pattern, rest, re.IGNORECASE)
        if match is None:
            continue
        if _ALTERNATIVES.search(text) and not allowed == {"bool"}:  # "True if ..., False otherwise" is one type
            return None
        if re.search(r"\bnone\b", text, re.IGNORECASE):
            allowed = allowed | {"NoneType"}
        return StatedType(match.group(0), allowed, _PURE.match(rest[match.end():]) is not None)
    return None


def returns_match_results(description: str, outcomes: list[CallOutcome]) -> tuple[GateResult, str]:
    """The gate, and (when it settles the whole description) what checked it, else ""."""
    stated = stated_type(description)
    returned = [o for o in outcomes if o.status == "returned" and o.value_mro]
    if stated is None or not returned:
        return GateResult(GATE_NAME, True), ""
    wrong = [o for o in returned if not stated.allowed & set(o.value_mro)]
    if wrong:
        first = wrong[0]
        return GateResult(GATE_NAME, False, [
            f"`{first.call}` returned {first.value_repr[:60]} (of type {first.value_mro[0]}), but the return value is "
            f"described as {stated.words!r}: describe what the function really returns"]), ""
    if not stated.pure:
        return GateResult(GATE_NAME, True), ""
    kinds = sorted({o.value_mro[0] for o in returned})
    return GateResult(GATE_NAME, True), (f"every call run returned a {' or '.join(kinds)} "
                                         f"(`{returned[0].call}` returned {returned[0].value_repr[:40]})")
