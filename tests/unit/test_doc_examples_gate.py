"""Executable documentation (issue 15, step 2): example calls run in a real sandbox, their real
results shown, raise claims executed. The writer is scripted (it proposes the calls a model
would); the sandbox, the subprocesses and the doctest runs are real."""

from __future__ import annotations

from pathlib import Path

from swarm_lsp.swarm.actions.doc_examples_check import CallTarget, check_examples, confirm_doctest
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.codemods.content import DocContent
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.settings import ActionOptions
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot
from swarm_lsp.swarm.verify.doc_examples import ExampleRunner

SOURCE = '''def scale(values, factor=2):
    if factor == 0:
        raise ValueError("factor must not be zero")
    return [v * factor for v in values]


class Stack:
    def __init__(self, items):
        self.items = list(items)

    def pop(self):
        if not self.items:
            raise IndexError("pop from an empty stack")
        return self.items.pop()
'''
WRITER = {
    "summary": "Multiply every value by a factor.",
    "params": {"values": "The numbers to scale.", "factor": "The multiplier."},
    "returns": "A new list of the scaled numbers.",
    "raises": {"ValueError": "If factor is zero."},
    "examples": ["scale([1, 2], 3)", "scale([1.5])", "scale([], 0)", "print('hi')"],
    "raise_examples": {"ValueError": "scale([1], 0)"},
}
# The calls the writer proposes before it writes: run in the sandbox, their results shown to it
# (not the misuse: scale(None) fails with a TypeError the function does not raise itself).
PROBE = {"calls": ["scale([1, 2], 3)", "scale([], 0)", "scale(None)", "print('hi')"]}
OBSERVED = ["`scale([1, 2], 3)` returned [3, 6]", "`scale([], 0)` raised ValueError: factor must not be zero"]


def observed_request(root: Path, source: str = SOURCE) -> ActionRequest:
    """Document `scale` with doc_examples = "observed": calls run and shown to the writer first."""
    return ActionRequest("document", DocumentSnapshot("pkg/numbers.py", source, 1), "scale", workspace=str(root),
                         options=ActionOptions(doc_examples="observed"))


def workspace(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "numbers.py").write_text(SOURCE)
    return tmp_path


def runner(tmp_path: Path) -> ExampleRunner:
    return ExampleRunner(workspace(tmp_path), "pkg/numbers.py", SOURCE, "pkg.numbers")


def test_examples_show_the_results_the_real_code_returned(tmp_path):
    with runner(tmp_path) as run:
        check = check_examples(run, DocContent.from_json(WRITER), CallTarget("scale", method=False), None)
    assert check.gate.passed
    assert check.examples == [("scale([1, 2], 3)", "[3, 6]"), ("scale([1.5])", "[3.0]")]
    assert check.raised == {"ValueError": "`scale([1], 0)` raised ValueError"}
    assert any("`scale([], 0)` raised ValueError" in note and "dropped" in note for note in check.notes)
    assert any("`print('hi')` does not call `scale`" in note for note in check.notes)


def test_a_wrong_exception_condition_is_caught_by_running_its_call(tmp_path):
    wrong = {**WRITER, "raises": {"ValueError": "If values is empty."}, "raise_examples": {"ValueError": "scale([])"}}
    with runner(tmp_path) as run:
        check = check_examples(run, DocContent.from_json(wrong), CallTarget("scale", method=False), None)
    assert not check.gate.passed and check.raised == {}
    [reason] = check.gate.reasons
    assert "`scale([])`, given as a call that raises ValueError, returned []" in reason


def test_a_raise_call_that_raises_another_type_is_caught(tmp_path):
    wrong = {**WRITER, "raise_examples": {"ValueError": "scale(None)"}}
    with runner(tmp_path) as run:
        check = check_examples(run, DocContent.from_json(wrong), CallTarget("scale", method=False), None)
    assert not check.gate.passed and "raised TypeError" in check.gate.reasons[0]


def test_method_examples_build_their_instance(tmp_path):
    content = DocContent.from_json({"summary": "Pop.", "raises": {"IndexError": "When empty."},
                                    "examples": ["Stack([1, 2]).pop()", "pop()"],
                                    "raise_examples": {"IndexError": "Stack([]).pop()"}})
    with runner(tmp_path) as run:
        check = check_examples(run, content, CallTarget("pop", method=True), None)
    assert check.examples == [("Stack([1, 2]).pop()", "2")]
    assert check.raised == {"IndexError": "`Stack([]).pop()` raised IndexError"}


def test_a_wrong_example_in_the_docstring_is_dropped_by_the_doctest(tmp_path):
    docstring = "Scale.\n\n>>> scale([1, 2], 3)\n[3, 6]\n>>> scale([1], 5)\n[6]\n"
    with runner(tmp_path) as run:
        kept, notes = confirm_doctest(run, docstring, [("scale([1, 2], 3)", "[3, 6]"), ("scale([1], 5)", "[6]")], None)
    assert kept == [("scale([1, 2], 3)", "[3, 6]")]
    assert notes == ["the example `scale([1], 5)` gave a different result in a fresh process: dropped"]


async def test_the_document_action_renders_executed_examples_and_reports_its_claims(tmp_path):
    root = workspace(tmp_path)
    before = (root / "pkg" / "numbers.py").read_bytes()
    writer = ScriptedBackend("llamacpp:writer", [WRITER])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:writer",), candidates=1), {"llamacpp:writer": writer}.__getitem__)
    request = ActionRequest("document", DocumentSnapshot("pkg/numbers.py", SOURCE, 1), "scale", workspace=str(root))
    result = await swarm.run(request)
    assert result.status == "accepted"
    [candidate] = writer.calls  # "verified" runs no calls before writing
    assert "raise_examples" in candidate["schema"]["properties"]
    new_text = result.edits[0].new_text
    assert "    Examples:\n        >>> scale([1, 2], 3)\n        [3, 6]\n        >>> scale([1.5])\n        [3.0]\n" in new_text
    claims = {c["section"] + ":" + c["claim"].split(":")[0]: c["how"] for c in result.evidence["claims"]}
    assert claims["raises:Raises ValueError"] == "executed"
    assert [c["how"] for c in result.evidence["claims"] if c["section"] == "example"] == ["executed", "executed"]
    assert result.evidence["summary"] == "3 of 7 claims verified (3 executed)"
    assert result.evidence["examples"] == {"mode": "verified", "calls_run": 4, "skipped": "", "observed": []}
    assert (root / "pkg" / "numbers.py").read_bytes() == before  # nothing ran in the user's tree


async def test_observed_shows_the_writer_what_its_calls_returned_before_it_writes(tmp_path):
    root = workspace(tmp_path)
    writer = ScriptedBackend("llamacpp:writer", [PROBE, WRITER])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:writer",), candidates=1), {"llamacpp:writer": writer}.__getitem__)
    result = await swarm.run(observed_request(root))
    assert result.status == "accepted"
    probe, candidate = writer.calls
    assert list(probe["schema"]["properties"]) == ["calls"] and probe["temperature"] == 0.0
    prompt = candidate["messages"][-1]["content"]
    assert "What `scale` really did when it was run" in prompt and all(f"- {line}\n" in prompt for line in OBSERVED)
    assert prompt.index(OBSERVED[0]) < prompt.index("Write its documentation")
    assert result.evidence["examples"] == {"mode": "verified", "calls_run": 7, "skipped": "", "observed": OBSERVED}


async def test_examples_off_asks_for_none_and_a_module_that_cannot_import_is_documented_in_prose(tmp_path):
    root = workspace(tmp_path)
    writer = ScriptedBackend("llamacpp:writer", [WRITER])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:writer",), candidates=1), {"llamacpp:writer": writer}.__getitem__)
    off = ActionRequest("document", DocumentSnapshot("pkg/numbers.py", SOURCE, 1), "scale", workspace=str(root),
                        options=ActionOptions(doc_examples="off"))
    result = await swarm.run(off)
    assert len(writer.calls) == 1  # no calls proposed to run first either
    assert "examples" not in writer.calls[0]["schema"]["properties"]
    assert "Examples:" not in result.edits[0].new_text
    assert result.evidence["examples"]["skipped"] == "doc_examples is off"

    broken = "import a_module_that_is_not_installed\n\n" + SOURCE
    writer = ScriptedBackend("llamacpp:writer", [PROBE, WRITER])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:writer",), candidates=1), {"llamacpp:writer": writer}.__getitem__)
    result = await swarm.run(observed_request(root, broken))
    assert result.status == "accepted" and "Examples:" not in result.edits[0].new_text
    assert "a_module_that_is_not_installed" in result.evidence["examples"]["skipped"]
    assert "examples" not in writer.calls[1]["schema"]["properties"]  # the probe found it out first


async def test_an_unusable_probe_leaves_the_writer_without_observations_and_the_next_tier_probes_again(tmp_path):
    root = workspace(tmp_path)
    first = ScriptedBackend("llamacpp:first", ["not json", {"summary": "x"}])
    second = ScriptedBackend("llamacpp:second", [PROBE, WRITER])
    backends = {"llamacpp:first": first, "llamacpp:second": second}
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:first", "llamacpp:second"), candidates=1), backends.__getitem__)
    result = await swarm.run(observed_request(root))
    assert result.status == "accepted" and result.tier == "llamacpp:second"
    assert "really did" not in first.calls[1]["messages"][-1]["content"]
    assert "really did" in second.calls[1]["messages"][-1]["content"]
    assert [a.tier for a in result.attempts] == ["llamacpp:first", "llamacpp:second"]  # probes are no attempts
    assert result.evidence["examples"]["observed"] == OBSERVED


async def test_claim_reviewers_see_what_running_the_examples_showed(tmp_path):
    root = workspace(tmp_path)
    writer = ScriptedBackend("llamacpp:writer", [PROBE, WRITER])
    reviewer = ScriptedBackend("ollama:reviewer", lambda messages: {"answer": "yes"})
    backends = {"llamacpp:writer": writer, "ollama:reviewer": reviewer}
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:writer",), candidates=1, reviewers=1,
                                reviewer_tiers=("ollama:reviewer",)), backends.__getitem__)
    result = await swarm.run(observed_request(root))
    assert result.status == "accepted"
    prompts = [call["messages"][-1]["content"] for call in reviewer.calls]
    assert len(prompts) == 4  # summary, two parameters, returns: the raise claim and the examples were executed
    assert all("What running it in a sandbox showed:\n- `scale([1, 2], 3)` returned [3, 6]\n"
               "- `scale([1.5])` returned [3.0]\n- `scale([1], 0)` raised ValueError\n"
               f"- {OBSERVED[1]}" in p for p in prompts)  # what ran before writing, without repeats
    assert result.evidence["summary"] == "7 of 7 claims verified (3 executed, 4 voted)"
