"""The refactor action on the scripted backend with real sandboxed pytest runs: the gates
(definition, signature, scope, changed, behaviour), feedback, characterization tests when no
test exercises the target, complexity before and after."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.actions.base import ActionInputError
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.types import ActionRequest
from swarm_lsp.swarm.settings import ActionOptions

CALC = textwrap.dedent('''\
    LIMIT = 10


    def classify(n):
        if n < 0:
            result = "negative"
        else:
            if n == 0:
                result = "zero"
            else:
                result = "positive"
        return result


    def untouched():
        return LIMIT
''')
TESTS = textwrap.dedent('''\
    from pkg.calc import classify


    def test_signs():
        assert [classify(-1), classify(0), classify(2)] == ["negative", "zero", "positive"]
''')
GOOD = '''```python
def classify(n):
    if n < 0:
        return "negative"
    return "zero" if n == 0 else "positive"
```'''
WRONG = GOOD.replace('"zero" if n == 0', '"zero" if n == 1')
NEW_SIGNATURE = GOOD.replace("def classify(n):", "def classify(n, strict=False):")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "calc.py").write_text(CALC)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(TESTS)
    return tmp_path


def request(project: Path, **options) -> ActionRequest:
    return ActionRequest("refactor", read_snapshot(project / "pkg" / "calc.py"), "classify",
                         workspace=str(project), options=ActionOptions(**{"instruction": "flatten the nesting", **options}))


def swarm_with(replies, candidates=3):
    backend = ScriptedBackend("llamacpp:scripted", replies)
    return Swarm(SwarmSettings(tiers=("llamacpp:scripted",), candidates=candidates), lambda name: backend), backend


async def test_a_rewrite_that_keeps_behaviour_is_accepted_with_complexity_and_tests(project):
    swarm, _ = swarm_with([GOOD])
    result = await swarm.run(request(project))
    assert result.status == "accepted", result.message
    new_text = result.edits[0].new_text
    assert 'return "zero" if n == 0 else "positive"' in new_text and new_text.endswith(CALC[CALC.index("def untouched"):])
    evidence = result.evidence
    assert evidence["tests_run"] == ["tests/test_calc.py::test_signs"] and evidence["characterization_tests"] is None
    assert evidence["complexity_before"] == 3 and evidence["complexity_after"] == 3
    assert [g.name for g in result.attempts[0].gates] == ["definition", "parses", "signature", "scope", "changed", "behaviour", "differential"]
    assert (project / "pkg" / "calc.py").read_text() == CALC


async def test_tests_that_reach_the_target_through_a_subclass_and_its_module_exercise_it(project):
    (project / "pkg" / "calc.py").write_text(CALC + "\n\nclass Base:\n    def sign(self, n):\n        return classify(n)\n"
                                             "\n\nclass Signs(Base):\n    pass\n")
    (project / "tests" / "test_calc.py").write_text(
        "import pkg.calc as calc\n\n\ndef test_signs():\n    assert calc.Signs().sign(-3) == 'negative'\n")
    swarm, _ = swarm_with(["```python\ndef sign(self, n):\n    result = classify(n)\n    return result\n```"])
    result = await swarm.run(ActionRequest("refactor", read_snapshot(project / "pkg" / "calc.py"), "Base.sign",
                                           workspace=str(project), options=ActionOptions(instruction="name it")))
    assert result.status == "accepted", result.message  # `Base` is not in the tests; its module is
    assert result.evidence["tests_run"] == ["tests/test_calc.py::test_signs"]
    assert result.evidence["characterization_tests"] is None


async def test_changed_behaviour_and_signature_are_refused_and_fed_back(project):
    swarm, backend = swarm_with([WRONG, NEW_SIGNATURE, GOOD])
    result = await swarm.run(request(project))
    assert result.status == "accepted" and len(result.attempts) == 3
    behaviour = result.attempts[0].gates[-1]
    assert behaviour.name == "behaviour" and not behaviour.passed and "test_signs" in behaviour.reasons[0]
    signature = next(g for g in result.attempts[1].gates if g.name == "signature")
    assert not signature.passed and "strict=False" in signature.reasons[0]
    assert "test_signs" in backend.calls[1]["messages"][-1]["content"]


async def test_the_instruction_may_ask_for_a_new_signature(project):
    swarm, _ = swarm_with([NEW_SIGNATURE])
    result = await swarm.run(request(project, instruction="add a keyword parameter strict"))
    assert result.status == "accepted" and result.evidence["signature_may_change"] is True


async def test_an_unchanged_or_foreign_definition_is_refused(project):
    same = "```python\n" + CALC[CALC.index("def classify"):CALC.index("\n\ndef untouched")] + "\n```"
    swarm, _ = swarm_with([same, "```python\ndef other(n):\n    return n\n```"], candidates=2)
    result = await swarm.run(request(project))
    assert result.status == "rejected"
    assert [g.name for g in result.attempts[0].gates if not g.passed] == ["changed"]
    assert [g.name for g in result.attempts[1].gates] == ["definition"]


async def test_without_tests_characterization_tests_are_generated_first(project):
    (project / "tests" / "test_calc.py").unlink()
    characterization = ("```python\nfrom pkg.calc import classify\n\ndef test_negative():\n    assert classify(-3) == 'negative'\n\n"
                        "def test_zero():\n    assert classify(0) == 'zero'\n\ndef test_positive():\n    assert classify(4) == 'positive'\n```")
    swarm, _ = swarm_with([characterization, WRONG, GOOD])
    result = await swarm.run(request(project))
    assert result.status == "accepted", result.message
    evidence = result.evidence
    assert evidence["characterization_tests"] == "tests/test_calc.py"
    assert "def test_zero" in evidence["characterization_module"]
    assert "tests/test_calc.py::test_zero" in evidence["tests_run"]
    assert not result.attempts[0].passed  # WRONG broke a characterization test
    assert result.usage.by_model["llamacpp:scripted"].calls == 3  # the tests action's call is counted too


async def test_no_characterization_tests_means_no_refactor(project):
    (project / "tests" / "test_calc.py").unlink()
    swarm, _ = swarm_with(["no code here", "```python\ndef test_x(:\n```", "nothing"])
    result = await swarm.run(request(project))
    assert result.status == "rejected" and "a refactor without tests is not offered" in result.message


@pytest.mark.parametrize("options, message", [({"instruction": ""}, "needs an instruction or a preset"),
                                              ({"instruction": "", "preset": "shrink"}, "unknown preset")])
async def test_bad_requests_are_input_errors(project, options, message):
    with pytest.raises(ActionInputError, match=message):
        await swarm_with([])[0].run(request(project, **options))


async def test_cancelling_while_the_characterization_tests_are_written_cancels_the_refactor(project):
    from swarm_lsp.swarm.cancel import CancelToken

    (project / "tests" / "test_calc.py").unlink()
    cancel = CancelToken()

    def cancel_then_reply(messages):
        cancel.cancel()
        return "```python\nfrom pkg.calc import classify\n\ndef test_zero():\n    assert classify(0) == 'zero'\n```"

    swarm, _ = swarm_with(cancel_then_reply)
    result = await swarm.run(request(project), cancel=cancel)
    assert result.status == "cancelled" and result.edits == []
