"""The described return type against what running the function returned (gates/doc_return_type.py),
alone and in the document action with a real sandbox and a scripted writer."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.gates.doc_return_type import returns_match_results, stated_type
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot
from swarm_lsp.swarm.verify.doc_examples import CallOutcome
from tests.unit.test_doc_examples_gate import PROBE, SOURCE, WRITER, workspace


@pytest.mark.parametrize(("description", "allowed", "pure"), [
    ("A string.", {"str"}, True),
    ("str", {"str"}, True),
    ("The new string with the spaces removed", {"str"}, False),
    ("True if the label is valid, False otherwise.", {"bool"}, False),
    ("A :class:`list` of all the values for the key.", {"list"}, False),
    ("A binary string encoded with the given encoding", {"bytes", "bytearray"}, False),
    ("An integer", {"int"}, True),
    ("The average as a float", None, None),  # starts with "average": not judged
    ("A float", {"float", "int"}, True),
    ("A string, or None if the input is empty.", {"str", "NoneType"}, False),
    ("None", {"NoneType"}, True),
    ("A list or a string, depending on the input", None, None),
    ("The value of the option", None, None),
    ("A Markup object", None, None),
])
def test_the_stated_type_is_read_from_the_first_words_only(description, allowed, pure):
    stated = stated_type(description)
    if allowed is None:
        assert stated is None
    else:
        assert stated is not None and (set(stated.allowed), stated.pure) == (allowed, pure)


def returned(call: str, value_repr: str, *mro: str) -> CallOutcome:
    return CallOutcome(call, "returned", value_repr=value_repr, value_mro=(*mro, "object"))


def test_a_returned_value_of_another_type_fails_with_the_call_that_showed_it():
    gate, checked = returns_match_results("The character at that position.", [returned("f('abc', 0)", "97", "int")])
    assert gate.passed and checked == ""  # "character" is no type word: not judged
    gate, checked = returns_match_results("A string with the character", [
        returned("f('abc', 1)", "'b'", "str"), returned("f('abc', 0)", "97", "int")])
    assert not gate.passed and checked == ""
    assert gate.reasons == ["`f('abc', 0)` returned 97 (of type int), but the return value is described as 'string': "
                            "describe what the function really returns"]


def test_subclasses_count_and_a_pure_type_that_every_call_agrees_with_is_checked():
    markup = returned("escape('<')", "Markup('&lt;')", "Markup", "str")
    gate, checked = returns_match_results("A string.", [markup, CallOutcome("escape(1, 2)", "raised")])
    assert gate.passed and checked == "every call run returned a Markup (`escape('<')` returned Markup('&lt;'))"
    gate, checked = returns_match_results("An integer", [returned("is_ok(1)", "True", "bool", "int")])
    assert gate.passed and checked.startswith("every call run returned a bool")
    gate, checked = returns_match_results("True if it is, False otherwise", [returned("n(1)", "1", "int")])
    assert not gate.passed  # 1 is not True
    assert returns_match_results("A string", []) == returns_match_results("A string", [CallOutcome("f()", "raised")])


async def test_the_document_action_rejects_a_wrong_return_type_and_marks_a_settled_one_checked(tmp_path):
    root = workspace(tmp_path)
    wrong = {**WRITER, "returns": "A string of the scaled numbers."}
    pure = {**WRITER, "returns": "A list."}
    writer = ScriptedBackend("llamacpp:writer", [PROBE, wrong, pure])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:writer",), candidates=2), {"llamacpp:writer": writer}.__getitem__)
    request = ActionRequest("document", DocumentSnapshot("pkg/numbers.py", SOURCE, 1), "scale", workspace=str(root))
    result = await swarm.run(request)
    assert result.status == "accepted"
    first, second = result.attempts
    [failed] = [g for g in first.gates if not g.passed]
    assert failed.name == "returns_match_results" and "`scale([1, 2], 3)` returned [3, 6] (of type list)" in failed.reasons[0]
    assert failed.reasons[0] in writer.calls[2]["messages"][-1]["content"]  # fed back to the next candidate
    [claim] = [c for c in result.evidence["claims"] if c["section"] == "returns"]
    assert claim["how"] == "checked" and claim["detail"].startswith("every call run returned a list")
    assert result.evidence["summary"] == "4 of 7 claims verified (3 executed, 1 checked)"
