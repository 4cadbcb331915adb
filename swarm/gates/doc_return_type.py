"""The kind of value a docstring says a function returns, against what running it returned.

"Returns: a string ..." is a claim a run can refute: the calls run before writing and the
examples each returned a value of some type. When the described return starts with a plain type
word (a string, a list, True if ..., an integer, None) and a call returned a value of a type that
word cannot mean, the description is false whatever the rest of it says; a description that is only
a constant ("True") is refuted by a call that returned anything else. Agreeing runs prove nothing
general (a few inputs are not all inputs), so they settle no claim. What the code itself declares
does: a description that only restates the return annotation is "checked".

Conservative by design: a description that names alternatives ("a list or a string"), starts with
anything else ("The value ..."), or names a type these words do not cover, is not judged here.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from swarm_lsp.swarm.gates.doc_claims import find_function
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
_CONSTANT = re.compile(r"^\s*`?(true|false|none)`?\s*\.?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class StatedType:
    words: str  # the type words as written, e.g. "string"
    allowed: frozenset[str]  # class names a returned value's MRO must include one of


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
        return StatedType(match.group(0), allowed)
    return None


def returns_match_results(description: str, outcomes: list[CallOutcome]) -> GateResult:
    """Whether every value a call returned is of the kind (or the constant) the description states."""
    returned = [o for o in outcomes if o.status == "returned" and o.value_mro]
    constant = _CONSTANT.match(description)
    if constant and returned:
        value = constant.group(1).capitalize()  # "true" in prose is Python's True
        other = next((o for o in returned if o.value_repr != value), None)
        if other is not None:
            return _refuted(other, f"always {value}")
        return GateResult(GATE_NAME, True)
    stated = stated_type(description)
    if stated is None:
        return GateResult(GATE_NAME, True)
    wrong = next((o for o in returned if not stated.allowed & set(o.value_mro)), None)
    return _refuted(wrong, repr(stated.words)) if wrong else GateResult(GATE_NAME, True)


def _refuted(outcome: CallOutcome, described: str) -> GateResult:
    return GateResult(GATE_NAME, False, [
        f"`{outcome.call}` returned {outcome.value_repr[:60]} (of type {outcome.value_mro[0]}), but the return value "
        f"is described as {described}: describe what the function really returns"])


def restates_annotation(description: str, annotation: str) -> str:
    """What checked a description that only restates the return annotation ("" when it does more)."""
    if not annotation:
        return ""
    text = re.sub(r":class:|`", "", description).strip().rstrip(".").strip()
    text = re.sub(r"^(?:(?:a|an|the)\s+)?", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+(?:object|instance|value)$", "", text, flags=re.IGNORECASE)
    names = {annotation.strip("'\""), annotation.strip("'\"").rsplit(".", 1)[-1]}
    return f"the function's return annotation is `{annotation}`" if text in names else ""


def return_annotation(text: str, qualname: str) -> str:
    """The return annotation of `qualname` in the module `text`, as written ("" when none)."""
    try:
        function, _ = find_function(ast.parse(text), qualname)
    except SyntaxError:
        return ""
    return ast.unparse(function.returns) if function is not None and function.returns is not None else ""
