"""Deterministic gates for a Python docstring candidate, cheap to expensive.

Every failure reason is a sentence a writer model can act on. When the new text does not parse,
or no longer defines the target, the later gates are reported as failed with a "not run" reason
so the list always has the same gate names in the same order.
"""

from __future__ import annotations

import difflib

import libcst as cst

from ..codemods.content import DocFacts
from ..codemods.py_docstring import find_definition, strip_docstring
from ..docstyle import DocSections, parse_docstring_sections
from ..types import GateResult

GATE_NAMES = (
    "parses",
    "code_unchanged",
    "params_documented",
    "returns_documented",
    "raises_documented",
    "summary_present",
)
_PARAM_SECTION = {"google": "the Args section", "numpy": "the Parameters section", "rest": "a `:param` field"}
_RETURNS_SECTION = {"google": "a Returns: section", "numpy": "a Returns section", "rest": "a `:returns:` field"}
_RAISES_SECTION = {"google": "the Raises section", "numpy": "the Raises section", "rest": "a `:raises` field"}


def _gate(name: str, reasons: list[str]) -> GateResult:
    return GateResult(name=name, passed=not reasons, reasons=reasons)


def _parse_gate(new: str) -> tuple[GateResult, cst.Module | None]:
    # compile() first: CPython's messages are clearer than libcst's for the writer to act on.
    try:
        compile(new, "<candidate>", "exec", dont_inherit=True)
    except SyntaxError as error:
        source = (error.text or "").strip()
        where = f"line {error.lineno}" + (f" (`{source}`)" if source else "")
        return _gate("parses", [f"The edited file does not parse: {error.msg} at {where}."]), None
    except ValueError as error:  # e.g. a NUL byte in the source
        return _gate("parses", [f"The edited file does not parse: {error}."]), None
    try:
        module = cst.parse_module(new)
    except cst.ParserSyntaxError as error:
        reason = f"The edited file does not parse: line {error.raw_line}: {error.message}."
        return _gate("parses", [reason]), None
    return _gate("parses", []), module


def _code_unchanged_gate(original: str, new: str, qualname: str) -> GateResult:
    try:
        before = strip_docstring(original, qualname)
    except (LookupError, ValueError) as error:
        return _gate("code_unchanged", [f"Cannot compare: the original file is not usable ({error})."])
    after = strip_docstring(new, qualname)
    if before == after:
        return _gate("code_unchanged", [])
    changed = [
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    shown = "; ".join(f"`{line}`" for line in changed[:4])
    return _gate(
        "code_unchanged",
        [f"Only the docstring of `{qualname}` may change, but code changed too: {shown}."],
    )


def _params_gate(sections: DocSections, facts: DocFacts, style: str) -> GateResult:
    documented = set(sections.params)
    expected = set(facts.params)
    where = _PARAM_SECTION.get(style, "the parameter section")
    reasons = [
        f"Parameter `{name}` is not documented in {where}." for name in facts.params if name not in documented
    ]
    reasons += [
        f"`{name}` is documented but is not a parameter of `{facts.name}`; remove it."
        for name in dict.fromkeys(sections.params)
        if name not in expected
    ]
    return _gate("params_documented", reasons)


def _returns_gate(sections: DocSections, facts: DocFacts, style: str) -> GateResult:
    if facts.returns_value and not sections.has_returns:
        where = _RETURNS_SECTION.get(style, "a Returns section")
        return _gate(
            "returns_documented",
            [f"`{facts.name}` returns a value but the docstring has no non-empty Returns section; "
             f"add {where} saying what it returns (Yields for a generator)."],
        )
    return _gate("returns_documented", [])


def _raises_gate(sections: DocSections, facts: DocFacts, style: str) -> GateResult:
    named = set(sections.raises) | {name.rsplit(".", 1)[-1] for name in sections.raises}
    where = _RAISES_SECTION.get(style, "the Raises section")
    reasons = [
        f"`{facts.name}` raises `{exc}` but {where} does not name it; say when it is raised."
        for exc in facts.raises
        if exc not in named and exc.rsplit(".", 1)[-1] not in named
    ]
    return _gate("raises_documented", reasons)


def _summary_gate(sections: DocSections, facts: DocFacts, qualname: str) -> GateResult:
    summary = sections.summary.strip()
    if not summary:
        reason = "The docstring has no summary line; start with one sentence saying what it does."
        return _gate("summary_present", [reason])
    bare = summary.strip("`.:()* ").lower()
    if bare in {facts.name.lower(), qualname.lower()}:
        return _gate(
            "summary_present",
            [f"The summary line only repeats the name `{facts.name}`; say what it does in one sentence."],
        )
    return _gate("summary_present", [])


def _not_run(names: tuple[str, ...], why: str) -> list[GateResult]:
    return [GateResult(name=name, passed=False, reasons=[f"Not run: {why}."]) for name in names]


def python_doc_gates(
    original: str, new: str, qualname: str, facts: DocFacts, style: str
) -> list[GateResult]:
    """Check `new` (the file with the candidate docstring) against `original` and `facts`.

    Returns one GateResult per name in GATE_NAMES, in that order.
    """
    parsed, module = _parse_gate(new)
    if module is None:
        return [parsed, *_not_run(GATE_NAMES[1:], "the edited file does not parse")]
    try:
        target = find_definition(module, qualname)
    except LookupError:
        missing = GateResult("code_unchanged", False, [f"The edited file no longer defines `{qualname}`."])
        return [parsed, missing, *_not_run(GATE_NAMES[2:], f"`{qualname}` is missing")]
    results = [parsed, _code_unchanged_gate(original, new, qualname)]
    docstring = target.get_docstring(clean=True)
    if docstring is None:
        no_doc = f"`{qualname}` has no docstring; add one as the first statement of its body."
        return results + [GateResult(name, False, [no_doc]) for name in GATE_NAMES[2:]]
    sections = parse_docstring_sections(docstring, style)
    return results + [
        _params_gate(sections, facts, style),
        _returns_gate(sections, facts, style),
        _raises_gate(sections, facts, style),
        _summary_gate(sections, facts, qualname),
    ]
