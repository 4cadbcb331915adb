import dataclasses

import pytest

from swarm_lsp.swarm.codemods.content import DocContent
from swarm_lsp.swarm.codemods.py_docstring import apply_docstring, body_indent, python_doc_facts
from swarm_lsp.swarm.docstyle import render_docstring
from swarm_lsp.swarm.gates.python_doc import GATE_NAMES, python_doc_gates

ORIGINAL = '''import re


class Parser:
    def parse(self, text, *rest, strict=False, **options):
        if not text:
            raise ValueError("empty")
        if strict and not re.match(r"\\w+", text):
            raise errors.Invalid(text)
        return text.split()
'''
QUALNAME = "Parser.parse"
FACTS = python_doc_facts(ORIGINAL, QUALNAME)
GOOD = DocContent(
    summary="Split text into words.",
    params={"text": "The text.", "rest": "Ignored.", "strict": "Reject non-words.", "options": "Unused."},
    returns="The words.",
    raises={"ValueError": "If text is empty.", "errors.Invalid": "If strict and text is not a word."},
)


def candidate(docstring: str) -> str:
    return apply_docstring(ORIGINAL, QUALNAME, docstring)


def gates_for(new: str, style: str = "google", facts=FACTS) -> dict:
    results = python_doc_gates(ORIGINAL, new, QUALNAME, facts, style)
    assert [r.name for r in results] == list(GATE_NAMES)
    return {r.name: r for r in results}


def failed(results: dict) -> dict:
    return {name: r.reasons for name, r in results.items() if not r.passed}


@pytest.mark.parametrize("style", ["google", "numpy", "rest"])
def test_round_trip_passes_every_gate(style):
    literal = render_docstring(GOOD, FACTS, style, body_indent(ORIGINAL, QUALNAME))
    assert failed(gates_for(candidate(literal), style)) == {}


@pytest.mark.parametrize("style", ["google", "numpy", "rest"])
def test_round_trip_for_a_class_replacing_its_docstring(style):
    original = 'class Box:\n    """Old."""\n\n    def __init__(self, size, *items):\n        self.size = size\n'
    facts = python_doc_facts(original, "Box")
    content = DocContent("Hold items.", params={"size": "Capacity.", "items": "Initial items."})
    new = apply_docstring(original, "Box", render_docstring(content, facts, style, body_indent(original, "Box")))
    results = python_doc_gates(original, new, "Box", facts, style)
    assert [r.reasons for r in results if not r.passed] == []


def test_parses_fails_with_line_and_skips_the_rest():
    results = gates_for('class Parser:\n    def parse(self):\n        """Open.\n')
    assert not results["parses"].passed
    assert "line 3" in results["parses"].reasons[0]
    for name in GATE_NAMES[1:]:
        assert results[name].reasons == ["Not run: the edited file does not parse."]


def test_code_unchanged_fails_when_code_outside_the_docstring_changes():
    new = candidate('"""Split text."""').replace("return text.split()", "return text.split(',')")
    results = gates_for(new)
    assert results["parses"].passed
    [reason] = results["code_unchanged"].reasons
    assert "Only the docstring of `Parser.parse` may change" in reason
    assert "return text.split(',')" in reason


def test_missing_target_fails_code_unchanged():
    results = gates_for("import re\n")
    assert results["code_unchanged"].reasons == ["The edited file no longer defines `Parser.parse`."]
    assert results["summary_present"].reasons == ["Not run: `Parser.parse` is missing."]


def test_no_docstring_fails_documentation_gates():
    results = gates_for(ORIGINAL)
    assert results["code_unchanged"].passed
    assert "has no docstring" in results["params_documented"].reasons[0]


def test_params_documented_names_missing_and_invented_params():
    content = dataclasses.replace(GOOD, params={"text": "The text.", "strict": "Strict."})
    literal = render_docstring(content, FACTS, "google", "        ")
    literal = literal.replace("strict: Strict.", "strict: Strict.\n            verbose: Noise.")
    reasons = gates_for(candidate(literal))["params_documented"].reasons
    assert reasons == [
        "Parameter `rest` is not documented in the Args section.",
        "Parameter `options` is not documented in the Args section.",
        "`verbose` is documented but is not a parameter of `parse`; remove it.",
    ]


def test_returns_documented():
    content = dataclasses.replace(GOOD, returns="")
    results = gates_for(candidate(render_docstring(content, FACTS, "numpy", "        ")), "numpy")
    [reason] = results["returns_documented"].reasons
    assert "`parse` returns a value" in reason and "Returns section" in reason
    no_value = dataclasses.replace(FACTS, returns_value=False)
    assert gates_for(candidate(render_docstring(content, no_value, "numpy", "        ")), "numpy", no_value)[
        "returns_documented"
    ].passed


def test_raises_documented_accepts_the_short_name():
    content = dataclasses.replace(GOOD, raises={"Invalid": "If strict and text is not a word."})
    results = gates_for(candidate(render_docstring(content, FACTS, "rest", "        ")), "rest")
    assert results["raises_documented"].reasons == [
        "`parse` raises `ValueError` but a `:raises` field does not name it; say when it is raised."
    ]
    literal = '"""Split text.\n\n        Raises:\n            ValueError: Empty.\n            Invalid: Bad.\n        """'
    assert gates_for(candidate(literal))["raises_documented"].passed


@pytest.mark.parametrize(
    ("literal", "reason"),
    [
        ('"""parse."""', "The summary line only repeats the name `parse`; say what it does in one sentence."),
        ('"""`parse()`"""', "The summary line only repeats the name `parse`; say what it does in one sentence."),
        ('"""   """', "The docstring has no summary line; start with one sentence saying what it does."),
    ],
)
def test_summary_present_fails(literal, reason):
    assert gates_for(candidate(literal))["summary_present"].reasons == [reason]


def test_summary_present_passes():
    assert gates_for(candidate('"""Parse text."""'))["summary_present"].passed
