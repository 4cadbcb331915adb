"""The differential check through the refactor action (scripted writer, real sandboxed pytest and
real side-by-side runs): rewrites that pass the project's tests but change behaviour are refused
with the smallest counterexample fed back; preserving ones are accepted with the inputs reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.settings import ActionOptions
from swarm_lsp.swarm.types import ActionRequest

SHOP = textwrap.dedent('''\
    import random
    import threading
    from collections import namedtuple

    Address = namedtuple("Address", "host port")

    LIMIT = 9


    def first_or_zero(items):
        return items[0] if items else 0


    def sorted_copy(items):
        return sorted(items)


    def rank(score: int) -> str:
        return "high" if score > LIMIT else "low"


    def jitter(x):
        return x + random.random()


    def render(address):
        return str(address.host) + (":" + str(address.port) if address.port is not None else "")


    def by_port(addresses):
        return sorted(addresses, key=lambda a: a.port)


    class Guarded:
        def __init__(self, n):
            self.n, self.lock = n, threading.Lock()

        def doubled(self):
            return self.n * 2


    class Meter:
        def __init__(self, start):
            self.value = start

        def peek(self, n):
            return self.value + n


    class Clamp:
        def __init__(self, minimum):
            self.minimum = minimum

        def clip(self, n):
            if self.minimum is not None and n < self.minimum:
                return self.minimum
            return n


    def level(text, floor=0):
        number = int(text)
        if floor is not None and number < floor:
            raise ValueError(text)
        return number


    def widest(*widths: int) -> int:
        best = max(widths, default=0)
        if best > LIMIT:
            raise OverflowError(best)
        return best


    def flags(**given):
        return sorted(name for name, value in given.items() if value is not None)


    def title(thing):
        return thing.name.title() if thing.name else ""


    def pairs(items):
        batch = []
        for item in items:
            batch.append(item)
            if len(batch) == 2:
                yield batch
                batch = []
        if batch:
            yield batch
''')
TESTS = textwrap.dedent('''\
    from shop import (Address, Clamp, Guarded, Meter, by_port, first_or_zero, flags, jitter, level, pairs, rank,
                      render, sorted_copy, title, widest)


    def test_first():
        assert first_or_zero([3, 1]) == 3

    def test_sorted():
        assert sorted_copy([2, 1]) == [1, 2]

    def test_rank():
        assert rank(20) == "high" and rank(1) == "low"

    def test_jitter():
        assert 1 <= jitter(1) < 2

    def test_render():
        assert render(Address("a", 80)) == "a:80"

    def test_meter():
        assert Meter(1).peek(2) == 3

    def test_guarded():
        assert Guarded(2).doubled() == 4

    def test_clamp():
        assert Clamp(5).clip(7) == 7 and Clamp(5).clip(3) == 5

    def test_level():
        assert level("3") == 3

    def test_widest():
        assert widest(2, 3) == 3

    def test_flags():
        assert flags(a=1, b=None) == ["a"]

    class Named:
        def __init__(self, name):
            self.name = name

    def test_title():
        assert title(Named("ann lee")) == "Ann Lee"

    def test_pairs():
        assert list(pairs([1, 2, 3])) == [[1, 2], [3]]

    def test_by_port():
        assert [a.host for a in by_port([Address("a", 2), Address("b", 1)])] == ["b", "a"]
''')


def write_project(folder: Path, shop: str, tests: str) -> Path:
    """A project in `folder`: the module `shop.py` and its tests in tests/test_shop.py."""
    (folder / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (folder / "shop.py").write_text(shop)
    (folder / "tests").mkdir()
    (folder / "tests" / "test_shop.py").write_text(tests)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, SHOP, TESTS)


async def refactor(project: Path, target: str, replies: list[str], **options):
    backend = ScriptedBackend("llamacpp:scripted", [f"```python\n{textwrap.dedent(r)}\n```" for r in replies])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:scripted",), candidates=len(replies)), lambda name: backend)
    request = ActionRequest("refactor", read_snapshot(project / "shop.py"), target, workspace=str(project),
                            options=ActionOptions(instruction="make it clearer", **options))
    return await swarm.run(request), backend


def gate(attempt, name):
    return next(g for g in attempt.gates if g.name == name)


async def rejected(project: Path, target: str, rewrite: str):
    """Refactor `target` to `rewrite` alone, which must be rejected: the result and the differential
    gate's first reason (the counterexample fed back)."""
    result, _ = await refactor(project, target, [rewrite])
    assert result.status == "rejected", result.evidence.get("differential")
    return result, gate(result.attempts[0], "differential").reasons[0]


async def test_dropped_empty_handling_is_refused_with_the_counterexample_fed_back(project):
    result, backend = await refactor(project, "first_or_zero", [
        "def first_or_zero(items):\n    return items[0]",
        "def first_or_zero(items):\n    if not items:\n        return 0\n    return items[0]",
    ])
    assert result.status == "accepted" and len(result.attempts) == 2
    refused = gate(result.attempts[0], "differential")
    assert gate(result.attempts[0], "behaviour").passed and not refused.passed
    assert refused.reasons[0].startswith("for first_or_zero([]) the original returns 0, the rewrite raises IndexError")
    assert "for first_or_zero([]) the original returns 0" in backend.calls[1]["messages"][-1]["content"]
    differential = result.evidence["differential"]
    assert differential["status"] == "same" and differential["divergences"] == []
    assert differential["inputs"]["observed"] == 1 and differential["inputs"]["boundary"] >= 1


async def test_an_argument_mutated_in_place_is_a_divergence(project):
    _, reason = await rejected(project, "sorted_copy", "def sorted_copy(items):\n    items.sort()\n    return items")
    assert "the original returns [" in reason and "; items is then" in reason


async def test_a_moved_boundary_is_found_from_the_code_constant(project):
    result, _ = await refactor(project, "rank", ['def rank(score: int) -> str:\n    return "high" if score >= LIMIT else "low"'])
    assert result.status == "rejected"
    assert gate(result.attempts[0], "differential").reasons[0].startswith(
        "for rank(9) the original returns 'low', the rewrite returns 'high'")


async def test_a_nondeterministic_original_is_not_held_against_the_rewrite(project):
    result, _ = await refactor(project, "jitter", ["def jitter(x):\n    noise = random.random()\n    return x + noise"])
    assert result.status == "accepted", result.message
    assert result.evidence["differential"]["nondeterministic_inputs"] > 0


async def test_a_method_runs_on_the_instance_the_tests_built(project):
    _, reason = await rejected(project, "Meter.peek", "def peek(self, n):\n    self.value += n\n    return self.value")
    assert reason.startswith("for peek(Meter(value=1), 2) the original returns 3; self is then Meter(value=1), "
                             "the rewrite returns 3; self is then Meter(value=3)")


async def test_what_cannot_run_falls_back_to_the_tests_and_says_why(project):
    (project / "tests" / "test_shop.py").write_text(TESTS.replace("Meter(1).peek(2) == 3", "Meter.peek.__name__ == 'peek'"))
    result, _ = await refactor(project, "Meter.peek", ["def peek(self, n):\n    total = self.value + n\n    return total"])
    assert result.status == "accepted", result.message
    assert result.evidence["differential"]["status"] == "not_run"
    assert "no instance" in result.evidence["differential"]["reason"]
    result, _ = await refactor(project, "first_or_zero", ["def first_or_zero(items):\n    return items[0]"],
                               differential_inputs=0)
    assert result.status == "accepted" and result.evidence["differential"]["reason"] == "differential_inputs is 0"


async def test_an_attribute_that_cannot_be_pickled_is_a_stand_in_and_the_rest_is_compared(project):
    result, _ = await refactor(project, "Guarded.doubled", ["def doubled(self):\n    return self.n * 2 if self.n > 0 else 0",
                                                            "def doubled(self):\n    return self.n + self.n"])
    assert result.status == "accepted" and len(result.attempts) == 2, result.message
    assert gate(result.attempts[0], "differential").reasons[0].startswith(
        "for doubled(Guarded(n=-1, lock=<not recorded: lock>)) the original returns -2, the rewrite returns 0")
    differential = result.evidence["differential"]
    assert differential["status"] == "same" and differential["attributes_not_recorded"] == ["lock"]


async def test_an_attribute_of_an_object_argument_is_varied_too(project):
    result, _ = await refactor(project, "render", ["def render(address):\n    return f'{address.host}:{address.port}'"])
    assert result.status == "rejected"
    assert gate(result.attempts[0], "differential").reasons[0].startswith(
        "for render(Address(host='a', port=None)) the original returns 'a', the rewrite returns 'a:None'")


async def test_equal_objects_in_another_order_are_a_divergence_and_a_stable_copy_is_not(project):
    result, _ = await refactor(project, "by_port", [
        "def by_port(addresses):\n    return sorted(addresses, key=lambda a: a.port, reverse=True)[::-1]",
        "def by_port(addresses):\n    ordered = list(addresses)\n    ordered.sort(key=lambda a: a.port)\n    return ordered",
    ])
    assert result.status == "accepted" and len(result.attempts) == 2  # the stable in-place sort of a copy
    reason = gate(result.attempts[0], "differential").reasons[0]
    # the tests' list with one item's port set to the other's: the two tied items swap places
    assert reason.startswith("for by_port([Address(host='a', port=1), Address(host='b', port=1)]) the original "
                             "returns [Address(host='a', port=1), Address(host='b', port=1)], the rewrite returns "
                             "[Address(host='b', port=1), Address(host='a', port=1)]"), reason
    assert result.evidence["differential"]["status"] == "same"


async def test_a_zero_attribute_with_a_negative_argument_shows_a_truthiness_test(project):
    # Neither change alone shows `self.minimum and` for `self.minimum is not None and`: the pair does.
    _, reason = await rejected(project, "Clamp.clip", "def clip(self, n):\n    if self.minimum and n < self.minimum:\n"
                                                      "        return self.minimum\n    return n")
    assert "the original returns 0, the rewrite returns -1" in reason, reason


async def test_a_number_written_as_text_is_tried_below_zero(project):
    _, reason = await rejected(project, "level", "def level(text, floor=0):\n    number = int(text)\n"
                                                 "    if floor and number < floor:\n"
                                                 "        raise ValueError(text)\n    return number")
    assert reason.startswith("for level('-") and "the original raises ValueError" in reason, reason


async def test_each_item_of_star_args_takes_the_boundary_values_and_none_at_all(project):
    moved = "def widest(*widths: int) -> int:\n    best = max(widths, default=0)\n" \
            "    if best >= LIMIT:\n        raise OverflowError(best)\n    return best"
    no_default = "def widest(*widths: int) -> int:\n    best = max(widths)\n" \
                 "    if best > LIMIT:\n        raise OverflowError(best)\n    return best"
    for rewrite, expected in ((moved, "for widest(9, 3) the original returns 9, the rewrite raises OverflowError"),
                              (no_default, "for widest() the original returns 0, the rewrite raises ValueError")):
        result, reason = await rejected(project, "widest", rewrite)
        assert reason.startswith(expected), reason
        assert result.evidence["differential"]["inputs"]["generated"] > 0  # tuples of the observed length


async def test_each_value_of_star_star_kwargs_is_varied(project):
    _, reason = await rejected(project, "flags",
                               "def flags(**given):\n    return sorted(name for name, value in given.items() if value)")
    assert "the original returns ['a'], the rewrite returns []" in reason, reason


async def test_a_generator_is_compared_by_what_it_yields(project):
    always = "def pairs(items):\n    batch = []\n    for item in items:\n        batch.append(item)\n" \
             "        if len(batch) == 2:\n            yield batch\n            batch = []\n    yield batch"
    _, reason = await rejected(project, "pairs", always)
    assert reason.startswith("for pairs([]) the original yields [], the rewrite yields [[]]"), reason
    same, _ = await refactor(project, "pairs", [
        "def pairs(items):\n    for start in range(0, len(items), 2):\n        yield items[start:start + 2]"])
    assert same.status == "accepted", same.message


async def test_an_argument_of_a_class_the_test_module_defines_is_rebuilt_and_varied(project):
    _, reason = await rejected(project, "title", "def title(thing):\n    return thing.name.title()")
    assert "the original returns ''" in reason, reason


def test_string_variants_empty_a_word_first_then_cut_and_drop():
    from swarm_lsp.swarm.verify.differential_inputs import boundary_values
    from swarm_lsp.swarm.verify.differential_variants import string_variants

    assert string_variants('charset="utf-8"')[:3] == ['="utf-8"', 'charset=""', 'charset="utf-x"']
    assert b'type=""' in boundary_values([b'type="x"'], None, [])
    assert string_variants('"""one\ntwo"""')[-5:] == ['"', '""', '"""', '"""one\n',  # cut after a separator
                                                    '"one\ntwo"""']  # or started at one
    assert boundary_values([7], None, [9])[:4] == [None, 8, 9, 10]
    assert boundary_values(["3"], None, [])[3:6] == ["2", "4", "-3"]  # after None, "" and " ": the neighbours


async def test_cancelling_while_the_two_sides_run_cancels_the_refactor(project, monkeypatch):
    from swarm_lsp.swarm.cancel import CancelToken
    from swarm_lsp.swarm.verify.differential import DifferentialCheck

    cancel, entered = CancelToken(), []
    original_check = DifferentialCheck.check

    def cancelled_first(self, new_text, token=None):
        entered.append(new_text)
        cancel.cancel()  # set before the two sides start: they never do
        return original_check(self, new_text, token)

    monkeypatch.setattr(DifferentialCheck, "check", cancelled_first)
    backend = ScriptedBackend("llamacpp:scripted", ["```python\ndef first_or_zero(items):\n    return items[0]\n```"])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:scripted",), candidates=1), lambda name: backend)
    request = ActionRequest("refactor", read_snapshot(project / "shop.py"), "first_or_zero", workspace=str(project),
                            options=ActionOptions(instruction="make it clearer"))
    result = await swarm.run(request, cancel=cancel)
    assert len(entered) == 1 and result.status == "cancelled" and result.edits == []


async def test_inputs_whose_arguments_cannot_be_built_leave_the_tests_to_judge(project, monkeypatch):
    from swarm_lsp.swarm.verify import differential

    real_prepare = differential.DifferentialCheck.prepare

    def unbuildable(self, exercising, cancel=None):
        real_prepare(self, exercising, cancel)
        self.inputs = [{"source": "generated", "base": None, "set": {"items": "undefined_name"}}]

    monkeypatch.setattr(differential.DifferentialCheck, "prepare", unbuildable)
    result, _ = await refactor(project, "first_or_zero", ["def first_or_zero(items):\n    return items[0]"])
    assert result.status == "accepted"  # the tests pass; nothing else could be compared
    evidence = result.evidence["differential"]
    assert evidence["status"] == "not_run" and evidence["skipped_inputs"] == 1
    assert evidence["reason"].startswith("no input could be run (arguments not built: NameError")
