"""The described return type against what running the function returned (gates/doc_return_type.py),
alone and in the document action with a real sandbox and a scripted writer."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.gates.doc_return_type import (
    restates_annotation, return_annotation, returns_match_results, stated_type,
)
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot
from swarm_lsp.swarm.verify.doc_examples import CallOutcome
from tests.unit.test_doc_examples_gate import SOURCE, WRITER, workspace


@pytest.mark.parametrize(("description", "allowed"), [
    ("A string.", {"str"}),
    ("str", {"str"}),
    ("The new string with the spaces removed", {"str"}),
    ("True if the label is valid, False otherwise.", {"bool"}),
    ("A :class:`list` of all the values for the key.", {"list"}),
    ("A binary string encoded with the given encoding", {"bytes", "bytearray"}),
    ("An integer", {"int"}),
    ("The average as a float", None),  # starts with "average": not judged
    ("A float", {"float", "int"}),
    ("A string, or None if the input is empty.", {"str", "NoneType"}),
    ("None", {"NoneType"}),
    ("A list or a string, depending on the input", None),
    ("The value of the option", None),
    ("A Markup object", None),
])
def test_the_stated_type_is_read_from_the_first_words_only(description, allowed):
    stated = stated_type(description)
    assert (stated is None) if allowed is None else (stated is not None and set(stated.allowed) == allowed)


def returned(call: str, value_repr: str, *mro: str) -> CallOutcome:
    return CallOutcome(call, "returned", value_repr=value_repr, value_mro=(*mro, "object"))


def test_a_returned_value_of_another_type_fails_with_the_call_that_showed_it():
    assert returns_match_results("The character at that position.", [returned("f('abc', 0)", "97", "int")]).passed
    gate = returns_match_results("A string with the character", [
        returned("f('abc', 1)", "'b'", "str"), returned("f('abc', 0)", "97", "int")])
    assert not gate.passed
    assert gate.reasons == ["`f('abc', 0)` returned 97 (of type int), but the return value is described as 'string': "
                            "describe what the function really returns"]


def test_subclasses_count_and_a_constant_is_refuted_by_any_other_value():
    markup = returned("escape('<')", "Markup('&lt;')", "Markup", "str")
    assert returns_match_results("A string.", [markup, CallOutcome("escape(1, 2)", "raised")]).passed
    assert returns_match_results("An integer", [returned("is_ok(1)", "True", "bool", "int")]).passed
    assert not returns_match_results("True if it is, False otherwise", [returned("n(1)", "1", "int")]).passed
    always = returns_match_results("True", [returned("ok('a')", "True", "bool"), returned("ok('a' * 300)", "False",
                                                                                          "bool")])
    assert not always.passed and "returned False (of type bool), but the return value is described as always True" \
        in always.reasons[0]
    lower = returns_match_results("true", [returned("valid(0xFFFF)", "False", "bool")])
    assert not lower.passed and "described as always True" in lower.reasons[0]
    assert returns_match_results("A string", []).passed


def test_only_a_restated_return_annotation_is_checked_against_the_code():
    source = "from typing import NewType\nName = NewType('Name', str)\n\n\ndef canon(n: str) -> 'Name':\n    return n\n"
    assert return_annotation(source, "canon") == "'Name'"
    assert restates_annotation("A `Name` object.", "'Name'") == "the function's return annotation is `'Name'`"
    assert restates_annotation("packaging.utils.Name", "Name") == ""  # not the annotation as written
    assert restates_annotation("The canonical Name", "'Name'") == ""  # says more than the annotation
    assert return_annotation("def f(x):\n    return x\n", "f") == "" and restates_annotation("A string", "") == ""


async def test_the_document_action_rejects_a_wrong_return_type_and_feeds_back_the_call(tmp_path):
    root = workspace(tmp_path)
    wrong = {**WRITER, "returns": "A string of the scaled numbers."}
    writer = ScriptedBackend("llamacpp:writer", [wrong, WRITER])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:writer",), candidates=2), {"llamacpp:writer": writer}.__getitem__)
    request = ActionRequest("document", DocumentSnapshot("pkg/numbers.py", SOURCE, 1), "scale", workspace=str(root))
    result = await swarm.run(request)
    assert result.status == "accepted"
    first, second = result.attempts
    [failed] = [g for g in first.gates if not g.passed]
    assert failed.name == "returns_match_results" and "`scale([1, 2], 3)` returned [3, 6] (of type list)" in failed.reasons[0]
    assert failed.reasons[0] in writer.calls[1]["messages"][-1]["content"]  # fed back to the next candidate
    [claim] = [c for c in result.evidence["claims"] if c["section"] == "returns"]
    assert claim["how"] == "unverified"  # two calls that returned lists prove nothing about all inputs


async def test_a_return_that_restates_the_annotation_is_checked(tmp_path):
    root = workspace(tmp_path)
    annotated = SOURCE.replace("def scale(values, factor=2):", "def scale(values, factor=2) -> list:")
    (root / "pkg" / "numbers.py").write_text(annotated)
    writer = ScriptedBackend("llamacpp:writer", [{**WRITER, "returns": "A list."}])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:writer",), candidates=1), {"llamacpp:writer": writer}.__getitem__)
    request = ActionRequest("document", DocumentSnapshot("pkg/numbers.py", annotated, 1), "scale", workspace=str(root))
    result = await swarm.run(request)
    [claim] = [c for c in result.evidence["claims"] if c["section"] == "returns"]
    assert (claim["how"], claim["detail"]) == ("checked", "the function's return annotation is `list`")
    assert result.evidence["summary"] == "4 of 7 claims verified (3 executed, 1 checked)"
